"""The dashboard over plain HTTP (``/ui`` of a real ``mem0-mcp serve --transport http``, and
``mem0-mcp ui``): who may see what, refusal of cross-site writes, clear messages for bad
input with nothing changed, and the export — each checked against the store through the
MCP tools."""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dashboard_harness import Server, csrf_of, running_server, token_settings
from mcp_harness import MEM0_MCP, ToolFailed, call, connect, free_port, http_server, server_env

STATIC = Path(__file__).resolve().parents[1] / "src" / "mem0_mcp" / "ui" / "static"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def _seed(server: Server) -> None:
    ids = server.ids
    ids["tea"] = await server.add("Alice likes green tea", user_id="alice")
    ids["porto"] = await server.add(
        "Alice lives in Porto", user_id="alice", metadata={"topic": "home"}
    )
    # One call: four memories sharing one created_at (export must page through the tie).
    batch = await server.tool(
        "add_memory",
        messages=[{"role": "user", "content": f"Trip note {i} for May"} for i in range(4)],
        user_id="alice",
        agent_id="planner",
        infer=False,
    )
    ids.update({f"trip{i}": r["id"] for i, r in enumerate(batch["results"])})
    ids["jazz"] = await server.add("Bob plays jazz on Fridays", user_id="bob")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[Server]:
    # max_limit 3: the export pages through get_all with pages smaller than the scope.
    data = tmp_path_factory.mktemp("ui-http") / "data"
    with running_server(data, model_dir, MEM0_MCP_MAX_LIMIT="3") as running:
        asyncio.run(_seed(running))
        yield running


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("ui-tokens") / "data"
    with running_server(data, model_dir, **token_settings()) as running:
        asyncio.run(_seed(running))
        yield running


def _get(server: Server, path: str, token: str | None = None, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers=server.headers(token) | headers, timeout=30)


def _post(
    server: Server,
    path: str,
    data: dict[str, str],
    token: str | None = None,
    **headers: str,
) -> httpx.Response:
    origin = {"Origin": server.url}
    return httpx.post(
        f"{server.url}{path}",
        data=data,
        headers=origin | server.headers(token) | headers,
        timeout=30,
    )


def _csrf(server: Server, memory_id: str, token: str | None = None) -> str:
    return csrf_of(_get(server, f"/ui/memories/{memory_id}/edit", token).text)


# --- what is shown ---------------------------------------------------------------------------


def test_the_page_lists_scopes_with_counts_and_a_scopes_memories_only(server: Server) -> None:
    overview = _get(server, "/ui")
    assert overview.status_code == 200
    for name, count in (("alice", 6), ("bob", 1), ("planner", 4)):
        assert f'{name}</span> <span class="count">{count}<' in overview.text
    first = _get(server, "/ui?user_id=alice")  # pages of 3 (max_limit), newest first
    assert first.text.count('class="memory"') == 3 and "Alice lives in Porto" not in first.text
    assert 'href="/ui?user_id=alice&amp;offset=3">Older' in first.text
    second = _get(server, "/ui?user_id=alice&offset=3")
    assert second.text.count('class="memory"') == 3 and "Alice likes green tea" in second.text
    assert "Older" not in second.text and 'href="/ui?user_id=alice">← Newer' in second.text
    shown = first.text + second.text
    assert all(f"Trip note {i} for May" in shown for i in range(4))
    assert "Bob plays jazz" not in shown
    both = _get(server, "/ui?user_id=alice&agent_id=planner")
    assert both.text.count("Trip note") == 3 and "Alice lives in Porto" not in both.text


