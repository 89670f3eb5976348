"""The LLM side of an inferring ``add``: extract facts (call 1), reconcile them with the
nearest existing memories (call 2). At most two LLM calls per ``add``, whatever the
number of facts.

The engine (``memory.py``) does the retrieval between the two calls and applies the
decisions atomically; this module only talks to the LLM and validates what it says.
Existing memories are shown to the model under small integer ids (mem0 1.x's trick), so it
cannot invent a UUID; an id it invents anyway is logged and its decision ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from . import prompts, small_talk
from .llms.base import LLM
from .models import Message, Scope

log = logging.getLogger(__name__)


class Extraction(BaseModel):
    facts: list[str] = Field(description="Durable facts, one short sentence each.")


class Decision(BaseModel):
    fact: int = Field(description="Index of the new fact this decision is about.")
    event: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    id: int | None = Field(default=None, description="Existing memory id (UPDATE/DELETE/NONE).")
    text: str | None = Field(default=None, description="Memory text to store (ADD/UPDATE).")


class Reconciliation(BaseModel):
    decisions: list[Decision]


@dataclass(frozen=True, slots=True)
class Neighbour:
    """An existing memory shown to the model."""

    memory_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated decision, with the real memory id for UPDATE / DELETE / NONE."""

    event: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    text: str
    memory_id: str | None = None


async def extract_facts(
    llm: LLM,
    messages: Sequence[Message],
    *,
    scope: Scope,
    today: date,
    custom_instructions: str | None = None,
) -> list[str]:
    """Call 1: durable facts in ``messages`` (may be empty), without the greetings and
    questions small models copy into them (``small_talk``) nor the facts they repeat from the
    prompt's examples. Raises ``LLMError``."""
    has_assistant = any(m.role == "assistant" for m in messages)
    system = prompts.extraction_system(
        today=today,
        scope=scope,
        agent_perspective=bool(scope.agent_id and has_assistant),
        custom_instructions=custom_instructions,
    )
    conversation = [m for m in messages if m.role != "system"]
    prompt = prompts.transcript(conversation)
    result = await llm.generate(
        system=system,
        prompt=prompt,
        schema=Extraction,
        tool_name=prompts.EXTRACT_TOOL,
        tool_description=prompts.EXTRACT_TOOL_DESCRIPTION,
    )
    facts: list[str] = []
    for fact in result.facts:
        cleaned = " ".join(fact.split())
        if small_talk.is_small_talk(cleaned):
            log.info("extraction: dropping %r, a greeting or a question, not a fact", cleaned)
        elif _echoes_an_example(cleaned, prompt):
            log.info("extraction: dropping %r, repeated from the prompt's examples", cleaned)
        elif cleaned not in facts:
            facts.append(cleaned)
    return facts


async def reconcile(
    llm: LLM, facts: Sequence[str], neighbours: Sequence[Neighbour], *, today: date
) -> list[Plan]:
    """Call 2: one decision per fact against ``neighbours``. Raises ``LLMError``.

    Decisions naming an id outside ``neighbours`` are dropped (logged); UPDATE/ADD without
    text fall back to the fact's own text; two changes to one existing memory keep the
    first. A fact the model gave no decision at all is added (never silently lost), except
    a "Forget: ..." request, which is never stored as a memory.
    """
    existing = list(enumerate(n.text for n in neighbours))
    result = await llm.generate(
        system=prompts.reconciliation_system(today=today),
        prompt=prompts.reconciliation_prompt(existing, facts),
        schema=Reconciliation,
        tool_name=prompts.RECONCILE_TOOL,
        tool_description=prompts.RECONCILE_TOOL_DESCRIPTION,
    )
    plans: list[Plan] = []
    decided: set[int] = set()
    touched: set[str] = set()
    for d in result.decisions:
        if not 0 <= d.fact < len(facts) or d.fact in decided:
            log.warning("reconciliation: ignoring a decision for unknown fact %r", d.fact)
            continue
        decided.add(d.fact)
        text = " ".join((d.text or "").split()) or facts[d.fact]
        if d.event == "ADD":
            if not is_forget_request(text):
                plans.append(Plan("ADD", text))
            continue
        if d.id is None or not 0 <= d.id < len(neighbours):
            log.warning("reconciliation: ignoring %s on invented memory id %r", d.event, d.id)
            continue
        target = neighbours[d.id]
        if target.memory_id in touched and d.event != "NONE":
            log.warning("reconciliation: memory %s already changed; ignoring %s", d.id, d.event)
            continue
        if d.event != "NONE":
            touched.add(target.memory_id)
        plans.append(Plan(d.event, text if d.event == "UPDATE" else target.text, target.memory_id))
    for i, fact in enumerate(facts):
        if i not in decided and not is_forget_request(fact):
            log.info("reconciliation: the model gave no decision for fact %d; adding it", i)
            plans.append(Plan("ADD", fact))
    return plans


def _echoes_an_example(fact: str, conversation: str) -> bool:
    """Whether ``fact`` names someone or somewhere from the prompt's examples that the
    conversation never mentions (``prompts.EXAMPLE_NAMES``)."""
    said = conversation.casefold()
    return any(
        re.search(rf"\b{name}\b", fact, re.IGNORECASE) and name.casefold() not in said
        for name in prompts.EXAMPLE_NAMES
    )


def is_forget_request(text: str) -> bool:
    """A fact that asks to forget something ("Forget: ..."): never stored as a memory."""
    return text.lower().startswith("forget:")
