"""How a memory is laid out as a vector-store payload, and read back.

Payload keys (DESIGN.md §3): ``data`` (the memory text), ``hash`` (md5 of the text, for
exact dedup), ``user_id``, ``agent_id``, ``run_id``, ``actor_id``, ``role``, ``created_at``
and ``updated_at`` (ISO 8601 UTC), ``created_ts`` and ``updated_ts`` (the same instants as
float epoch seconds, for range filters and ordering), ``metadata`` (the caller's object,
kept apart so scope keys are never taken from it) and ``_lc`` (lower-cased copies for
case-insensitive filters, see ``filters.lowercase_shadow``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from .filters import lowercase_shadow
from .models import MemoryItem, Scope


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 with microseconds always written (``isoformat`` drops a zero fraction)."""
    return moment.isoformat(timespec="microseconds")


def text_hash(text: str) -> str:
    """md5 hex digest of the UTF-8 text: mem0's exact-duplicate key."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def build_payload(
    text: str,
    *,
    scope: Scope,
    metadata: dict[str, Any],
    created: datetime,
    updated: datetime | None = None,
    actor_id: str | None = None,
    role: str | None = None,
) -> dict[str, Any]:
    """The payload of a memory whose text is ``text``."""
    updated_at = iso(updated) if updated else None
    return {
        "data": text,
        "hash": text_hash(text),
        "user_id": scope.user_id,
        "agent_id": scope.agent_id,
        "run_id": scope.run_id,
        "actor_id": actor_id,
        "role": role,
        "created_at": iso(created),
        "updated_at": updated_at,
        "created_ts": created.timestamp(),
        # None until the first update, like updated_at: filters on updated_at ("*", ranges)
        # then match only memories that were updated.
        "updated_ts": updated.timestamp() if updated else None,
        "metadata": metadata,
        "_lc": lowercase_shadow(text, metadata),
    }


def item_from_payload(
    point_id: str, payload: dict[str, Any], score: float | None = None
) -> MemoryItem:
    """The ``MemoryItem`` agents see for a stored point."""
    return MemoryItem(
        id=point_id,
        memory=payload["data"],
        hash=payload["hash"],
        metadata=payload.get("metadata") or {},
        user_id=payload.get("user_id"),
        agent_id=payload.get("agent_id"),
        run_id=payload.get("run_id"),
        actor_id=payload.get("actor_id"),
        role=payload.get("role"),
        created_at=payload["created_at"],
        updated_at=payload.get("updated_at"),
        score=score,
    )