def test_every_dashboard_response_forbids_framing_inline_script_and_caching(
    server: Server,
) -> None:
    for path in ("/ui", "/ui?user_id=alice", f"/ui/memories/{UNKNOWN}", "/ui/static/htmx.min.js"):
        headers = _get(server, path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self';" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
    assert _get(server, "/ui").headers["cache-control"] == "no-store"


def test_the_root_leads_to_the_dashboard(server: Server) -> None:
    response = httpx.get(f"{server.url}/", timeout=10)
    assert response.status_code == 307 and response.headers["location"] == "/ui"


def test_a_request_naming_another_host_is_refused_against_dns_rebinding(server: Server) -> None:
    assert _get(server, "/ui", Host="evil.example").status_code == 421
    assert _get(server, "/ui", Origin="https://evil.example").status_code == 403


# --- writes: only from the dashboard's own page ----------------------------------------------


@pytest.mark.parametrize(
    "headers,fields",
    [
        ({"Origin": "https://evil.example"}, {}),
        ({"Origin": "null"}, {}),
        ({"Sec-Fetch-Site": "cross-site"}, {}),
        ({}, {"csrf": ""}),
        ({}, {"csrf": "0" * 32}),
    ],
    ids=["foreign-origin", "opaque-origin", "cross-site-fetch", "no-csrf", "wrong-csrf"],
)
async def test_a_cross_site_write_is_refused_and_changes_nothing(
    server: Server, headers: dict[str, str], fields: dict[str, str]
) -> None:
    memory_id = server.ids["tea"]
    form = {"csrf": _csrf(server, memory_id), "text": "pwned"} | fields
    for action in ("edit", "delete"):
        response = _post(server, f"/ui/memories/{memory_id}/{action}", form, **headers)
        assert response.status_code == 403, response.text
        assert "refused" in response.text
    assert await server.memory_text(memory_id) == "Alice likes green tea"


async def test_a_form_post_from_the_page_saves_through_update_and_is_in_the_history(
    server: Server,
) -> None:
    memory_id = await server.add("Bob's bike is red", user_id="bob")
    form = {"csrf": _csrf(server, memory_id), "text": "Bob's bike is blue", "metadata": ""}
    response = _post(server, f"/ui/memories/{memory_id}/edit", form)
    assert response.status_code == 200 and "Saved." in response.text
    assert await server.memory_text(memory_id) == "Bob's bike is blue"
    history = await server.tool("memory_history", memory_id=memory_id)
    update = history["results"][-1]
    assert (update["event"], update["old_memory"], update["new_memory"]) == (
        "UPDATE",
        "Bob's bike is red",
        "Bob's bike is blue",
    )


async def test_metadata_is_replaced_as_typed_and_kept_when_the_form_has_no_such_field(
    server: Server,
) -> None:
    memory_id = await server.add("Bob owns a cat", user_id="bob", metadata={"pet": "cat"})
    csrf = _csrf(server, memory_id)
    _post(server, f"/ui/memories/{memory_id}/edit", {"csrf": csrf, "text": "Bob owns two cats"})
    kept = await server.tool("get_memory", memory_id=memory_id)
    assert kept["metadata"] == {"pet": "cat"}
    form = {"csrf": csrf, "text": "Bob owns two cats", "metadata": '{"pets": 2}'}
    _post(server, f"/ui/memories/{memory_id}/edit", form)
    assert (await server.tool("get_memory", memory_id=memory_id))["metadata"] == {"pets": 2}


# --- bad input: a clear message, nothing changed ---------------------------------------------


@pytest.mark.parametrize("view", ["", "/history", "/edit", "/delete"])
def test_an_unknown_or_malformed_memory_id_is_named_in_the_answer(server: Server, view: str):
    unknown = _get(server, f"/ui/memories/{UNKNOWN}{view}")
    assert unknown.status_code == 404
    assert f"no memory with id &#39;{UNKNOWN}&#39; exists" in unknown.text
    malformed = _get(server, f"/ui/memories/not-an-id{view}")
    assert malformed.status_code == 400 and "is not a UUID" in malformed.text


def test_a_write_to_an_unknown_memory_is_a_404_with_its_id(server: Server) -> None:
    csrf = _csrf(server, server.ids["tea"])
    for action in ("edit", "delete"):
        response = _post(server, f"/ui/memories/{UNKNOWN}/{action}", {"csrf": csrf, "text": "x"})
        assert response.status_code == 404 and UNKNOWN in response.text


async def test_an_oversize_edit_is_refused_with_the_limit_and_changes_nothing(
    server: Server,
) -> None:
    memory_id = server.ids["porto"]
    csrf = _csrf(server, memory_id)
    too_long = _post(server, f"/ui/memories/{memory_id}/edit", {"csrf": csrf, "text": "x" * 70_000})
    assert too_long.status_code == 400
    assert "text: is 70000 bytes, over the 65536-byte limit" in too_long.text
    huge = _post(server, f"/ui/memories/{memory_id}/edit", {"csrf": csrf, "text": "x" * 5_000_000})
    assert huge.status_code == 413
    assert await server.memory_text(memory_id) == "Alice lives in Porto"


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"metadata": "{not json"}, "metadata: is not JSON"),
        ({"metadata": "[1, 2]"}, "metadata: must be a JSON object"),
        ({"text": "   "}, "text: is empty"),
    ],
)
async def test_a_bad_edit_names_the_field_and_changes_nothing(
    server: Server, fields: dict[str, str], message: str
) -> None:
    memory_id = server.ids["porto"]
    form = {"csrf": _csrf(server, memory_id), "text": "Alice lives in Braga"} | fields
    response = _post(server, f"/ui/memories/{memory_id}/edit", form)
    assert response.status_code == 400 and message in response.text
    assert await server.memory_text(memory_id) == "Alice lives in Porto"


