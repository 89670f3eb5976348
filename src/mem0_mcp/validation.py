"""Checks on every argument that reaches the engine, with errors that say how to fix it.

The limits come from ``MemoryConfig`` (``max_text_bytes`` etc.). Every check raises
``InvalidInputError(field, message)`` before anything is written.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from .config import MemoryConfig
from .errors import InvalidInputError
from .filters import check_number
from .models import Message, Scope

# Ids are opaque to us, but they land in logs, filters and URLs: printable, no control chars.
_ID_RE = re.compile(r"^[^\x00-\x1f\x7f]+$")


def memory_id(value: Any) -> str:
    """A canonical UUID string, or ``InvalidInputError`` naming ``memory_id``."""
    if not isinstance(value, str):
        raise InvalidInputError("memory_id", "must be a UUID string, e.g. from search_memories")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise InvalidInputError(
            "memory_id",
            f"{value[:80]!r} is not a UUID; use the `id` of a result of search_memories "
            "or list_memories",
        ) from None


def text(value: Any, config: MemoryConfig, field: str = "text") -> str:
    """Non-empty text within ``max_text_bytes`` (UTF-8); surrounding whitespace trimmed."""
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a string")
    stripped = value.strip()
    query = field == "query"
    if not stripped:
        raise InvalidInputError(
            field, "is empty; " + ("say what to look for" if query else "give the fact to remember")
        )
    size = len(stripped.encode("utf-8", errors="surrogatepass"))
    if size > config.max_text_bytes:
        raise InvalidInputError(
            field,
            f"is {size} bytes, over the {config.max_text_bytes}-byte limit; "
            + (
                "search with a short question or the key words"
                if query
                else "a memory is a fact, not a document: store the key facts separately"
            ),
        )
    try:
        stripped.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(field, "contains invalid unicode (lone surrogates)") from None
    return stripped


def scope_id(value: Any, field: str, config: MemoryConfig) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a string")
    stripped = value.strip()
    if not stripped:
        return None
    if len(stripped) > config.max_id_length or not _ID_RE.match(stripped):
        raise InvalidInputError(
            field,
            f"must be 1-{config.max_id_length} printable characters without control characters",
        )
    return stripped


def scope(
    config: MemoryConfig,
    user_id: Any = None,
    agent_id: Any = None,
    run_id: Any = None,
    *,
    use_default: bool = True,
) -> Scope:
    """The scope of a call. With no id given, ``default_user_id`` applies when
    ``use_default``; otherwise ``InvalidInputError`` (e.g. for ``delete_all``)."""
    resolved = Scope(
        user_id=scope_id(user_id, "user_id", config),
        agent_id=scope_id(agent_id, "agent_id", config),
        run_id=scope_id(run_id, "run_id", config),
    )
    if resolved.user_id or resolved.agent_id or resolved.run_id:
        return resolved
    if use_default:
        return Scope(user_id=config.default_user_id)
    raise InvalidInputError(
        "user_id", "give at least one of user_id, agent_id or run_id to say whose memories"
    )


def metadata(value: Any, config: MemoryConfig) -> dict[str, Any]:
    """A JSON object of scalars, lists and nested objects within the metadata limits."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError("metadata", 'must be a JSON object, e.g. {"topic": "food"}')
    if len(value) > config.max_metadata_keys:
        raise InvalidInputError(
            "metadata", f"has {len(value)} keys; at most {config.max_metadata_keys} are allowed"
        )
    _check_json(value, "metadata", 1, config)
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > config.max_metadata_bytes:
        raise InvalidInputError(
            "metadata", f"is {size} bytes as JSON, over the {config.max_metadata_bytes}-byte limit"
        )
    return value


def _check_json(value: Any, path: str, depth: int, config: MemoryConfig) -> None:
    if depth > config.max_metadata_depth:
        raise InvalidInputError(path, f"nests deeper than {config.max_metadata_depth} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key or key.startswith("$") or "." in key:
                raise InvalidInputError(
                    path, f"key {key!r}: keys must be non-empty strings without '.' or leading '$'"
                )
            _check_json(item, f"{path}.{key}", depth + 1, config)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]", depth + 1, config)
    elif isinstance(value, int | float):
        check_number(value, path)
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise InvalidInputError(path, f"{type(value).__name__} is not a JSON value")


def messages(value: Any, config: MemoryConfig) -> list[Message]:
    """``add`` input as messages: a string becomes one user message."""
    if isinstance(value, str):
        return [Message(role="user", content=text(value, config))]
    if not isinstance(value, list) or not value:
        raise InvalidInputError(
            "messages", "give text (a string) or a non-empty list of {role, content} messages"
        )
    if len(value) > config.max_messages:
        raise InvalidInputError(
            "messages", f"has {len(value)} messages; at most {config.max_messages} per call"
        )
    out: list[Message] = []
    for i, raw in enumerate(value):
        msg = raw if isinstance(raw, Message) else _message(raw, i)
        content = text(msg.content, config, f"messages[{i}].content")
        name = scope_id(msg.name, f"messages[{i}].name", config)
        out.append(Message(role=msg.role, content=content, name=name))
    return out


def _message(raw: Any, i: int) -> Message:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"messages[{i}]", "must be an object {role, content, name?}")
    try:
        return Message.model_validate(raw)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc), "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInputError(
            f"messages[{i}]{'.' + where if where else ''}",
            f'{first["msg"]}; a message is {{"role": "user"|"assistant"|"system", '
            '"content": "...", "name"?: "..."}',
        ) from None


def limit(value: Any, config: MemoryConfig, field: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(field, f"must be an integer from 1 to {config.max_limit}")
    if not 1 <= value <= config.max_limit:
        raise InvalidInputError(field, f"is {value}; use a value from 1 to {config.max_limit}")
    return value


# Each page reads every memory before it (see AsyncMemory.get_all), so deep offsets are
# slow anyway; past this, page with a created_at filter instead.
MAX_OFFSET = 1_000_000


def offset(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_OFFSET:
        raise InvalidInputError(
            "offset",
            f"must be an integer from 0 to {MAX_OFFSET} (a next_offset value); to go deeper, "
            'narrow the list with a filter such as {"created_at": {"lt": "<date>"}}',
        )
    return value


def threshold(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InvalidInputError("threshold", "must be a number from 0 to 1 (minimum score)")
    return float(value)


def filters_size(value: Any, config: MemoryConfig) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise InvalidInputError("filters", 'must be a JSON object, e.g. {"topic": "food"}')
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))
    if size > config.max_filter_bytes:
        raise InvalidInputError(
            "filters", f"is {size} bytes as JSON, over the {config.max_filter_bytes}-byte limit"
        )
