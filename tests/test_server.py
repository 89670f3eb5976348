"""The MCP server as a client sees it: a real `mem0-mcp serve` process, the real `mcp` SDK
client, each real transport (stdio, SSE, streamable HTTP)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack
from pathlib import Path

import pytest
from mcp.client.session import ClientSession
from mcp_harness import TRANSPORTS, ToolFailed, call, connect, health, http_server, server_env

OpenSession = Callable[[], AbstractAsyncContextManager[ClientSession]]

TOOLS = {
    "add_memory",
    "search_memories",
    "update_memory",
    "delete_memory",
    "memory_history",
    "get_memory",
    "list_memories",
    "delete_all_memories",
}


@pytest.fixture(params=TRANSPORTS)
def open_session(
    request: pytest.FixtureRequest, tmp_path: Path, model_dir: Path
) -> Iterator[Callable[[], AbstractAsyncContextManager[ClientSession]]]:
    """Opens a client session to a fresh server on each transport. (A factory rather than an
    async fixture: the SDK's task groups must be entered and left in the test's own task.)"""
    env = server_env(tmp_path / "data", model_dir)
    with ExitStack() as stack:
        url = None
        if request.param != "stdio":
            url = stack.enter_context(http_server(env, transport=request.param))
        yield lambda: connect(request.param, env, url=url)


async def test_tools_are_listed_with_schemas_and_hints(open_session: OpenSession) -> None:
    async with open_session() as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        assert tools["search_memories"].annotations.read_only_hint is True
        assert tools["delete_memory"].annotations.destructive_hint is True
        limit = tools["search_memories"].input_schema["properties"]["limit"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 10)
        assert tools["search_memories"].output_schema is not None
        assert all(t.description for t in tools.values())


async def test_add_search_update_history_delete_cycle(open_session: OpenSession) -> None:
    async with open_session() as session:
        added = await call(session, "add_memory", text="I live in Lisbon", user_id="alice")
        [event] = added["results"]
        assert event["event"] == "ADD" and event["memory"] == "I live in Lisbon"
        mid = event["id"]

        found = await call(session, "search_memories", query="where does she live", user_id="alice")
        [hit] = found["results"]
        assert hit["id"] == mid
        assert set(hit) >= {
            "id",
            "memory",
            "score",
            "metadata",
            "user_id",
            "agent_id",
            "run_id",
            "created_at",
            "updated_at",
            "hash",
        }

        updated = await call(session, "update_memory", memory_id=mid, text="I live in Porto")
        assert updated == {
            "id": mid,
            "memory": "I live in Porto",
            "previous_memory": "I live in Lisbon",
            "event": "UPDATE",
        }
        assert (await call(session, "get_memory", memory_id=mid))["memory"] == "I live in Porto"

        history = (await call(session, "memory_history", memory_id=mid))["results"]
        assert [(h["event"], h["old_memory"], h["new_memory"]) for h in history] == [
            ("ADD", None, "I live in Lisbon"),
            ("UPDATE", "I live in Lisbon", "I live in Porto"),
        ]
        deleted = await call(session, "delete_memory", memory_id=mid)
        assert deleted == {"id": mid, "memory": "I live in Porto", "event": "DELETE"}
        history = (await call(session, "memory_history", memory_id=mid))["results"]
        assert [h["event"] for h in history] == ["ADD", "UPDATE", "DELETE"]
        assert history[-1]["is_deleted"] is True
        assert (await call(session, "list_memories", user_id="alice"))["results"] == []


async def test_messages_and_metadata(open_session: OpenSession) -> None:
    async with open_session() as session:
        added = await call(
            session,
            "add_memory",
            messages=[
                {"role": "user", "content": "I'm vegetarian", "name": "alice"},
                {"role": "assistant", "content": "Noted, no meat."},
            ],
            user_id="alice",
            metadata={"topic": "diet"},
        )
        assert [e["event"] for e in added["results"]] == ["ADD", "ADD"]
        listed = await call(session, "list_memories", user_id="alice", filters={"topic": "diet"})
        assert {i["memory"] for i in listed["results"]} == {"I'm vegetarian", "Noted, no meat."}


async def test_scoping_alice_never_sees_bob(open_session: OpenSession) -> None:
    async with open_session() as session:
        await call(session, "add_memory", text="My PIN hint is the dog's birthday", user_id="bob")
        await call(session, "add_memory", text="I prefer tea over coffee", user_id="alice")
        await call(
            session,
            "add_memory",
            text="Ship the release on Monday",
            user_id="alice",
            agent_id="planner",
        )
        alice = await call(session, "search_memories", query="PIN hint birthday", user_id="alice")
        assert all(h["user_id"] == "alice" for h in alice["results"])
        assert len(alice["results"]) == 2
        narrowed = await call(
            session, "search_memories", query="anything", user_id="alice", agent_id="planner"
        )
        assert [h["memory"] for h in narrowed["results"]] == ["Ship the release on Monday"]
        assert (await call(session, "delete_all_memories", user_id="bob")) == {"deleted": 1}


BAD_CALLS = [
    ("add_memory", {"text": ""}, "text"),
    ("add_memory", {}, "text"),
    ("add_memory", {"text": "x" * 70_000}, "limit"),
    ("add_memory", {"text": "ok", "metadata": {"a": {"b": {"c": {"d": {"e": 1}}}}}}, "metadata"),
    ("search_memories", {"query": "q", "limit": 0}, "limit"),
    ("search_memories", {"query": "q", "limit": 1000}, "limit"),
    ("search_memories", {"query": "q", "threshold": 2}, "threshold"),
    ("search_memories", {"query": "q", "filters": {"topic": {"like": "x"}}}, "like"),
    ("get_memory", {"memory_id": "nope"}, "memory_id"),
    ("get_memory", {"memory_id": str(uuid.uuid4())}, "memory_id"),
    ("update_memory", {"memory_id": str(uuid.uuid4()), "text": "x"}, "memory_id"),
    ("update_memory", {"memory_id": "nope", "text": "x"}, "memory_id"),
    ("delete_memory", {"memory_id": "42"}, "memory_id"),
    ("memory_history", {"memory_id": str(uuid.uuid4())}, "memory_id"),
    ("delete_all_memories", {}, "user_id"),
    ("list_memories", {"offset": -3}, "offset"),
]


async def test_bad_input_is_a_tool_error_and_the_server_keeps_serving(
    open_session: OpenSession,
) -> None:
    async with open_session() as session:
        kept = (await call(session, "add_memory", text="survivor fact"))["results"][0]["id"]
        for tool, args, needle in BAD_CALLS:
            with pytest.raises(ToolFailed) as info:
                await call(session, tool, **args)
            assert needle in str(info.value), (tool, args, str(info.value))
        listed = await call(session, "list_memories")
        assert [i["id"] for i in listed["results"]] == [kept]


async def test_unicode(open_session: OpenSession) -> None:
    async with open_session() as session:
        text = "Mon café préféré est à Montréal ☕ — 我喜欢喝茶"
        mid = (await call(session, "add_memory", text=text, user_id="zoë"))["results"][0]["id"]
        assert (await call(session, "get_memory", memory_id=mid))["memory"] == text
        found = await call(session, "search_memories", query="café Montréal", user_id="zoë")
        assert found["results"][0]["id"] == mid


async def test_forty_concurrent_adds_are_all_stored_and_searchable(
    open_session: OpenSession,
) -> None:
    async with open_session() as session:
        texts = [f"Project {i} codename is falcon-{i}, owned by team {i % 5}" for i in range(40)]
        results = await asyncio.gather(
            *(call(session, "add_memory", text=t, user_id="team") for t in texts)
        )
        ids = {r["results"][0]["id"] for r in results}
        assert len(ids) == 40 and all(r["results"][0]["event"] == "ADD" for r in results)
        listed = await call(session, "list_memories", user_id="team", limit=100)
        assert {i["id"] for i in listed["results"]} == ids
        found = await call(session, "search_memories", query="falcon-17", user_id="team", limit=3)
        assert "falcon-17" in found["results"][0]["memory"]


async def test_health_endpoint_needs_no_credentials(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    with http_server(env) as url:
        async with connect("streamable-http", env, url=url) as client:
            await call(client, "add_memory", text="warm-up")
        assert health(url) == {"status": "ok", "ready": True}