def test_an_error_about_one_memory_is_aimed_at_that_memorys_error_slot(server: Server) -> None:
    response = _get(server, f"/ui/memories/{UNKNOWN}/history", **{"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == f"#error-{UNKNOWN}"
    assert "<html" not in response.text  # a fragment, not a page
    hostile = _get(
        server, "/ui/memories/x%0d%0aSet-Cookie:%20a=b/history", **{"HX-Request": "true"}
    )
    assert hostile.status_code == 400 and hostile.headers["hx-retarget"] == "#notice"
    assert "set-cookie" not in hostile.headers


@pytest.mark.parametrize(
    "query,message",
    [
        ("filters={not json", "filters: is not JSON"),
        ("filters=[1]", "filters: must be a JSON object"),
        ('filters={"topic": {"like": "x"}}', "like"),
        ("since=yesterday", "since: &#39;yesterday&#39; is not a date; use YYYY-MM-DD"),
        ("until=2026-13-01", "until: "),
        ("offset=-3", "offset: "),
        ("user_id=a%00b", "user_id: must be 1-256 printable characters"),
    ],
)
def test_bad_filters_dates_and_offsets_are_named_on_the_page(
    server: Server, query: str, message: str
) -> None:
    response = _get(server, f"/ui?user_id=alice&{query}")
    assert response.status_code == 400
    assert message in response.text


def test_filters_and_dates_narrow_the_list(server: Server) -> None:
    topic = _get(server, '/ui?user_id=alice&filters={"topic": "home"}')
    assert "Alice lives in Porto" in topic.text and "green tea" not in topic.text
    future = _get(server, "/ui?user_id=alice&since=2999-01-01")
    assert "No memories match these filters" in future.text


# --- export ----------------------------------------------------------------------------------


async def test_export_streams_every_memory_of_the_scope_newest_first_across_pages(
    server: Server,
) -> None:
    response = _get(server, "/ui/export?user_id=alice")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="memories-user_id-alice.jsonl"' in response.headers["content-disposition"]
    lines = [json.loads(line) for line in response.text.splitlines()]
    listed, offset = [], 0
    while offset is not None:  # the tool's own paging (max_limit 3)
        page = await server.tool("list_memories", user_id="alice", limit=3, offset=offset)
        listed += page["results"]
        offset = page.get("next_offset")
    assert [line["id"] for line in lines] == [item["id"] for item in listed]
    assert len(lines) == 6 and {line["user_id"] for line in lines} == {"alice"}
    assert set(lines[0]) >= {"id", "memory", "metadata", "created_at", "updated_at", "hash"}


def test_export_needs_a_scope(server: Server) -> None:
    response = _get(server, "/ui/export")
    assert response.status_code == 400 and "choose a user, agent or run" in response.text


# --- tokens ----------------------------------------------------------------------------------


def test_with_tokens_a_page_opened_in_a_browser_is_the_sign_in_page_and_shows_no_memory(
    token_server: Server,
) -> None:
    page = httpx.get(f"{token_server.url}/ui?user_id=alice", timeout=10)
    assert page.status_code == 200 and 'id="token"' in page.text
    assert "Alice" not in page.text and "alice" not in page.text.replace("user_id=alice", "")
    static = httpx.get(f"{token_server.url}/ui/static/dashboard.js", timeout=10)
    assert static.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"HX-Request": "true"}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}],
    ids=["htmx-without-token", "unknown-token", "not-bearer"],
)
def test_with_tokens_every_data_request_needs_a_known_token(
    token_server: Server, headers: dict[str, str]
) -> None:
    for path in ("/ui", "/ui/export?user_id=alice", f"/ui/memories/{token_server.ids['tea']}"):
        response = httpx.get(f"{token_server.url}{path}", headers=headers, timeout=10)
        assert response.status_code == 401, path
        assert "Alice" not in response.text


