"""The owner channel's wire format: one JSON object per line (``_channel.py`` carries it).

A call is one connection (past the ``tcp`` channel's handshake, ``_channel.py``):

    client → owner   {"method": "search", "kwargs": {...}, "sampling": false}
    owner  → client  {"generate": {...}}            (0..n times, sampling calls only;
                                                     images as {media_type, data: base64})
    client → owner   {"result": {...}} | {"error": {...}}   (one answer per generate)
    owner  → client  {"ok": <result JSON>} | {"error": {...}}

Results are the engine's pydantic models as JSON, rebuilt by method name. An error is
``{"type": class name, "message": str(error), "args": {constructor argument: value}}``, so
the forwarding process raises the same error the owner did (``errors.py`` keeps every
constructor argument as an attribute for this).
"""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from . import models
from .errors import Mem0MCPError
from .llms import Image
from .models import Scope

# The engine methods a forwarding process may call, and what each returns.
RESULTS: dict[str, type[BaseModel] | None] = {
    "add": models.AddResult,
    "search": models.SearchResult,
    "get": models.MemoryItem,
    "get_all": models.ListResult,
    "update": models.UpdateResult,
    "delete": models.DeleteResult,
    "delete_all": models.DeleteAllResult,
    "history": models.HistoryResult,
    "scopes": models.ScopeList,
    "reset": None,
    "export_to": models.TransferStats,
    "import_from": models.TransferStats,
}
# Calls that change nothing: safe to send again if the owner died while answering.
READ_ONLY = frozenset({"search", "get", "get_all", "history", "scopes", "export_to"})

# Longest line accepted (a 64 KiB memory as JSON, plus messages and metadata, fits).
MAX_LINE = 16 * 1024 * 1024


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def encode_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    if isinstance(out.get("scope"), Scope):
        out["scope"] = out["scope"].model_dump()
    if isinstance(out.get("messages"), Sequence) and not isinstance(out["messages"], str):
        out["messages"] = [
            m.model_dump() if isinstance(m, BaseModel) else m for m in out["messages"]
        ]
    return out


def decode_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    if isinstance(out.get("scope"), dict):
        out["scope"] = Scope(**out["scope"])
    return out


def encode_images(images: Sequence[Image]) -> list[dict[str, Any]]:
    return [{"media_type": i.media_type, "data": i.base64, "detail": i.detail} for i in images]


def decode_images(data: list[dict[str, Any]]) -> list[Image]:
    return [Image(i["media_type"], base64.b64decode(i["data"]), i.get("detail")) for i in data]


def encode_result(result: BaseModel | None) -> Any:
    return None if result is None else result.model_dump(mode="json")


def decode_result(method: str, data: Any) -> BaseModel | None:
    model = RESULTS[method]
    return None if model is None or data is None else model.model_validate(data)


def encode_error(exc: Mem0MCPError) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "args": {name: getattr(exc, name) for name in _arguments(type(exc))},
    }


def decode_error(data: dict[str, Any]) -> Mem0MCPError:
    """The error ``encode_error`` described; a plain ``Mem0MCPError`` with its message when
    the type is unknown here or its arguments do not fit."""
    message = str(data.get("message") or "the store's owner process failed this call")
    cls = _error_classes().get(str(data.get("type")), Mem0MCPError)
    try:
        names = _arguments(cls)
        return cls(**{n: data["args"][n] for n in names}) if names else cls(message)
    except (KeyError, TypeError):
        return Mem0MCPError(message)


def _error_classes() -> dict[str, type[Mem0MCPError]]:
    found: dict[str, type[Mem0MCPError]] = {}
    todo = [Mem0MCPError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def _arguments(cls: type[Mem0MCPError]) -> list[str]:
    """The constructor's argument names, or ``[]`` for an error built from its message."""
    if cls.__init__ is Exception.__init__:
        return []
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]
