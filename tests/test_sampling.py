"""MCP sampling as the LLM: with MEM0_MCP_LLM_PROVIDER=sampling, `add_memory` asks the
connected client's own model to extract and reconcile facts. Real server processes over
stdio, real `mcp` SDK clients with a sampling callback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp_harness import ToolFailed, call, connect, server_env


class ClientModel:
    """A client's sampling callback: answers extraction and reconciliation requests by
    their content, and records every request."""

    def __init__(self, facts: list[str], decision: dict[str, Any] | None = None) -> None:
        self.facts = facts
        self.decision = decision
        self.seen: list[types.CreateMessageRequestParams] = []

    async def __call__(
        self, context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        self.seen.append(params)
        prompt = params.messages[0].content.text
        if "Existing memories" in prompt:
            answer = {"decisions": [self.decision or {"fact": 0, "event": "ADD"}]}
        else:
            answer = {"facts": self.facts}
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=json.dumps(answer)),
            model="client-model",
        )


@pytest.fixture
def env(tmp_path: Path, model_dir: Path) -> dict[str, str]:
    return server_env(tmp_path / "data", model_dir, MEM0_MCP_LLM_PROVIDER="sampling")


async def test_add_memory_uses_the_clients_model_end_to_end(env: dict[str, str]) -> None:
    model = ClientModel(["Lives in Lisbon"])
    async with connect("stdio", env, sampling_callback=model) as session:
        added = await call(session, "add_memory", text="Hi, I live in Lisbon!", user_id="alice")
        assert [(e["event"], e["memory"]) for e in added["results"]] == [("ADD", "Lives in Lisbon")]
        assert len(model.seen) == 1
        assert "Hi, I live in Lisbon!" in model.seen[0].messages[0].content.text
        mid = added["results"][0]["id"]

        model.facts = ["Moved to Porto"]
        model.decision = {"fact": 0, "event": "UPDATE", "id": 0, "text": "Lives in Porto"}
        updated = await call(session, "add_memory", text="I moved to Porto", user_id="alice")
        assert [(e["event"], e["id"], e["previous_memory"]) for e in updated["results"]] == [
            ("UPDATE", mid, "Lives in Lisbon")
        ]
        assert len(model.seen) == 3  # two sampling calls for this add, never more
        history = await call(session, "memory_history", memory_id=mid)
        trail = [h["new_memory"] for h in history["results"]]
        assert trail == ["Lives in Lisbon", "Lives in Porto"]


@pytest.mark.parametrize("channel", ["unix", "tcp"])
async def test_sampling_works_from_a_process_that_forwards_to_the_owner(
    env: dict[str, str], channel: str
) -> None:
    env = {**env, "MEM0_MCP_OWNER_CHANNEL": channel}
    owner_model = ClientModel(["Owner fact"])
    forwarder_model = ClientModel(["Likes jazz"])
    async with connect("stdio", env, sampling_callback=owner_model) as owner:
        await call(owner, "list_memories")  # the first process owns the store
        async with connect("stdio", env, sampling_callback=forwarder_model) as forwarder:
            added = await call(forwarder, "add_memory", text="I like jazz", user_id="bob")
            assert [e["memory"] for e in added["results"]] == ["Likes jazz"]
        assert len(forwarder_model.seen) == 1 and owner_model.seen == []
        listed = await call(owner, "list_memories", user_id="bob")
        assert [i["memory"] for i in listed["results"]] == ["Likes jazz"]


async def test_a_client_without_sampling_gets_a_clear_error(env: dict[str, str]) -> None:
    async with connect("stdio", env) as session:
        with pytest.raises(ToolFailed, match="does not support sampling"):
            await call(session, "add_memory", text="I like tea")
        added = await call(session, "add_memory", text="I like tea", infer=False)
        assert added["results"][0]["event"] == "ADD"
