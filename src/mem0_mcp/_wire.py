"""The owner channel's wire format: one JSON object per line over a Unix socket.

A call is one connection:

    client → owner   {"method": "search", "kwargs": {...}, "sampling": false}
    owner  → client  {"generate": {...}}            (0..n times, sampling calls only)
    client → owner   {"result": {...}} | {"error": {...}}   (one answer per generate)
    owner  → client  {"ok": <result JSON>} | {"error": {...}}

Results are the engine's pydantic models as JSON, rebuilt by method name; errors carry
the engine's error type and message so the forwarding process raises the same error the
owner did.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from .errors import ConfigError, InvalidInputError, LLMError, Mem0MCPError, NotFoundError
from .models import (
    AddResult,
    DeleteAllResult,
    DeleteResult,
    HistoryResult,
    ListResult,
    MemoryItem,
    Scope,
    SearchResult,
    UpdateResult,
)

# The engine methods a forwarding process may call, and what each returns.
RESULTS: dict[str, type[BaseModel] | None] = {
    "add": AddResult,
    "search": SearchResult,
    "get": MemoryItem,
    "get_all": ListResult,
    "update": UpdateResult,
    "delete": DeleteResult,
    "delete_all": DeleteAllResult,
    "history": HistoryResult,
    "reset": None,
}
# Calls that change nothing: safe to send again if the owner died while answering.
READ_ONLY = frozenset({"search", "get", "get_all", "history"})

# Longest line accepted (a 64 KiB memory as JSON, plus messages and metadata, fits).
MAX_LINE = 16 * 1024 * 1024


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def encode_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    if isinstance(out.get("scope"), Scope):
        out["scope"] = out["scope"].model_dump()
    if isinstance(out.get("messages"), list):
        out["messages"] = [
            m.model_dump() if isinstance(m, BaseModel) else m for m in out["messages"]
        ]
    return out


def decode_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    if isinstance(out.get("scope"), dict):
        out["scope"] = Scope(**out["scope"])
    return out


def encode_result(result: BaseModel | None) -> Any:
    return None if result is None else result.model_dump(mode="json")


def decode_result(method: str, data: Any) -> BaseModel | None:
    model = RESULTS[method]
    return None if model is None or data is None else model.model_validate(data)


def encode_error(exc: BaseException) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, InvalidInputError):
        data["field"] = exc.field
        data["message"] = str(exc)[len(exc.field) + 2 :]
    elif isinstance(exc, NotFoundError):
        data["memory_id"] = exc.memory_id
    elif isinstance(exc, LLMError):
        data.update(provider=exc.provider, cause=exc.cause)
    return data


def decode_error(data: dict[str, Any]) -> Mem0MCPError:
    kind = data.get("type")
    if kind == "InvalidInputError":
        return InvalidInputError(data.get("field", "arguments"), data.get("message", ""))
    if kind == "NotFoundError":
        return NotFoundError(data.get("memory_id", ""))
    if kind == "LLMError":
        return LLMError(data.get("provider", "?"), data.get("cause", data.get("message", "")))
    if kind == "ConfigError":
        return ConfigError(data.get("message", ""))
    return Mem0MCPError(data.get("message", "the store's owner process failed this call"))
