"""Procedural memory: an agent's run summarised into one memory it can reuse.

``add(..., memory_type="procedural_memory", agent_id=...)`` sends the conversation to the
LLM once, with the prompt below, and stores the summary as one memory with
``metadata.memory_type == "procedural_memory"``: no fact extraction, no reconciliation
(mem0's procedural memory, with a prompt of our own). Filter on it like any metadata:
``{"memory_type": "procedural_memory"}``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from . import prompts
from .errors import LLMError
from .llms import LLM
from .models import Message

PROCEDURAL_MEMORY = "procedural_memory"
TOOL = "record_procedure"
SYSTEM = "\n".join(
    [
        "You turn an AI agent's run into a procedural memory: a record the agent reads the "
        "next time it does a similar task, to repeat what worked and continue where it "
        "stopped. Write, in this order:",
        "- Task: the goal, in one line.",
        "- Progress: what is done and what remains.",
        "- Steps: numbered, in the order performed; for each, the action (the tool, command "
        "or request, with its key arguments) and its result. Keep results that matter "
        "verbatim: names, numbers, ids, paths, URLs, error messages.",
        "- Lessons: what worked, what failed and why, what to do differently.",
        "Keep every detail needed to repeat or resume the work; leave out small talk. Do not "
        "invent steps or results that are not in the conversation.",
        'Answer with a JSON object: {"summary": "..."} (the whole memory as one string, '
        "sections on their own lines).",
    ]
)


class Summary(BaseModel):
    summary: str = Field(description="The procedural memory: task, progress, steps, lessons.")


async def summarise(llm: LLM, messages: Sequence[Message], *, max_bytes: int) -> str:
    """One LLM call: the procedural memory of ``messages`` (every role, system included:
    an agent's instructions are part of how it worked). Raises ``LLMError``, also when the
    summary is empty or over ``max_bytes`` (UTF-8)."""
    result = await llm.generate(
        system=SYSTEM,
        prompt=prompts.transcript(messages),
        schema=Summary,
        tool_name=TOOL,
        tool_description="Record the procedural memory of the agent's run.",
    )
    text = result.summary.strip()
    size = len(text.encode("utf-8"))
    if not text or size > max_bytes:
        raise LLMError(
            llm.name,
            "it wrote an empty procedural memory"
            if not text
            else f"it wrote a procedural memory of {size} bytes, over the {max_bytes}-byte "
            "limit (MEM0_MCP_MAX_TEXT_BYTES); nothing was stored",
        )
    return text
