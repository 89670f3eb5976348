"""Hostile input, property-based: whatever arguments a client sends, every tool answers with
a result or a tool error (never a transport error or a crashed server), and a failed call
writes nothing.

The server runs in-process over the SDK's in-memory transport (the real MCP client and
server code, the real engine on a temporary store) so hypothesis can try hundreds of
argument sets quickly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp.client import Client

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.errors import InvalidInputError
from mem0_mcp.filters import parse_filters
from mem0_mcp.server import build_server

TOOLS = [
    "add_memory",
    "search_memories",
    "update_memory",
    "delete_memory",
    "memory_history",
    "get_memory",
    "list_memories",
    "delete_all_memories",
]
KEYS = [
    "topic",
    "n",
    "created_at",
    "updated_at",
    "user_id",
    "id",
    "memory",
    "a.b",
    "AND",
    "OR",
    "NOT",
    "",
    "$where",
    "x" * 300,
]
OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "regex", "*"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(["2026-01-01", "not a date", "*", str(uuid.uuid4())]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
filters = st.recursive(
    st.dictionaries(
        st.sampled_from(KEYS),
        st.one_of(scalars, st.dictionaries(st.sampled_from(OPS), json_values, max_size=3)),
        max_size=3,
    ),
    lambda inner: st.one_of(
        st.dictionaries(
            st.sampled_from(["AND", "OR", "NOT"]), st.lists(inner, max_size=3), max_size=2
        ),
        inner,
    ),
    max_leaves=10,
)
ids = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["", " ", "a\x00b", "x" * 300]),
    st.integers(),
)
texts = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(["", "   ", "\ud800"]),
    st.integers(0, 70_000).map(lambda n: "y" * n),
)
memory_ids = st.one_of(st.text(max_size=40), st.uuids().map(str), st.integers(), st.none())
messages = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {
                "role": st.sampled_from(["user", "assistant", "system", "tool", ""]),
                "content": texts,
            },
            optional={"name": ids},
        ),
        max_size=3,
    ),
    json_values,
)
arguments = st.fixed_dictionaries(
    {},
    optional={
        "text": texts,
        "messages": messages,
        "query": texts,
        "user_id": ids,
        "agent_id": ids,
        "run_id": ids,
        "metadata": json_values,
        "filters": st.one_of(filters, json_values),
        "limit": st.one_of(st.integers(-5, 500), st.text(max_size=3)),
        "threshold": st.one_of(st.floats(allow_nan=True), st.integers(-2, 3)),
        "offset": st.integers(-5, 10**12),
        "memory_id": memory_ids,
        "infer": json_values,
        # Misspelt and made-up keys: each must be refused by name, never ignored.
        "userid": ids,
        "memoryid": memory_ids,
        "Query": texts,
        "": json_values,
    },
)


@asynccontextmanager
async def _client(config: MemoryConfig) -> AsyncIterator[tuple[Client, AsyncMemory]]:
    async with AsyncMemory(config) as memory:
        async with Client(build_server(memory)) as client:
            yield client, memory


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[tuple]:
    config = MemoryConfig(
        data_dir=tmp_path_factory.mktemp("hostile"), embedding_model_path=model_dir
    )
    with anyio.from_thread.start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(_client(config)) as (client, memory):
            portal.call(lambda: client.call_tool("add_memory", {"text": "seed memory"}))
            yield portal, client, memory


def _count(portal: Any, memory: AsyncMemory) -> int:
    return portal.call(lambda: memory.vector_store.count(filter=None))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tool=st.sampled_from(TOOLS), args=arguments)
def test_any_arguments_get_a_result_or_a_tool_error_and_failures_write_nothing(
    live: tuple, tool: str, args: dict[str, Any]
) -> None:
    portal, client, memory = live
    before = _count(portal, memory)
    result = portal.call(lambda: client.call_tool(tool, args))  # raises on a transport error
    text = " ".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        assert "Traceback" not in text and text.strip()
        assert "pydantic" not in text and "https://" not in text
        assert _count(portal, memory) == before
    else:
        assert result.structured_content is not None
        assert not {"userid", "memoryid", "Query", ""} & set(args)
    # The server still answers after whatever that was.
    ping = portal.call(lambda: client.call_tool("list_memories", {"limit": 1}))
    assert not ping.is_error


@settings(max_examples=2000, deadline=None)
@given(raw=st.one_of(filters, json_values))
def test_filter_parsing_accepts_or_explains_never_crashes(raw: Any) -> None:
    if not isinstance(raw, dict):
        raw = {"topic": raw}
    try:
        parse_filters(raw)
    except InvalidInputError as exc:
        assert str(exc)
