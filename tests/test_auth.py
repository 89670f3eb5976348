"""Who may do what over HTTP: one identity per request from exactly one bearer token, sessions
that belong to the token that opened them, and bound tokens that never reach another scope —
over streamable HTTP and SSE, against a real `mem0-mcp serve` process."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_harness import MEM0_MCP, ToolFailed, call, free_port, http_server, server_env

TOKENS = {"alice-token": {"user_id": "alice"}, "bob-token": {"user_id": "bob"}, "admin": {}}
ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}
ACCEPT = {"Accept": "application/json, text/event-stream"}
TOOLS = [
    ("add_memory", {"text": "pwned", "user_id": "bob"}),
    ("search_memories", {"query": "secret", "user_id": "bob"}),
    ("update_memory", {"memory_id": "00000000-0000-0000-0000-000000000000", "text": "x"}),
    ("delete_memory", {"memory_id": "00000000-0000-0000-0000-000000000000"}),
    ("memory_history", {"memory_id": "00000000-0000-0000-0000-000000000000"}),
    ("get_memory", {"memory_id": "00000000-0000-0000-0000-000000000000"}),
    ("list_memories", {"user_id": "bob"}),
    ("delete_all_memories", {"user_id": "bob"}),
]


def _rpc(method: str, params: dict[str, Any] | None = None, id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": params or {}}


INIT = _rpc(
    "initialize",
    {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[str]:
    data = tmp_path_factory.mktemp("auth") / "data"
    env = server_env(data, model_dir, MEM0_MCP_AUTH_TOKENS=json.dumps(TOKENS))
    with http_server(env) as url:
        yield url


@asynccontextmanager
async def _session(url: str, token: str, transport: str = "streamable-http"):
    headers = {"Authorization": f"Bearer {token}"}
    if transport == "sse":
        streams = sse_client(f"{url}/sse", headers=headers)
    else:
        http = httpx.AsyncClient(headers=headers, timeout=30)
        streams = streamable_http_client(f"{url}/mcp", http_client=http)
    async with streams as (read, write, *_), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def _call(url: str, token: str, tool: str, transport: str = "streamable-http", **args):
    """One call in its own session; a tool error is raised after the session closes (inside
    it, the SDK's task groups would wrap it in an ExceptionGroup)."""
    async with _session(url, token, transport) as session:
        try:
            result: Any = await call(session, tool, **args)
        except ToolFailed as exc:
            result = exc
    if isinstance(result, ToolFailed):
        raise result
    return result


# -- one identity per request --------------------------------------------------------------


def test_requests_without_a_known_token_get_401_but_health_is_public(server_url: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic alice-token"}):
        response = httpx.post(f"{server_url}/mcp", json=INIT, headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{server_url}/sse", timeout=5).status_code == 401
    assert httpx.get(f"{server_url}/health", timeout=5).json()["status"] == "ok"


DUPLICATES = [
    ["Bearer bogus", "Bearer alice-token"],
    ["Bearer alice-token", "Bearer bogus"],
    ["Basic YWxpY2U6eA==", "Bearer alice-token"],
    ["Bearer alice-token", "Bearer admin"],
    ["Bearer admin", "Bearer alice-token"],
    ["Bearer alice-token", "Bearer alice-token"],
]


@pytest.mark.parametrize("values", DUPLICATES, ids=lambda v: " + ".join(x.split()[0] for x in v))
@pytest.mark.parametrize("tool,args", TOOLS, ids=[t for t, _ in TOOLS])
def test_two_authorization_headers_are_refused_on_every_endpoint(
    server_url: str, values: list[str], tool: str, args: dict[str, Any]
) -> None:
    headers = [("Authorization", v) for v in values] + list(ACCEPT.items())
    body = _rpc("tools/call", {"name": tool, "arguments": args})
    with httpx.Client(base_url=server_url, timeout=5) as http:
        responses = [
            http.post("/mcp", json=INIT, headers=headers),
            http.post("/mcp", json=body, headers=headers + [("mcp-session-id", "x" * 32)]),
            http.delete("/mcp", headers=headers + [("mcp-session-id", "x" * 32)]),
            http.get("/sse", headers=headers),
            http.post("/messages/?session_id=" + "0" * 32, json=body, headers=headers),
        ]
    for response in responses:
        assert response.status_code == 400, response.request.url
        assert "exactly one Authorization header" in response.text


MALFORMED = [
    "Bearer",
    "Bearer alice-token extra",
    "Bearer alice-token,Bearer bob-token",
    "Basic alice-token",
    "Token alice-token",
    "alice-token",
    "Bearer alice token",
]


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_authorization_header_is_401(server_url: str, value: str) -> None:
    headers = {"Authorization": value, **ACCEPT}
    assert httpx.post(f"{server_url}/mcp", json=INIT, headers=headers, timeout=5).status_code == 401
    assert httpx.get(f"{server_url}/sse", headers=headers, timeout=5).status_code == 401


# -- a bound token never reaches, and never silently redirects to, another scope ----------


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_a_token_bound_to_alice_never_reaches_bobs_memories(
    server_url: str, transport: str
) -> None:
    added = await _call(server_url, "bob-token", "add_memory", transport, text="bob's secret")
    bob_mid = added["results"][0]["id"]
    for tool, args in TOOLS:
        if "memory_id" in args:
            args = {**args, "memory_id": bob_mid}
        expected = "no memory with id" if "memory_id" in args else "bound to user_id='alice'"
        with pytest.raises(ToolFailed, match=expected):
            await _call(server_url, "alice-token", tool, transport, **args)
    still = await _call(server_url, "bob-token", "get_memory", transport, memory_id=bob_mid)
    assert still["memory"] == "bob's secret"
    history = await _call(server_url, "bob-token", "memory_history", memory_id=bob_mid)
    assert [e["event"] for e in history["results"]] == ["ADD"]


async def test_a_bound_token_acts_in_its_scope_when_the_call_names_none_or_its_own(
    server_url: str,
) -> None:
    added = await _call(server_url, "alice-token", "add_memory", text="alice likes figs")
    mid = added["results"][0]["id"]
    got = await _call(server_url, "admin", "get_memory", memory_id=mid)
    assert got["user_id"] == "alice"
    own = await _call(server_url, "alice-token", "search_memories", query="figs", user_id="alice")
    assert mid in [h["id"] for h in own["results"]]
    # Ids the binding leaves open narrow the call, as usual.
    narrowed = await _call(
        server_url, "alice-token", "list_memories", agent_id="planner", user_id="alice"
    )
    assert narrowed["results"] == []
    deleted = await _call(server_url, "alice-token", "delete_all_memories", agent_id="planner")
    assert deleted == {"deleted": 0}
    assert (await _call(server_url, "alice-token", "get_memory", memory_id=mid))["id"] == mid


# -- sessions belong to the token that opened them ----------------------------------------


def _open_streamable_session(http: httpx.Client, headers: dict[str, str]) -> str:
    response = http.post("/mcp", json=INIT, headers={**headers, **ACCEPT})
    assert response.status_code == 200
    sid = response.headers["mcp-session-id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    http.post("/mcp", json=initialized, headers={**headers, **ACCEPT, "mcp-session-id": sid})
    return sid


def _list_tools(http: httpx.Client, headers: dict[str, str], sid: str) -> httpx.Response:
    return http.post(
        "/mcp",
        json=_rpc("tools/list", id=2),
        headers={**headers, **ACCEPT, "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18"},
    )


def test_another_token_cannot_use_or_end_a_streamable_http_session(server_url: str) -> None:
    with httpx.Client(base_url=server_url, timeout=10) as http:
        sid = _open_streamable_session(http, ALICE)
        stolen = _list_tools(http, BOB, sid)
        assert stolen.status_code == 404
        ended = http.delete("/mcp", headers={**BOB, **ACCEPT, "mcp-session-id": sid})
        assert ended.status_code == 404
        # The owner's session is untouched.
        mine = _list_tools(http, ALICE, sid)
        assert mine.status_code == 200 and "search_memories" in mine.text
        assert http.delete("/mcp", headers={**ALICE, "mcp-session-id": sid}).status_code == 200


async def test_another_token_cannot_post_into_an_sse_session(server_url: str) -> None:
    async with httpx.AsyncClient(base_url=server_url, timeout=10) as http:
        async with http.stream("GET", "/sse", headers=ALICE) as stream:
            lines = stream.aiter_lines()
            endpoint = await _next_data(lines)
            assert "session_id=" in endpoint
            stolen = await http.post(endpoint, json=INIT, headers=BOB)
            assert stolen.status_code == 404
            accepted = await http.post(endpoint, json=INIT, headers=ALICE)
            assert accepted.status_code == 202
            reply = json.loads(await _next_data(lines))
            # Exactly one answer reached alice's stream: her own (bob's was never delivered).
            assert reply["id"] == 1 and "serverInfo" in reply["result"]
            second = await http.post(endpoint, json=_rpc("ping", id=7), headers=ALICE)
            assert second.status_code == 202
            assert json.loads(await _next_data(lines))["id"] == 7


async def _next_data(lines: AsyncIterator[str]) -> str:
    with anyio.fail_after(10):
        async for line in lines:
            if line.startswith("data: "):
                return line[len("data: ") :]
    raise AssertionError("the SSE stream ended")


# -- exposure ------------------------------------------------------------------------------


def test_serving_beyond_loopback_without_tokens_is_refused(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    proc = subprocess.run(
        [MEM0_MCP, "serve", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "MEM0_MCP_AUTH_TOKENS" in proc.stderr and "refusing" in proc.stderr


def test_dns_rebinding_host_header_is_rejected(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    with http_server(env) as url:
        response = httpx.post(
            f"{url}/mcp", json=INIT, timeout=5, headers={"Host": "evil.example.com", **ACCEPT}
        )
    assert response.status_code in (400, 403, 421)
