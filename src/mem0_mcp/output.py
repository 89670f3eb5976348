"""Tool results as agents read them.

Every result goes out twice: as MCP structured content (the complete, typed result, which
conforms to the tool's output schema) and as JSON text for clients that give the model only
text. The text is what fills the model's context, so by default (``tool_output="compact"``)
it is compact: no whitespace, no ``null`` fields, no empty ``metadata``, no ``hash``, no
``is_deleted: false``, scores to 3 decimals and times to the second (``...T10:00:00Z``).
A 10-hit search shrinks to about a third (docs/benchmarks.md, "Output size").
``tool_output="full"`` makes the text the structured content as is.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

# Keys left out of the compact text: dedup internals, and a flag that is nearly always false.
_DROPPED = frozenset({"hash"})
_TIME_KEYS = frozenset({"created_at", "updated_at"})
_SCORE_DIGITS = 3


def tool_result(result: BaseModel, mode: Literal["compact", "full"]) -> CallToolResult:
    """``result`` as a ``CallToolResult``: structured content plus its JSON text."""
    data = result.model_dump(mode="json")
    shown = compact(data) if mode == "compact" else data
    text = json.dumps(shown, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def compact(value: Any) -> Any:
    """The compact form of a result's JSON (module docstring); other values unchanged."""
    if isinstance(value, list):
        return [compact(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None or key in _DROPPED or (key == "is_deleted" and item is False):
            continue
        if key == "metadata" and item == {}:
            continue
        if key == "score" and isinstance(item, float):
            item = round(item, _SCORE_DIGITS)
        elif key in _TIME_KEYS and isinstance(item, str):
            item = _to_second(item)
        out[key] = compact(item)
    return out


def _to_second(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0:  # type: ignore[union-attr]
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="seconds")
