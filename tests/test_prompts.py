"""Good facts from small models: the prompts carry few-shot examples, and a "fact" that only
copies a greeting or a question never becomes a memory (through the real `openai` SDK and a
scripted server on 127.0.0.1)."""

# ruff: noqa: F811 - pytest fixtures imported from test_infer are redefined as arguments
from __future__ import annotations

from datetime import date

import pytest
from llm_stub import LLMStub
from test_infer import facts, llm_config, memory, stub  # noqa: F401 - fixtures

from mem0_mcp import AsyncMemory
from mem0_mcp.models import Scope
from mem0_mcp.prompts import extraction_system, reconciliation_system
from mem0_mcp.small_talk import is_small_talk


@pytest.mark.parametrize(
    "text",
    [
        "Hi! How are you doing today?",
        "Hello there!",
        "What's the capital of Australia?",
        "Thanks, that's all for now. Bye!",
        "Bonjour ! Ça va ?",
        "Olá, tudo bem?",
        "I am fine, thanks.",
        "",
    ],
)
def test_greetings_and_questions_are_small_talk(text: str) -> None:
    assert is_small_talk(text)


@pytest.mark.parametrize(
    "text",
    [
        "Lives in Porto",
        "Hi, I'm Marie",
        "Thanks! Is allergic to peanuts.",
        "Big news: I moved from Lisbon to Porto last month.",
        "Weighs 3.5 kg",
        "住在北京",
        "Is fine with spicy food",
    ],
)
def test_anything_more_than_a_greeting_or_a_question_is_kept(text: str) -> None:
    assert not is_small_talk(text)


@pytest.mark.parametrize("llm_config", ["openai"], indirect=True)
async def test_facts_that_copy_a_greeting_or_a_question_are_not_stored(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Hi! How are you doing today?", "Do you like jazz?", "Lives in Porto"))
    added = await memory.add("Hi! How are you doing today? I live in Porto.", user_id="alice")
    assert [(e.event, e.memory) for e in added.results] == [("ADD", "Lives in Porto")]


@pytest.mark.parametrize("llm_config", ["openai"], indirect=True)
async def test_facts_repeated_from_the_prompts_examples_are_not_stored(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Name is Marie", "Lives in Porto", "Likes jazz"))
    added = await memory.add("Hello there! I like jazz.", user_id="alice")
    assert [e.memory for e in added.results] == ["Likes jazz"]
    stub.script(facts("Name is Marie", "Lives in Porto"))
    added = await memory.add("I'm Marie and I live in Porto", user_id="bob")
    assert [e.memory for e in added.results] == ["Name is Marie", "Lives in Porto"]


async def test_a_greeting_alone_stores_nothing_and_asks_nothing_more(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(facts("Hi! How are you doing today?"))
    added = await memory.add("Hi! How are you doing today?", user_id="alice")
    assert added.results == [] and len(stub.requests) == 1


def test_the_extraction_prompt_shows_greetings_giving_no_facts_and_facts_with_their_subject() -> (
    None
):
    system = extraction_system(
        today=date(2026, 12, 4),
        scope=Scope(user_id="a"),
        agent_perspective=False,
        custom_instructions=None,
    )
    assert 'user: Hi! How are you doing today?\n→ {"facts": []}' in system
    assert '→ {"facts": ["Name is Marie", "Lives in Lyon"]}' in system
    assert '"Moved from Lisbon to Porto in November 2026", "Lives in Porto"' in system


def test_agent_scoped_extraction_shows_no_user_facts() -> None:
    system = extraction_system(
        today=date(2026, 12, 4),
        scope=Scope(agent_id="bot"),
        agent_perspective=True,
        custom_instructions=None,
    )
    assert "Lives in Lyon" not in system and "Answers this user in French" in system


def test_the_reconciliation_prompt_shows_update_none_and_add() -> None:
    system = reconciliation_system(today=date(2026, 12, 4))
    for event in ('"event": "UPDATE", "id": 0', '"event": "NONE", "id": 0', '"event": "ADD"'):
        assert event in system
