"""Checks on every argument that reaches the engine, with errors that say how to fix it.

The limits come from ``MemoryConfig`` (``max_text_bytes`` etc.). Every check raises
``InvalidInputError(field, message)`` before anything is written.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import numpy as np

from .config import MemoryConfig
from .errors import InvalidInputError
from .filters import check_number
from .history import HISTORY_COLUMNS
from .models import Event, Message, Role, Scope
from .payload import build_payload, iso
from .vector_stores.base import SparseVector

# Ids are opaque to us, but they land in logs, filters and URLs: printable, no control chars,
# no lone surrogates (JSON can carry "\ud800"; Qdrant Edge refuses it in a payload).
_ID_RE = re.compile(r"^[^\x00-\x1f\x7f\ud800-\udfff]+$")


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
    try:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInputError("metadata", "contains invalid unicode (lone surrogates)") from None
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


def memory_type(value: Any, scope: Scope, infer: bool | None) -> bool:
    """Whether ``add`` writes a procedural memory (``"procedural_memory"``; ``None`` for
    facts). One summarises an agent's run, so it needs ``agent_id``, and the LLM writes it,
    so not with ``infer=False``."""
    if value is None:
        return False
    if value != "procedural_memory":
        raise InvalidInputError(
            "memory_type",
            f'{str(value)[:40]!r} is not a memory type; use "procedural_memory" to summarise '
            "an agent's run, or leave it out for facts",
        )
    if not scope.agent_id:
        raise InvalidInputError(
            "agent_id", "a procedural memory summarises an agent's run: give the agent's agent_id"
        )
    if infer is False:
        raise InvalidInputError(
            "infer", "a procedural memory is written by the LLM; leave infer out with memory_type"
        )
    return True


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


# --- stored records (``mem0-mcp import``) ---------------------------------------------------
# An export file holds memories and history rows as the store keeps them. Each is checked
# with the rules the tools apply to their arguments and rebuilt the way the tools build it,
# so an import stores nothing a tool call could not have stored.

_EVENTS = get_args(Event)
_ROLES = get_args(Role)
# Qdrant's largest dense vector; also bounds the import's line cap (transfer/format.py).
MAX_DIM = 65536
_PAYLOAD_FIELDS = (
    "data",
    "user_id",
    "agent_id",
    "run_id",
    "actor_id",
    "role",
    "created_at",
    "updated_at",
    "metadata",
)
# Computed from the fields above by ``build_payload``; a file's values for them are ignored.
_COMPUTED_PAYLOAD_FIELDS = ("hash", "created_ts", "updated_ts", "_lc")


def canonical_uuid(value: Any, field: str) -> str:
    """A UUID string in canonical form, or ``InvalidInputError`` naming ``field``."""
    try:
        return str(uuid.UUID(value.strip()))
    except (AttributeError, ValueError):
        raise InvalidInputError(field, f"{str(value)[:80]!r} is not a UUID string") from None


def timestamp(value: Any, field: str) -> datetime:
    """An ISO 8601 time with a UTC offset (``2026-11-22T10:00:00.123456+00:00``), as an
    aware UTC ``datetime``; ``InvalidInputError`` naming ``field`` otherwise."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
    raise InvalidInputError(
        field,
        f"{str(value)[:60]!r} is not an ISO 8601 time with a UTC offset, "
        "e.g. 2026-11-22T10:00:00.000000+00:00",
    )


def vector(value: Any, dim: int, field: str = "vector") -> list[float]:
    """A dense embedding for a cosine store: ``dim`` numbers (a list, or a 1-d numpy array),
    each finite as a float32, with a finite non-zero length (the store normalises it; a zero
    or overflowing length gives NaN scores). Returns the numbers as floats."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.shape == (dim,):
        numbers = value
    elif isinstance(value, list | tuple) and len(value) == dim:
        if not set(map(type, value)) <= {float, int}:  # bool is no number here
            raise InvalidInputError(field, "must hold numbers only")
        try:
            numbers = np.asarray(value, dtype=np.float64)
        except OverflowError:  # an integer beyond any float
            numbers = np.full(dim, math.inf)
    else:
        size = len(value) if isinstance(value, list | tuple | np.ndarray) else type(value).__name__
        raise InvalidInputError(field, f"must be a list of {dim} numbers, got {size}")
    with np.errstate(all="ignore"):
        as_stored = numbers.astype(np.float32)  # 1e39 becomes inf, as the store would keep it
        square = float(np.dot(as_stored, as_stored))
    if not np.isfinite(as_stored).all():
        raise InvalidInputError(
            field, "holds NaN or infinite values (as float32); every value must be finite"
        )
    if not 0.0 < square < math.inf:
        raise InvalidInputError(
            field, "has a zero (or overflowing) length; cosine similarity needs a non-zero vector"
        )
    vector: list[float] = numbers.astype(float).tolist()
    return vector


def keyword_vector(value: Any, field: str = "sparse") -> SparseVector:
    """A keyword vector ``{"indices": [int], "values": [float]}``: as many values as
    indices, indices distinct in 0..2**32-1 (Qdrant's sparse index type), values finite."""
    if not isinstance(value, Mapping) or set(value) != {"indices", "values"}:
        raise InvalidInputError(field, 'must be {"indices": [int, ...], "values": [number, ...]}')
    indices, values = value["indices"], value["values"]
    if not isinstance(indices, list) or not isinstance(values, list) or len(indices) != len(values):
        raise InvalidInputError(field, "indices and values must be lists of the same length")
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2**32 for i in indices):
        raise InvalidInputError(f"{field}.indices", "must be integers from 0 to 4294967295")
    if len(set(indices)) != len(indices):
        raise InvalidInputError(f"{field}.indices", "must be distinct")
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise InvalidInputError(f"{field}.values", "must be finite numbers")
    return SparseVector(indices=list(indices), values=[float(v) for v in values])


