"""Result and argument models: the exact JSON shapes agents see (DESIGN.md §2).

Times are ISO 8601 UTC strings with offset (``2026-11-22T10:00:00.123456+00:00``); ids are
UUID strings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .scope import Scope as Scope  # re-exported; scope.py is its home

Event = Literal["ADD", "UPDATE", "DELETE", "NONE"]
# How ``import_from`` treats dense vectors: recompute when the file's model differs
# ("auto"), refuse such a file ("never"), or recompute all ("always").
Reembed = Literal["auto", "always", "never"]
Role = Literal["user", "assistant", "system"]
ScopeKey = Literal["user_id", "agent_id", "run_id"]
# What ``add`` writes besides facts: an agent's run summarised (procedural.py).
MemoryType = Literal["procedural_memory"]


class Message(BaseModel):
    """One chat message given to ``add``; ``name`` becomes the memory's ``actor_id``."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str
    name: str | None = None


class MemoryItem(BaseModel):
    """One stored memory. ``score`` is set by searches only (higher is better)."""

    id: str
    memory: str
    hash: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    actor_id: str | None = None
    role: str | None = None
    created_at: str
    updated_at: str | None = None
    score: float | None = None


class AddEvent(BaseModel):
    """What ``add`` did with one fact or message.

    ``NONE`` means already known: ``id`` names the existing memory. ``previous_memory`` is
    set on ``UPDATE`` and ``DELETE``.
    """

    id: str
    memory: str
    event: Event
    previous_memory: str | None = None


class AddResult(BaseModel):
    results: list[AddEvent]


class SearchResult(BaseModel):
    results: list[MemoryItem]


class ListResult(BaseModel):
    """A page of memories, newest first; pass ``next_offset`` back as ``offset`` for the
    next page (``None`` when this page is the last)."""

    results: list[MemoryItem]
    next_offset: int | None = None


class UpdateResult(BaseModel):
    id: str
    memory: str
    previous_memory: str
    event: Literal["UPDATE"] = "UPDATE"


class DeleteResult(BaseModel):
    id: str
    memory: str
    event: Literal["DELETE"] = "DELETE"


class HistoryEvent(BaseModel):
    """One row of a memory's audit trail (mem0-compatible columns)."""

    id: str
    memory_id: str
    old_memory: str | None
    new_memory: str | None
    event: Event
    created_at: str
    updated_at: str | None
    is_deleted: bool
    actor_id: str | None
    role: str | None


class HistoryResult(BaseModel):
    results: list[HistoryEvent]


class DeleteAllResult(BaseModel):
    deleted: int


class TransferStats(BaseModel):
    """What one ``export_to`` or ``import_from`` moved. ``seconds`` is wall time."""

    memories: int = 0
    history: int = 0
    history_new: int = 0  # import only: rows that were not in the target yet
    reembedded: int = 0  # import only: memories whose dense vector was recomputed
    kept: int = 0  # import only: left as the target has them (same or later version, or deleted)
    seconds: float = 0.0


class ScopeCount(BaseModel):
    """One user, agent or run (``id`` is its ``user_id`` / ``agent_id`` / ``run_id``) and how
    many memories carry it."""

    id: str
    memories: int


class ScopeList(BaseModel):
    """The users, agents and runs that hold memories within a scope, each with its count,
    most memories first (ties by id), at most ``limit`` of each kind. ``memories`` is the
    number of memories in the scope; ``truncated`` names the kinds cut at ``limit``."""

    memories: int
    user_ids: list[ScopeCount]
    agent_ids: list[ScopeCount]
    run_ids: list[ScopeCount]
    truncated: list[ScopeKey] = Field(default_factory=list)
