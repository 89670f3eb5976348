"""Memory intelligence: `add` with an LLM extracts facts and reconciles them
(ADD / UPDATE / DELETE / NONE), through the real `openai` / `anthropic` SDKs talking HTTP to
a scripted server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import pytest
from llm_stub import LLMStub, Recorded, Reply

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.errors import LLMError


@pytest.fixture
def stub() -> Iterator[LLMStub]:
    with LLMStub.running() as server:
        yield server


@pytest.fixture(params=["openai", "anthropic"])
def llm_config(
    request: pytest.FixtureRequest,
    config: MemoryConfig,
    stub: LLMStub,
    monkeypatch: pytest.MonkeyPatch,
) -> MemoryConfig:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    url = stub.openai_url if request.param == "openai" else stub.anthropic_url
    return config.model_copy(
        update={
            "llm_provider": request.param,
            "llm_base_url": url,
            "llm_timeout": 2.0,
            "llm_max_retries": 1,
        }
    )


@pytest.fixture
async def memory(llm_config: MemoryConfig) -> AsyncIterator[AsyncMemory]:
    async with AsyncMemory(llm_config) as mem:
        mem.llm.backoff = 0  # type: ignore[union-attr]  # no sleeping between retries in tests
        yield mem


def facts(*items: str) -> Reply:
    return Reply(json={"facts": list(items)})


def decide(*decisions: dict) -> Reply:
    return Reply(json={"decisions": list(decisions)})


def shown_memories(request: Recorded) -> list[dict]:
    """The existing memories (with their small integer ids) a reconciliation call saw."""
    prompt = request.prompt
    start = prompt.index("Existing memories:\n") + len("Existing memories:\n")
    return json.loads(prompt[start : prompt.index("\n\nNew facts:")])


async def test_new_fact_is_added_with_one_llm_call(memory: AsyncMemory, stub: LLMStub) -> None:
    stub.script(facts("Lives in Lisbon", "Works as a nurse"))
    result = await memory.add("Hi! I live in Lisbon and I work as a nurse.", user_id="alice")
    assert [(e.event, e.memory) for e in result.results] == [
        ("ADD", "Lives in Lisbon"),
        ("ADD", "Works as a nurse"),
    ]
    assert len(stub.requests) == 1  # nothing to reconcile against: no second call
    assert "Hi! I live in Lisbon" in stub.requests[0].prompt
    assert {i.memory for i in (await memory.get_all(user_id="alice")).results} == {
        "Lives in Lisbon",
        "Works as a nurse",
    }


async def test_a_forget_request_in_an_empty_scope_stores_nothing(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Forget: that the user has a parrot"))
    result = await memory.add("Please forget about my parrot", user_id="nobody-yet")
    assert result.results == []
    assert (await memory.get_all(user_id="nobody-yet")).results == []


async def test_a_fact_over_the_size_limit_is_an_error_and_changes_nothing(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Likes tea", "x" * (memory.config.max_text_bytes + 1)))
    with pytest.raises(LLMError, match="byte limit"):
        await memory.add("a very long story", user_id="big")
    assert (await memory.get_all(user_id="big")).results == []


async def test_the_model_adding_a_text_already_stored_gives_none(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Has a cat named Tom"))
    tom = (await memory.add("I have a cat called Tom", user_id="alice")).results[0]
    stub.script(
        facts("Has a cat named Tom", "Has a cat named Tom."),
        decide(
            {"fact": 0, "event": "ADD", "text": "Has a cat named Tom"},
            {"fact": 1, "event": "ADD", "text": "Has a cat named Tom"},
        ),
    )
    again = await memory.add("Tom is my cat", user_id="alice")
    assert [(e.event, e.id) for e in again.results] == [("NONE", tom.id), ("NONE", tom.id)]
    assert len((await memory.get_all(user_id="alice")).results) == 1


async def test_same_fact_again_is_none(memory: AsyncMemory, stub: LLMStub) -> None:
    stub.script(facts("Lives in Lisbon"))
    first = (await memory.add("I live in Lisbon", user_id="alice")).results[0]
    stub.script(facts("Lives in Lisbon"), decide({"fact": 0, "event": "NONE", "id": 0}))
    again = await memory.add("As I said, I live in Lisbon", user_id="alice")
    assert [(e.event, e.id) for e in again.results] == [("NONE", first.id)]
    assert shown_memories(stub.requests[-1]) == [{"id": 0, "text": "Lives in Lisbon"}]
    assert len(stub.requests) == 3  # 1 + 2: at most two calls per add
    assert len((await memory.get_all(user_id="alice")).results) == 1


async def test_moving_updates_the_old_memory_and_history_shows_both(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Lives in Lisbon"))
    mid = (await memory.add("I live in Lisbon", user_id="alice")).results[0].id
    stub.script(
        facts("Moved to Porto"),
        decide({"fact": 0, "event": "UPDATE", "id": 0, "text": "Lives in Porto"}),
    )
    result = await memory.add("I moved to Porto last month", user_id="alice")
    assert [(e.event, e.id, e.memory, e.previous_memory) for e in result.results] == [
        ("UPDATE", mid, "Lives in Porto", "Lives in Lisbon"),
    ]
    history = (await memory.history(mid)).results
    assert [(h.event, h.old_memory, h.new_memory) for h in history] == [
        ("ADD", None, "Lives in Lisbon"),
        ("UPDATE", "Lives in Lisbon", "Lives in Porto"),
    ]
    [hit] = (await memory.search("where does alice live", user_id="alice")).results
    assert hit.memory == "Lives in Porto"


async def test_forget_request_deletes(memory: AsyncMemory, stub: LLMStub) -> None:
    stub.script(facts("Likes jazz", "Plays the piano"))
    ids = {
        e.memory: e.id
        for e in (await memory.add("I like jazz and play piano", user_id="a")).results
    }

    def delete_jazz(request: Recorded) -> Reply:
        jazz = next(m["id"] for m in shown_memories(request) if m["text"] == "Likes jazz")
        return decide({"fact": 0, "event": "DELETE", "id": jazz})

    stub.script(facts("Forget: likes jazz"))
    stub.respond(delete_jazz)
    result = await memory.add("Please forget that I like jazz", user_id="a")
    assert [(e.event, e.id, e.previous_memory) for e in result.results] == [
        ("DELETE", ids["Likes jazz"], "Likes jazz"),
    ]
    assert [i.memory for i in (await memory.get_all(user_id="a")).results] == ["Plays the piano"]
    assert (await memory.history(ids["Likes jazz"])).results[-1].event == "DELETE"


async def test_invented_id_is_ignored(memory: AsyncMemory, stub: LLMStub) -> None:
    stub.script(facts("Has a cat"))
    await memory.add("I have a cat", user_id="a")
    stub.script(
        facts("Has a dog"),
        decide({"fact": 0, "event": "UPDATE", "id": 42, "text": "Has a dog"}),
    )
    result = await memory.add("I have a dog", user_id="a")
    assert result.results == []
    assert [i.memory for i in (await memory.get_all(user_id="a")).results] == ["Has a cat"]


async def test_malformed_output_then_valid_is_applied_once(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(Reply(text='{"facts": ["Likes tea"'), facts("Likes tea"))
    result = await memory.add("I like tea", user_id="a")
    assert [e.event for e in result.results] == ["ADD"]
    assert len((await memory.get_all(user_id="a")).results) == 1
    assert memory.llm.calls == 1 and memory.llm.requests == 2  # type: ignore[union-attr]


async def test_malformed_until_retries_run_out_is_an_error_and_changes_nothing(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Lives in Lisbon"))
    await memory.add("I live in Lisbon", user_id="a")
    stub.script(facts("Lives in Porto"), *[Reply(json={"verdict": "??"}) for _ in range(3)])
    with pytest.raises(LLMError) as info:
        await memory.add("I moved to Porto", user_id="a")
    assert info.value.provider == memory.config.llm_provider and "schema" in str(info.value)
    assert [i.memory for i in (await memory.get_all(user_id="a")).results] == ["Lives in Lisbon"]


@pytest.mark.parametrize("reply", [Reply(status=500, error="boom"), Reply(json={}, delay=5)])
async def test_server_error_or_timeout_is_an_error(
    memory: AsyncMemory, stub: LLMStub, reply: Reply
) -> None:
    stub.script(*[reply] * 4)
    with pytest.raises(LLMError, match=memory.config.llm_provider):
        await memory.add("I live in Lisbon", user_id="a")
    assert (await memory.get_all(user_id="a")).results == []


async def test_agent_scoped_conversation_is_extracted_from_the_agent_perspective(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Answers in French for this user"))
    conversation = [
        {"role": "user", "content": "From now on, answer me in French."},
        {"role": "assistant", "content": "D'accord, je répondrai en français."},
    ]
    await memory.add(conversation, user_id="alice", agent_id="helper")
    assert "the AI agent" in stub.requests[0].system
    stub.script(facts("Prefers French"))
    await memory.add(conversation, user_id="bob")
    assert "the AI agent" not in stub.requests[1].system
    assert "about the user" in stub.requests[1].system


async def test_infer_false_stores_verbatim_without_calling_the_llm(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    result = await memory.add("raw note", user_id="a", infer=False)
    assert [e.event for e in result.results] == ["ADD"] and stub.requests == []


async def test_twenty_concurrent_adds_of_one_fact_leave_one_memory(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    def answer(request: Recorded) -> Reply:
        if "Existing memories" in request.prompt:
            return decide({"fact": 0, "event": "NONE", "id": 0})
        return facts("Owns a red bicycle")

    stub.respond(answer)
    results = await asyncio.gather(
        *(memory.add("I own a red bicycle", user_id="racer") for _ in range(20))
    )
    assert sorted(r.results[0].event for r in results) == ["ADD"] + ["NONE"] * 19
    assert len((await memory.get_all(user_id="racer")).results) == 1