async def test_a_token_bound_to_alice_sees_only_alices_scope(token_server: Server) -> None:
    alice = "alice-token"
    page = _get(token_server, "/ui", alice)
    assert page.status_code == 200 and "Alice lives in Porto" in page.text
    assert "bob" not in page.text.lower()  # not in the scope list either
    other = _get(token_server, "/ui?user_id=bob", alice)
    assert other.status_code == 403
    assert "bound to user_id=&#39;alice&#39; and cannot act on user_id=&#39;bob&#39;" in other.text
    assert "Bob plays jazz" not in other.text
    bobs = token_server.ids["jazz"]
    for view in ("", "/history", "/edit", "/delete"):
        assert _get(token_server, f"/ui/memories/{bobs}{view}", alice).status_code == 404
    csrf = _csrf(token_server, token_server.ids["tea"], alice)
    for action in ("edit", "delete"):
        form = {"csrf": csrf, "text": "pwned"}
        response = _post(token_server, f"/ui/memories/{bobs}/{action}", form, alice)
        assert response.status_code == 404
    assert _get(token_server, "/ui/export?user_id=bob", alice).status_code == 403
    exported = _get(token_server, "/ui/export", alice).text.splitlines()
    assert len(exported) == 6  # the bound scope applies when none is named
    assert await token_server.memory_text(bobs) == "Bob plays jazz on Fridays"


def test_a_csrf_token_of_one_token_holder_does_not_work_for_another(token_server: Server) -> None:
    memory_id = token_server.ids["tea"]
    admins = _csrf(token_server, memory_id, "admin-token")
    response = _post(
        token_server, f"/ui/memories/{memory_id}/delete", {"csrf": admins}, "alice-token"
    )
    assert response.status_code == 403 and "csrf" in response.text


def test_an_unbound_token_sees_every_scope(token_server: Server) -> None:
    page = _get(token_server, "/ui?user_id=bob", "admin-token")
    assert page.status_code == 200 and "Bob plays jazz" in page.text
    assert ">alice</span>" in page.text


# --- read-only servers, the vendored library -------------------------------------------------


async def test_a_read_only_server_offers_no_edit_or_delete_and_refuses_writes(
    tmp_path: Path, model_dir: Path
) -> None:
    with running_server(tmp_path / "data", model_dir) as writable:
        memory_id = await writable.add("Carol likes chess", user_id="carol")
    with running_server(tmp_path / "data", model_dir, MEM0_MCP_READ_ONLY="true") as server:
        page = _get(server, "/ui?user_id=carol")
        assert "Carol likes chess" in page.text and ">History<" in page.text
        assert ">Edit<" not in page.text and ">Delete<" not in page.text
        assert _get(server, f"/ui/memories/{memory_id}/edit").status_code == 403
        response = _post(server, f"/ui/memories/{memory_id}/delete", {"csrf": "0" * 32})
        assert response.status_code == 403 and "read-only" in response.text
        assert await server.memory_text(memory_id) == "Carol likes chess"


def test_the_vendored_htmx_is_the_recorded_file_with_its_license_beside_it() -> None:
    recorded = (STATIC / "htmx.VENDORED.txt").read_text()
    digest = hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest()
    assert f"dist/htmx.min.js             sha256 {digest}" in recorded
    assert "Zero-Clause BSD" in (STATIC / "htmx.LICENSE.txt").read_text()


# --- mem0-mcp ui -----------------------------------------------------------------------------


async def test_mem0_mcp_ui_serves_the_store_of_a_running_stdio_server(
    tmp_path: Path, model_dir: Path
) -> None:
    """The dashboard process forwards to the stdio server that owns the data dir: what the
    stdio client adds is on the page at once, and a delete on the page is gone for it."""
    env = server_env(tmp_path / "data", model_dir)
    async with connect("stdio", env) as stdio:
        added = await call(stdio, "add_memory", text="Dana climbs on Sundays", user_id="dana")
        memory_id = added["results"][0]["id"]
        with http_server(env, transport="", server=(MEM0_MCP, "ui")) as url:
            dashboard = Server(url, env)
            page = _get(dashboard, "/ui?user_id=dana")
            assert "Dana climbs on Sundays" in page.text and ">dana</span>" in page.text
            confirm = _get(dashboard, f"/ui/memories/{memory_id}/delete")
            form = {"csrf": csrf_of(confirm.text)}
            response = _post(dashboard, f"/ui/memories/{memory_id}/delete", form)
            assert response.status_code == 200 and "Deleted" in response.text
        with pytest.raises(ToolFailed, match="no memory with id"):
            await call(stdio, "get_memory", memory_id=memory_id)


def test_mem0_mcp_ui_open_hands_the_url_to_the_web_browser(tmp_path: Path, model_dir: Path):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IEXEC)
    env = server_env(tmp_path / "data", model_dir, BROWSER=str(browser))
    port = free_port()
    with http_server(env, transport="", server=(MEM0_MCP, "ui", "--open"), port=port):
        deadline = time.monotonic() + 10
        while not (opened.exists() and opened.read_text().strip()):
            assert time.monotonic() < deadline, "the browser was never asked to open the page"
            time.sleep(0.05)
    assert opened.read_text().strip() == f"http://127.0.0.1:{port}/ui"
