"""Procedural memory: `add(..., memory_type="procedural_memory", agent_id=...)` summarises an
agent's run with one LLM call into one memory marked `metadata.memory_type`, through the real
`openai` / `anthropic` SDKs (scripted server on 127.0.0.1), over MCP, and with the MCP
client's own model over sampling."""

# ruff: noqa: F811 - pytest fixtures imported from test_infer are redefined as arguments
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from llm_stub import LLMStub, Reply
from mcp_harness import ToolFailed, call, connect, server_env
from test_infer import llm_config, memory, stub  # noqa: F401 - fixtures

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.errors import InvalidInputError, LLMError

PROCEDURAL = {"memory_type": "procedural_memory"}
RUN = [
    {"role": "system", "content": "You are a deploy bot."},
    {"role": "user", "content": "Deploy release 2.3 to staging."},
    {"role": "assistant", "content": "Ran `make deploy ENV=staging`: 3 services updated."},
    {"role": "assistant", "content": "Health check https://staging.example/health: 200 OK."},
]
SUMMARY = (
    "Task: deploy release 2.3 to staging.\nProgress: done.\n"
    "Steps:\n1. make deploy ENV=staging -> 3 services updated.\n"
    "2. GET https://staging.example/health -> 200 OK.\nLessons: none."
)


def summary(text: str = SUMMARY) -> Reply:
    return Reply(json={"summary": text})


async def test_a_run_becomes_one_memory_with_one_llm_call(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(summary())
    added = await memory.add(
        RUN, agent_id="deploy-bot", memory_type="procedural_memory", metadata={"team": "ops"}
    )
    [event] = added.results
    assert (event.event, event.memory) == ("ADD", SUMMARY)
    [request] = stub.requests  # no extraction, no reconciliation
    assert "procedural memory" in request.system
    assert "make deploy ENV=staging" in request.prompt and "You are a deploy bot." in request.prompt
    item = await memory.get(event.id)
    assert item.metadata == {"team": "ops", **PROCEDURAL}
    assert (item.agent_id, item.role) == ("deploy-bot", "assistant")
    history = await memory.history(event.id)
    assert [(h.event, h.new_memory) for h in history.results] == [("ADD", SUMMARY)]


async def test_memory_type_filters_search_and_list(memory: AsyncMemory, stub: LLMStub) -> None:
    stub.script(summary())
    fact = await memory.add("The staging deploy needs VPN", agent_id="deploy-bot", infer=False)
    procedure = await memory.add(RUN, agent_id="deploy-bot", memory_type="procedural_memory")
    [fact_id], [procedure_id] = (e.id for e in fact.results), (e.id for e in procedure.results)
    listed = await memory.get_all(agent_id="deploy-bot", filters=PROCEDURAL)
    assert [i.id for i in listed.results] == [procedure_id]
    found = await memory.search("deploy staging", agent_id="deploy-bot", filters=PROCEDURAL)
    assert [i.id for i in found.results] == [procedure_id]
    others = await memory.get_all(agent_id="deploy-bot", filters={"NOT": [PROCEDURAL]})
    assert [i.id for i in others.results] == [fact_id]


@pytest.mark.parametrize("llm_config", ["openai"], indirect=True)  # the same for any provider
@pytest.mark.parametrize(
    ("arguments", "field", "says"),
    [
        ({"user_id": "alice"}, "agent_id", "summarises an agent's run"),
        ({"agent_id": "bot", "infer": False}, "infer", "written by the LLM"),
        ({"agent_id": "bot", "memory_type": "episodic"}, "memory_type", "'episodic' is not"),
    ],
)
async def test_a_procedural_add_needs_an_agent_and_the_llm(
    memory: AsyncMemory, stub: LLMStub, arguments: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await memory.add(RUN, **{"memory_type": "procedural_memory", **arguments})
    assert raised.value.field == field and says in raised.value.message
    assert stub.requests == []
    assert (await memory.get_all(agent_id="bot")).results == []


async def test_a_procedural_add_without_an_llm_is_an_error(config: MemoryConfig) -> None:
    async with AsyncMemory(config) as memory:
        with pytest.raises(InvalidInputError) as raised:
            await memory.add(RUN, agent_id="bot", memory_type="procedural_memory")
        assert raised.value.field == "memory_type" and "needs an LLM" in raised.value.message
        assert (await memory.get_all(agent_id="bot")).results == []


@pytest.mark.parametrize("llm_config", ["openai"], indirect=True)
@pytest.mark.parametrize(("text", "says"), [("  ", "empty"), ("x" * 70_000, "70000 bytes")])
async def test_an_empty_or_oversized_summary_is_an_error_and_nothing_is_stored(
    memory: AsyncMemory, stub: LLMStub, text: str, says: str
) -> None:
    stub.script(summary(text))
    with pytest.raises(LLMError, match=says):
        await memory.add(RUN, agent_id="bot", memory_type="procedural_memory")
    assert (await memory.get_all(agent_id="bot")).results == []


# --- over MCP -------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_add_memory_stores_a_procedure_over_mcp(
    tmp_path: Path, model_dir: Path, stub: LLMStub, provider: str
) -> None:
    url = stub.openai_url if provider == "openai" else stub.anthropic_url
    env = server_env(
        tmp_path / "data", model_dir, MEM0_MCP_LLM_PROVIDER=provider, MEM0_MCP_LLM_BASE_URL=url
    )
    stub.script(summary())
    async with connect("stdio", env) as session:
        added = await call(
            session,
            "add_memory",
            messages=RUN,
            agent_id="deploy-bot",
            memory_type="procedural_memory",
        )
        assert [(e["event"], e["memory"]) for e in added["results"]] == [("ADD", SUMMARY)]
        listed = await call(session, "list_memories", agent_id="deploy-bot", filters=PROCEDURAL)
        assert [i["metadata"] for i in listed["results"]] == [PROCEDURAL]
        with pytest.raises(ToolFailed, match="^agent_id: a procedural memory summarises"):
            await call(session, "add_memory", messages=RUN, memory_type="procedural_memory")
        with pytest.raises(ToolFailed, match="^memory_type: must be one of 'procedural_memory'"):
            await call(session, "add_memory", messages=RUN, agent_id="a", memory_type="episodic")
    assert len(stub.requests) == 1


async def test_the_clients_own_model_writes_the_procedure_over_sampling(
    tmp_path: Path, model_dir: Path
) -> None:
    seen: list[types.CreateMessageRequestParams] = []

    async def client_model(
        context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        seen.append(params)
        text = json.dumps({"summary": SUMMARY})
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=text), model="client"
        )

    env = server_env(tmp_path / "data", model_dir, MEM0_MCP_LLM_PROVIDER="sampling")
    async with connect("stdio", env, sampling_callback=client_model) as session:
        added = await call(
            session, "add_memory", messages=RUN, agent_id="bot", memory_type="procedural_memory"
        )
        [event] = added["results"]
        item = await call(session, "get_memory", memory_id=event["id"])
    assert (event["event"], item["memory"], item["metadata"]) == ("ADD", SUMMARY, PROCEDURAL)
    [params] = seen
    assert "procedural memory" in (params.system_prompt or "")
    assert "Deploy release 2.3 to staging." in params.messages[0].content.text
