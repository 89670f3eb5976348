"""What an agent sees of the tools: strict arguments with errors in our own words, schemas
every major client accepts, compact result text, and the operator's knobs (read-only mode,
description overrides).

Runs the real MCP client against the real server and engine in-process (the SDK's memory
transport), on a temporary store.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.config import unknown_env_settings
from mem0_mcp.errors import ConfigError
from mem0_mcp.output import compact
from mem0_mcp.server import build_server
from mem0_mcp.tools import TOOL_NAMES

READ_ONLY_TOOLS = {"search_memories", "get_memory", "list_memories", "memory_history"}
VALID = {
    "add_memory": {"text": "I like tea"},
    "search_memories": {"query": "tea"},
    "update_memory": {"memory_id": "00000000-0000-0000-0000-000000000000", "text": "x"},
    "delete_memory": {"memory_id": "00000000-0000-0000-0000-000000000000"},
    "memory_history": {"memory_id": "00000000-0000-0000-0000-000000000000"},
    "get_memory": {"memory_id": "00000000-0000-0000-0000-000000000000"},
    "list_memories": {},
    "delete_all_memories": {"user_id": "alice"},
}


@asynccontextmanager
async def _client(config: MemoryConfig) -> AsyncIterator[Client]:
    async with AsyncMemory(config) as memory, Client(build_server(memory)) as client:
        yield client


async def _error(client: Client, tool: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(tool, args)
    text = "".join(getattr(b, "text", "") for b in result.content)
    assert result.is_error, f"{tool}({args}) succeeded: {text}"
    assert "pydantic" not in text and "https://" not in text and "Traceback" not in text
    return text


# -- strict arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("tool", TOOL_NAMES)
async def test_an_unknown_argument_is_an_error_naming_it_and_the_nearest_valid_name(
    config: MemoryConfig, tool: str
) -> None:
    async with _client(config) as client:
        text = await _error(client, tool, {**VALID[tool], "userid": "bob"})
        assert text.startswith("userid: not an argument of " + tool)
        if tool not in {"update_memory", "delete_memory", "memory_history", "get_memory"}:
            assert "did you mean user_id?" in text


async def test_a_misspelt_scope_key_never_reads_the_default_users_memories(
    config: MemoryConfig,
) -> None:
    async with _client(config) as client:
        await client.call_tool("add_memory", {"text": "default user's tea"})
        text = await _error(client, "search_memories", {"query": "tea", "userid": "bob"})
        assert "did you mean user_id?" in text


async def test_missing_and_mistyped_arguments_are_explained_in_our_words(
    config: MemoryConfig,
) -> None:
    async with _client(config) as client:
        assert await _error(client, "search_memories", {}) == "query: is required"
        assert await _error(client, "search_memories", {"query": "x", "limit": "ten"}) == (
            "limit: must be an integer (got 'ten')"
        )
        text = await _error(client, "list_memories", {"limit": 500})
        assert text.startswith("limit: is 500; use a value from 1 to 100")
        text = await _error(client, "add_memory", {"messages": [{"role": "robot", "content": "x"}]})
        assert (
            text == "messages[0].role: must be one of 'user', 'assistant' or 'system' (got 'robot')"
        )
        text = await _error(
            client, "add_memory", {"messages": [{"role": "user", "content": "x", "nme": "a"}]}
        )
        assert text.startswith("messages[0].nme: not a field of messages[0]; did you mean name?")


async def test_add_memory_needs_exactly_one_of_text_or_messages(config: MemoryConfig) -> None:
    async with _client(config) as client:
        for args in ({}, {"text": "a", "messages": [{"role": "user", "content": "b"}]}):
            text = await _error(client, "add_memory", args)
            assert text == "give exactly one of `text` (a string) or `messages` (a list)"


async def test_out_of_range_offset_says_the_allowed_range(config: MemoryConfig) -> None:
    async with _client(config) as client:
        for offset in (2**70, -1):
            text = await _error(client, "list_memories", {"offset": offset})
            assert text.startswith("offset: must be an integer from 0 to 1000000")


async def test_object_arguments_sent_as_json_text_are_accepted(config: MemoryConfig) -> None:
    async with _client(config) as client:
        added = await client.call_tool("add_memory", {"text": "green tea", "metadata": '{"k": 1}'})
        assert not added.is_error
        found = await client.call_tool("search_memories", {"query": "tea", "filters": '{"k": 1}'})
        assert [r["memory"] for r in found.structured_content["results"]] == ["green tea"]
        # ... but text stays text, whatever it looks like.
        added = await client.call_tool("add_memory", {"text": '["not", "a", "list"]'})
        assert added.structured_content["results"][0]["memory"] == '["not", "a", "list"]'


# -- schemas --------------------------------------------------------------------------------


async def test_schemas_forbid_unknown_keys_and_avoid_top_level_composition(
    config: MemoryConfig,
) -> None:
    async with _client(config) as client:
        for tool in (await client.list_tools()).tools:
            schema = tool.input_schema
            assert schema["type"] == "object" and schema["additionalProperties"] is False
            # Anthropic's API (and Bedrock, Vertex) refuse these at the top level.
            assert not {"oneOf", "anyOf", "allOf", "$defs", "$ref"} & set(schema)
            assert tool.output_schema["type"] == "object"
            assert "\n" not in tool.description and "``" not in tool.description
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["search_memories"].input_schema["required"] == ["query"]
        assert tools["update_memory"].input_schema["required"] == ["memory_id", "text"]
        message = tools["add_memory"].input_schema["properties"]["messages"]["items"]
        assert message["additionalProperties"] is False


# -- results --------------------------------------------------------------------------------


async def test_search_text_is_compact_and_structured_content_complete(config: MemoryConfig) -> None:
    async with _client(config) as client:
        await client.call_tool(
            "add_memory", {"text": "I live in Lisbon", "user_id": "alice", "metadata": {"k": "v"}}
        )
        await client.call_tool("add_memory", {"text": "I like tea", "user_id": "alice"})
        result = await client.call_tool("search_memories", {"query": "Lisbon", "user_id": "alice"})
        text = result.content[0].text
        full = result.structured_content
        assert json.loads(text) == compact(full)
        assert ": " not in text and "\n" not in text  # no whitespace
        first = json.loads(text)["results"][0]
        # The golden shape of a compact hit: no null ids, no hash, 3-decimal score, second times.
        assert set(first) == {"id", "memory", "metadata", "user_id", "role", "created_at", "score"}
        assert first["memory"] == "I live in Lisbon" and first["metadata"] == {"k": "v"}
        assert first["created_at"].endswith("Z") and len(first["created_at"]) == 20
        assert first["score"] == round(first["score"], 3)
        second = json.loads(text)["results"][1]
        assert "metadata" not in second  # empty metadata is left out
        # The structured content keeps every field, with full precision.
        assert set(full["results"][0]) >= {"hash", "agent_id", "run_id", "actor_id", "updated_at"}
        assert full["results"][0]["hash"] and len(full["results"][0]["created_at"]) == 32


async def test_full_output_mode_puts_the_structured_content_in_the_text(
    config: MemoryConfig,
) -> None:
    async with _client(config.model_copy(update={"tool_output": "full"})) as client:
        await client.call_tool("add_memory", {"text": "I like tea"})
        result = await client.call_tool("search_memories", {"query": "tea"})
        assert json.loads(result.content[0].text) == result.structured_content


# -- operator settings ----------------------------------------------------------------------


async def test_read_only_mode_offers_and_runs_only_tools_that_change_nothing(
    config: MemoryConfig,
) -> None:
    async with _client(config.model_copy(update={"read_only": True})) as client:
        assert {t.name for t in (await client.list_tools()).tools} == READ_ONLY_TOOLS
        text = await _error(client, "add_memory", {"text": "x"})
        assert text.startswith("unknown tool 'add_memory'")
        assert not (await client.call_tool("list_memories", {})).is_error


async def test_operators_can_replace_a_tools_description(config: MemoryConfig) -> None:
    mine = "Look up what you know about the customer."
    overridden = config.model_copy(update={"tool_descriptions": {"search_memories": mine}})
    async with _client(overridden) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["search_memories"].description == mine


def test_a_description_for_an_unknown_tool_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="unknown tool 'search_memory'.*did you mean 'search_memories'"
    ):
        MemoryConfig.load(None, data_dir=tmp_path, tool_descriptions={"search_memory": "x"})


def test_misspelt_environment_settings_are_reported_with_the_nearest_name() -> None:
    env = {"MEM0_MCP_DEFAULT_USERID": "bob", "MEM0_MCP_DATA_DIR": "/x", "HOME": "/root"}
    [problem] = unknown_env_settings(env)
    assert problem.startswith("MEM0_MCP_DEFAULT_USERID is not a setting")
    assert "did you mean MEM0_MCP_DEFAULT_USER_ID?" in problem
