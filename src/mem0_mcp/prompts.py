"""Prompts for the two LLM calls of an inferring ``add``: fact extraction and reconciliation.

Written for this project. Both put today's date and the scope in context so relative
dates ("yesterday", "next week") can be resolved into the stored fact, and both carry a few
examples, which small local models follow far better than rules alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta

from .models import Message, Scope

EXTRACT_TOOL = "record_facts"
EXTRACT_TOOL_DESCRIPTION = "Record the durable facts found in the conversation."
RECONCILE_TOOL = "reconcile_memories"
RECONCILE_TOOL_DESCRIPTION = "Decide ADD, UPDATE, DELETE or NONE for each new fact."


def _scope_line(scope: Scope) -> str:
    parts = [
        f"{k}={v}" for k, v in zip(("user_id", "agent_id", "run_id"), scope.key(), strict=True) if v
    ]
    return ", ".join(parts)


def extraction_system(
    *, today: date, scope: Scope, agent_perspective: bool, custom_instructions: str | None
) -> str:
    """System prompt of call 1. ``agent_perspective`` when the memory is agent-scoped and the
    conversation has assistant turns: then facts are about the agent (its commitments,
    preferences it was given, what it learned), not about the user."""
    subject = (
        "the AI agent in this conversation (what it decided, committed to, was configured or "
        "instructed to do, and learned about its task)"
        if agent_perspective
        else "the user (their identity, preferences, relationships, plans, possessions, "
        "health, work, opinions and important events in their life)"
    )
    lines = [
        "You maintain a long-term memory. Read the conversation and extract the durable facts "
        f"about {subject} worth remembering in future conversations.",
        "",
        "Rules:",
        "- One fact per item, short and self-contained, in the third person without pronouns "
        'that need the conversation to resolve (write "Lives in Porto", not "He moved there").',
        f"- Today is {today.isoformat()}. Turn relative times into dates "
        '("yesterday" → the actual date) when the date matters.',
        "- Keep names, numbers, places and dates exactly as given.",
        "- Skip small talk, greetings, questions without an answer, and anything only true "
        "for this moment.",
        "- Never copy a greeting, a question or a sentence from the conversation as a fact. "
        'Each fact says what it is about: "Name is Marie", not "Marie".',
        "- If the user asks to forget or stop remembering something, record that as a fact "
        'starting with "Forget:" followed by what to forget.',
        "- Write facts in the language the user wrote in.",
        "- If nothing is worth remembering, return an empty list.",
        f"- Scope of this memory: {_scope_line(scope)}.",
    ]
    lines += ["", "Examples:", *_extraction_examples(today, agent_perspective)]
    if custom_instructions:
        lines += ["", "Additional instructions from the operator:", custom_instructions.strip()]
    lines += ["", 'Answer with a JSON object: {"facts": ["...", "..."]}.']
    return "\n".join(lines)


# Names in the examples (and rules) of call 1. Small models repeat examples: Qwen2.5-Coder
# 1.5B answered "Hello there!" with "Name is Marie", "Lives in Porto". A fact naming one of
# these that the conversation never mentions is such an echo (``pipeline`` drops it).
EXAMPLE_NAMES = ("Marie", "Lyon", "Lisbon", "Porto", "Miso")


def _extraction_examples(today: date, agent_perspective: bool) -> list[str]:
    """Few-shot examples for call 1. Small local models need them: without, Qwen2.5-Coder
    1.5B stored a greeting, split "Je m'appelle Marie et j'habite à Lyon" into "Marie" and
    "Lyon", and kept a move as the user's raw sentence."""
    examples: list[tuple[str, list[str]]] = [
        ("user: Hi! How are you doing today?", []),
        ("user: What's a good name for a cat?\nassistant: How about Miso?", []),
    ]
    if agent_perspective:
        examples.append(
            (
                "user: From now on, answer in French.\nassistant: D'accord, je répondrai en "
                "français.",
                ["Answers this user in French"],
            )
        )
    else:
        last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%B %Y")
        examples += [
            ("user: My name is Marie and I live in Lyon.", ["Name is Marie", "Lives in Lyon"]),
            ("user: Je m'appelle Marie et j'habite à Lyon.", ["S'appelle Marie", "Habite à Lyon"]),
            (
                "user: Big news: I moved from Lisbon to Porto last month!",
                [f"Moved from Lisbon to Porto in {last_month}", "Lives in Porto"],
            ),
        ]
    return [
        f"{conversation}\n→ {json.dumps({'facts': facts}, ensure_ascii=False)}\n"
        for conversation, facts in examples
    ]


def transcript(messages: Sequence[Message]) -> str:
    """The conversation as the extraction prompt shows it."""
    lines = []
    for m in messages:
        speaker = m.role if not m.name else f"{m.role} ({m.name})"
        lines.append(f"{speaker}: {m.content}")
    return "Conversation:\n" + "\n".join(lines)


def reconciliation_system(*, today: date) -> str:
    return "\n".join(
        [
            "You keep a memory store consistent. You get the existing memories (each with a "
            "small integer id) and newly learned facts. Decide, for each new fact, one event:",
            "- ADD: the fact is new information. Give `text` (the memory to store).",
            "- UPDATE: the fact refines or supersedes an existing memory about the same "
            "thing (a changed address, a corrected detail, more specific information). Give "
            "the existing `id` and the merged, up-to-date `text`.",
            "- DELETE: the fact contradicts an existing memory that is no longer true and "
            "nothing should replace it, or the user asked to forget it. Give the existing `id`.",
            "- NONE: the fact is already known (same meaning). Give the existing `id`.",
            "Prefer UPDATE over ADD + DELETE when a memory changes. Use only ids from the "
            "list. Never merge unrelated facts.",
            "Examples (existing memories; new facts → decisions):",
            '[{"id": 0, "text": "Lives in Lisbon"}]; ["Lives in Porto"] → [{"fact": 0, '
            '"event": "UPDATE", "id": 0, "text": "Lives in Porto"}]',
            '[{"id": 0, "text": "Is vegetarian"}]; ["Eats fish again"] → [{"fact": 0, '
            '"event": "UPDATE", "id": 0, "text": "Is no longer vegetarian; eats fish"}]',
            '[{"id": 0, "text": "Likes hiking"}]; ["Enjoys hiking"] → [{"fact": 0, '
            '"event": "NONE", "id": 0}]',
            '[{"id": 0, "text": "Name is Marie"}]; ["Has a dog named Rex"] → [{"fact": 0, '
            '"event": "ADD", "id": null, "text": "Has a dog named Rex"}]',
            f"Today is {today.isoformat()}.",
            'Answer with a JSON object: {"decisions": [{"fact": 0, "event": "ADD", '
            '"id": null, "text": "..."}]} with one decision per new fact (`fact` is the '
            "fact's index).",
        ]
    )


def reconciliation_prompt(existing: Sequence[tuple[int, str]], facts: Sequence[str]) -> str:
    return (
        "Existing memories:\n"
        + json.dumps([{"id": i, "text": t} for i, t in existing], ensure_ascii=False, indent=1)
        + "\n\nNew facts:\n"
        + json.dumps(
            [{"fact": i, "text": f} for i, f in enumerate(facts)], ensure_ascii=False, indent=1
        )
    )