def stored_payload(value: Any, config: MemoryConfig) -> dict[str, Any]:
    """A memory's vector-store payload (``mem0_mcp.payload``), rebuilt by ``build_payload``
    from its fields, each checked as the tools check it: ``data`` as ``text``, the scope ids
    and ``actor_id`` as ``scope_id`` (at least one scope id), ``role`` one of user /
    assistant / system, ``metadata`` as ``metadata``, ``created_at`` / ``updated_at`` as
    ``timestamp``. ``hash``, ``created_ts``, ``updated_ts`` and ``_lc`` are computed again.
    Raises ``InvalidInputError`` naming ``payload.<key>`` (``metadata...`` for metadata)."""
    if not isinstance(value, Mapping):
        raise InvalidInputError("payload", "must be a JSON object (the memory's stored fields)")
    _known_keys(value, _PAYLOAD_FIELDS + _COMPUTED_PAYLOAD_FIELDS, "payload.")
    updated = value.get("updated_at")
    payload = build_payload(
        text(value.get("data"), config, "payload.data"),
        scope=_stored_scope(value, "payload.", config),
        metadata=metadata(value.get("metadata"), config),
        created=timestamp(value.get("created_at"), "payload.created_at"),
        updated=None if updated is None else timestamp(updated, "payload.updated_at"),
        actor_id=scope_id(value.get("actor_id"), "payload.actor_id", config),
        role=_role(value.get("role"), "payload.role"),
    )
    return payload


def history_row(value: Any, config: MemoryConfig) -> dict[str, Any]:
    """One history row keyed by ``HISTORY_COLUMNS``, as the tools write it: ``id`` and
    ``memory_id`` UUIDs; ``event`` ADD / UPDATE / DELETE / NONE; ``new_memory`` (required by
    ADD and UPDATE) and ``old_memory`` (required by UPDATE and DELETE) as ``text``;
    ``created_at`` (required) and ``updated_at`` as ``timestamp``; ``is_deleted`` a boolean,
    true exactly for DELETE; ``actor_id``, ``role`` and the scope ids as in a payload (at
    least one scope id). Raises ``InvalidInputError`` naming the column."""
    if not isinstance(value, Mapping):
        raise InvalidInputError("history", "must be a JSON object (one history row)")
    _known_keys(value, HISTORY_COLUMNS, "")
    event = value.get("event")
    if event not in _EVENTS:
        raise InvalidInputError("event", f"{str(event)[:40]!r} is not one of {', '.join(_EVENTS)}")
    texts: dict[str, str | None] = {}
    for column, needed_by in (
        ("old_memory", ("UPDATE", "DELETE")),
        ("new_memory", ("ADD", "UPDATE")),
    ):
        given = value.get(column)
        if given is None and event in needed_by:
            raise InvalidInputError(column, f"is required in an {event} row")
        texts[column] = None if given is None else text(given, config, column)
    is_deleted = value.get("is_deleted", event == "DELETE")
    if not isinstance(is_deleted, bool) or is_deleted != (event == "DELETE"):
        raise InvalidInputError("is_deleted", "must be true for a DELETE row and false otherwise")
    updated = value.get("updated_at")
    scope = _stored_scope(value, "", config)
    row = {
        "id": canonical_uuid(value.get("id"), "id"),
        "memory_id": canonical_uuid(value.get("memory_id"), "memory_id"),
        **texts,
        "event": event,
        "created_at": iso(timestamp(value.get("created_at"), "created_at")),
        "updated_at": None if updated is None else iso(timestamp(updated, "updated_at")),
        "is_deleted": is_deleted,
        "actor_id": scope_id(value.get("actor_id"), "actor_id", config),
        "role": _role(value.get("role"), "role"),
        "user_id": scope.user_id,
        "agent_id": scope.agent_id,
        "run_id": scope.run_id,
    }
    return row


def _known_keys(value: Mapping[str, Any], known: tuple[str, ...], prefix: str) -> None:
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise InvalidInputError(
            f"{prefix}{unknown[0][:40]}", f"is not a known field; the fields are {', '.join(known)}"
        )


def _stored_scope(value: Mapping[str, Any], prefix: str, config: MemoryConfig) -> Scope:
    resolved = Scope(
        user_id=scope_id(value.get("user_id"), f"{prefix}user_id", config),
        agent_id=scope_id(value.get("agent_id"), f"{prefix}agent_id", config),
        run_id=scope_id(value.get("run_id"), f"{prefix}run_id", config),
    )
    if not (resolved.user_id or resolved.agent_id or resolved.run_id):
        raise InvalidInputError(
            f"{prefix}user_id", "every memory belongs to a user_id, agent_id or run_id; none is set"
        )
    return resolved


def _role(value: Any, field: str) -> str | None:
    if value is not None and value not in _ROLES:
        raise InvalidInputError(field, f"{str(value)[:40]!r} is not one of {', '.join(_ROLES)}")
    return None if value is None else str(value)


def file_path(value: Any, field: str) -> Path:
    """A file path given as text (``~`` expanded), or ``InvalidInputError``."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise InvalidInputError(field, "must be a file path, e.g. /home/me/memories.jsonl.gz")
    return Path(value).expanduser()
