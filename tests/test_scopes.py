"""Who has memories (``scopes``): every user, agent and run with its count, on both vector
stores, within a scope, narrowed by a substring, capped with the cut kinds named — and the
same answer through a process that forwards to the store's owner."""

from __future__ import annotations

import pytest

from mem0_mcp import AsyncMemory
from mem0_mcp.config import MemoryConfig
from mem0_mcp.errors import InvalidInputError
from mem0_mcp.models import ScopeList
from mem0_mcp.owner import SharedMemory


async def _seed(memory: AsyncMemory) -> None:
    facts = [
        ("alice likes tea", {"user_id": "alice"}),
        ("alice lives in Porto", {"user_id": "alice"}),
        ("alice's trip is in May", {"user_id": "alice", "agent_id": "planner", "run_id": "r1"}),
        ("book the Ribeira hotel", {"user_id": "alice", "agent_id": "planner", "run_id": "r1"}),
        ("bob plays jazz", {"user_id": "bob"}),
        ("bob's planner note", {"user_id": "bob", "agent_id": "planner"}),
        ("deploy checklist", {"agent_id": "ops-bot"}),
    ]
    for text, ids in facts:
        await memory.add(text, infer=False, **ids)


def _counts(result: ScopeList) -> dict[str, dict[str, int]]:
    return {
        "user_id": {c.id: c.memories for c in result.user_ids},
        "agent_id": {c.id: c.memories for c in result.agent_ids},
        "run_id": {c.id: c.memories for c in result.run_ids},
    }


async def test_with_no_scope_every_user_agent_and_run_is_listed_with_its_count(
    memory: AsyncMemory,
) -> None:
    await _seed(memory)
    result = await memory.scopes()
    assert result.memories == 7
    assert _counts(result) == {
        "user_id": {"alice": 4, "bob": 2},
        "agent_id": {"planner": 3, "ops-bot": 1},
        "run_id": {"r1": 2},
    }
    assert [c.id for c in result.user_ids] == ["alice", "bob"]  # most memories first
    assert result.truncated == []


async def test_within_a_scope_only_its_memories_are_counted(memory: AsyncMemory) -> None:
    await _seed(memory)
    alice = await memory.scopes(user_id="alice")
    assert alice.memories == 4
    assert _counts(alice) == {
        "user_id": {"alice": 4},
        "agent_id": {"planner": 2},
        "run_id": {"r1": 2},
    }
    planner = await memory.scopes(agent_id="planner")
    assert _counts(planner)["user_id"] == {"alice": 2, "bob": 1}


async def test_the_default_user_never_applies_and_an_empty_store_has_no_scopes(
    memory: AsyncMemory,
) -> None:
    empty = await memory.scopes()
    assert (empty.memories, empty.user_ids, empty.agent_ids, empty.run_ids) == (0, [], [], [])
    await memory.add("a fact of the default user", infer=False)
    result = await memory.scopes()
    assert _counts(result)["user_id"] == {memory.config.default_user_id: 1}


async def test_contains_narrows_every_kind_to_ids_holding_the_text(memory: AsyncMemory) -> None:
    await _seed(memory)
    result = await memory.scopes(contains="o")
    assert _counts(result) == {
        "user_id": {"bob": 2},
        "agent_id": {"ops-bot": 1},
        "run_id": {},
    }
    assert (await memory.scopes(contains="A")).user_ids == []  # case-sensitive


async def test_each_kind_is_capped_at_limit_and_the_cut_kinds_are_named(
    memory: AsyncMemory,
) -> None:
    for i in range(5):
        for _ in range(i + 1):
            await memory.add(f"memory {_} of user {i}", user_id=f"u{i}", infer=False)
    result = await memory.scopes(limit=3)
    assert [(c.id, c.memories) for c in result.user_ids] == [("u4", 5), ("u3", 4), ("u2", 3)]
    assert result.truncated == ["user_id"]
    assert result.memories == 15


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"user_id": "bad\x00id"}, "user_id"),
        ({"contains": "x" * 300}, "contains"),
    ],
)
async def test_bad_arguments_are_refused_naming_the_field(
    memory: AsyncMemory, kwargs: dict, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await memory.scopes(**kwargs)
    assert caught.value.field == field


async def test_a_forwarding_process_gets_the_owners_answer(config: MemoryConfig) -> None:
    owner, forwarder = SharedMemory(config), SharedMemory(config)
    owner.start()
    try:
        await owner.add("alice likes tea", user_id="alice", infer=False)
        forwarder.start()
        result = await forwarder.scopes(user_id="alice")
        assert not forwarder.is_owner and owner.is_owner
        assert _counts(result)["user_id"] == {"alice": 1}
        with pytest.raises(InvalidInputError):  # errors cross the channel as themselves
            await forwarder.scopes(limit=0)
    finally:
        await forwarder.close()
        await owner.close()
