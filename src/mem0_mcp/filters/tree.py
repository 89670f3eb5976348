"""The backend-neutral filter tree: ``Condition`` leaves joined by ``And`` / ``Or`` / ``Not``.

Keys are payload paths (``"user_id"``, ``"metadata.topic"``, ``"created_ts"``) or ``"id"``
for the point id, so each vector-store backend translates the tree one to one into its
native filter (``lower.translate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "exists"]


@dataclass(frozen=True, slots=True)
class Condition:
    """``key`` (a payload path such as ``"user_id"`` or ``"metadata.topic"``, or ``"id"``
    for the point id) compared with ``value`` by ``op``; ``exists`` ignores ``value``."""

    key: str
    op: Op
    value: Any = None


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Filter


Filter = Condition | And | Or | Not


def all_of(*items: Filter | None) -> Filter | None:
    """Conjunction of the given filters, skipping ``None``; ``None`` if nothing is left."""
    kept = tuple(i for i in items if i is not None)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(kept)
