"""The one write path: every change reaches the history and the vector store, all or nothing.

A write is a list of ``Change``s (ADD / UPDATE / DELETE of a memory, decided elsewhere).
``Journal.apply`` makes them durable in this order:

1. under the write lock that orders every write, check that each UPDATE / DELETE target
   still holds the text it was planned from (``ConflictError`` otherwise);
2. one history transaction: the history rows *and* a journal entry per vector-store
   operation (``JournalEntry``);
3. the vector store applies the operations;
4. the journal entries are dropped.

A crash after 2 leaves entries in the journal; ``replay`` (run on every open) applies them
again (upsert and delete are idempotent), so the stores never disagree after a crash. A
vector store that *refuses* a write at 3 gets its history rows reverted, so a failed call
leaves nothing behind. Bulk writers (``mem0-mcp import``) stage many entries in one
history transaction and apply them with ``apply_staged``; if the vector store fails
half-way there, the journal is *behind* and every later write first brings it up to date,
so nothing written later is overwritten by an old entry replayed afterwards.

Graph-store operations will join the same entries, so one memory's vector and graph
changes are applied together (see docs/architecture.md, "Crash safety").
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .errors import ConflictError, StoreUnavailableError
from .models import Event
from .payload import iso, utc_now
from .scope import Scope
from .vector_stores.base import Point, SparseVector

if TYPE_CHECKING:
    from .history import HistoryStore
    from .keywords import KeywordEncoder
    from .vector_stores import VectorStore

log = logging.getLogger(__name__)

# Journal entries held in memory at once when replaying: an import stages its whole file.
REPLAY_PAGE = 64


@dataclass(slots=True)
class Change:
    """One decided change of one memory, applied atomically with the others of its call.

    ``text``: the memory's text after the change (before it, for DELETE); ``previous``:
    the text the change was planned from (``None`` for ADD); ``payload``: the stored
    payload after the change (the current one for DELETE); ``vector``: the dense embedding
    of ``text`` (ADD / UPDATE).
    """

    event: Literal["ADD", "UPDATE", "DELETE"]
    memory_id: str
    text: str
    previous: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One event to append to the history. ``created_at`` is the event time (ISO 8601 UTC)."""

    memory_id: str
    event: Event
    old_memory: str | None
    new_memory: str | None
    created_at: str
    actor_id: str | None = None
    role: str | None = None
    scope: Scope = Scope()
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def is_deleted(self) -> bool:
        return self.event == "DELETE"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A vector-store operation not yet known to be applied.

    ``op="upsert"`` carries the whole ``point`` (its ``id`` is ``memory_id``); ``"delete"``
    carries none. ``seq`` is its place in the journal once recorded (``None`` before).
    """

    op: Literal["upsert", "delete"]
    memory_id: str
    point: Point | None = None
    seq: int | None = None

    def encode(self) -> str | None:
        """The point as the journal stores it: JSON ``{"vector", "sparse", "payload"}``,
        the dense vector as base64 of float32 bytes (``{"f32": ...}``). Embeddings are
        float32 from the model on, so nothing is lost; as decimal text a 384-d point was
        3.6× bigger (an import stages its whole file here) and ~0.6 ms slower to write and
        read back."""
        p = self.point
        if p is None:
            return None
        vector = None
        if p.vector is not None:
            raw = np.asarray(p.vector, dtype="<f4").tobytes()
            vector = {"f32": base64.b64encode(raw).decode("ascii")}
        sparse = p.sparse and {"indices": p.sparse.indices, "values": p.sparse.values}
        return json.dumps({"vector": vector, "sparse": sparse, "payload": p.payload})

    @classmethod
    def decode(cls, seq: int, op: Any, memory_id: str, stored: str | None) -> JournalEntry:
        """The entry ``encode`` wrote (journals from before it hold a plain float list)."""
        if stored is None:
            return cls(op=op, memory_id=memory_id, seq=seq)
        data = json.loads(stored)
        vector = data.get("vector")
        if isinstance(vector, dict):
            vector = np.frombuffer(base64.b64decode(vector["f32"]), dtype="<f4").tolist()
        sparse = data.get("sparse")
        point = Point(
            id=memory_id,
            vector=vector,
            payload=data["payload"],
            sparse=SparseVector(sparse["indices"], sparse["values"]) if sparse else None,
        )
        return cls(op=op, memory_id=memory_id, point=point, seq=seq)


class Journal:
    """The write path over ``history`` (rows + journal) and ``vectors`` (module docstring).

    ``lock`` is the write lock that orders every write; hold it (``async with
    journal.lock``) for anything that must see no write in between, such as an export.
    """

    def __init__(
        self, history: HistoryStore, vectors: VectorStore, keywords: KeywordEncoder
    ) -> None:
        self.history = history
        self.vectors = vectors
        self.keywords = keywords
        self.lock = asyncio.Lock()
        self._behind = False  # committed entries a failed bulk apply left in the journal

    async def apply(self, changes: Sequence[Change], *, skip_stale: bool = False) -> int:
        """Make ``changes`` durable in history and the vector store, all or nothing; returns
        how many were applied.

        Each UPDATE / DELETE was planned from the memory's text at the time (``previous``).
        Scope locks are per exact scope, so a call on a wider scope (``delete_all`` for a
        user, an add reconciling against a user's agent-scoped memories) or ``reset`` can
        change that memory first; under the write lock, a memory that is gone or holds
        another text makes the call raise ``ConflictError`` with nothing applied, or with
        ``skip_stale`` leaves that change out.
        """
        if not changes:
            return 0
        rows = [self._row(c, iso(utc_now())) for c in changes]
        entries = [self.entry(c) for c in changes]
        # One write at a time from check to applied (~1 ms): the vector store then applies
        # changes in history order, even for two scopes touching one memory, and a crash
        # leaves at most this write's journal entries pending.
        async with self.lock:
            await self._catch_up()
            stale = await self._stale(changes)
            if stale and not skip_stale:
                raise ConflictError(next(iter(stale)))
            if stale:
                rows = [r for r in rows if r.memory_id not in stale]
                entries = [e for e in entries if e.memory_id not in stale]
            if rows:
                seqs = await self.history.record(rows, entries)
                try:
                    await self.apply_entries(entries)
                except Exception:
                    # The store refused the write (a crash would not get here): take the
                    # history back too, so a failed call leaves nothing behind and the
                    # journal holds nothing that could never be applied.
                    await self.history.revert(seqs, [r.id for r in rows])
                    raise
                await self.history.applied(seqs)
        return len(rows)

    def entry(self, change: Change) -> JournalEntry:
        """The vector-store operation of ``change``, with its keyword vector computed."""
        if change.event == "DELETE":
            return JournalEntry(op="delete", memory_id=change.memory_id)
        point = Point(
            id=change.memory_id,
            vector=change.vector,
            payload=change.payload,
            sparse=self.keywords.document(change.text),
        )
        return JournalEntry(op="upsert", memory_id=change.memory_id, point=point)

    async def apply_entries(self, entries: Sequence[JournalEntry]) -> None:
        """Apply entries to the vector store, upserts then deletes (an entry list never
        holds both for one memory)."""
        upserts = [e.point for e in entries if e.op == "upsert" and e.point is not None]
        deletes = [e.memory_id for e in entries if e.op == "delete"]
        if upserts:
            await self.vectors.upsert(upserts)
        if deletes:
            await self.vectors.delete(deletes)

    async def apply_staged(self, after: int, page: int) -> None:
        """Apply the committed entries with ``seq`` > ``after`` (a bulk write's), ``page`` at
        a time, dropping each page once applied. Call with ``lock`` held. If the vector store
        fails, the rest stays in the journal and the next write applies it first."""
        try:
            while entries := await self.history.pending(after=after, limit=page):
                await self.apply_entries(entries)
                await self.history.applied([e.seq for e in entries if e.seq is not None])
        except Exception:
            self._behind = True
            raise

    async def replay(self) -> None:
        """Apply every entry left in the journal (at open: what a crash left half-done)."""
        replayed = 0
        while pending := await self.history.pending(limit=REPLAY_PAGE):
            if not replayed:
                log.warning("replaying unapplied changes from the journal")
            replayed += len(pending)
            for entry in pending:
                try:
                    await self.apply_entries([entry])
                except Exception:
                    # One entry the store cannot take must not keep the store from opening.
                    log.exception(
                        "journal entry %s (%s of memory %s) cannot be applied and is dropped; "
                        "its history row stays",
                        entry.seq,
                        entry.op,
                        entry.memory_id,
                    )
            await self.history.applied([e.seq for e in pending if e.seq is not None])
        if replayed:
            log.warning("replayed %d change(s) from the journal", replayed)

    async def _catch_up(self) -> None:
        """Before a write: apply what a failed bulk apply left, so this write is not
        overwritten by older entries replayed later."""
        if not self._behind:
            return
        try:
            while entries := await self.history.pending(limit=REPLAY_PAGE):
                await self.apply_entries(entries)
                await self.history.applied([e.seq for e in entries if e.seq is not None])
        except Exception as exc:
            raise StoreUnavailableError(
                "the vector store is failing and earlier changes are still waiting in the "
                f"journal ({type(exc).__name__}: {exc}); nothing was written. Check the disk "
                "and restart the server: the journal is applied when the store opens"
            ) from exc
        self._behind = False

    async def _stale(self, changes: Sequence[Change]) -> set[str]:
        """Ids of the UPDATE / DELETE targets that no longer hold the text they were planned
        from (or no longer exist)."""
        planned = {c.memory_id: c.previous for c in changes if c.event != "ADD"}
        if not planned:
            return set()
        stored = {p.id: p.payload.get("data") for p in await self.vectors.retrieve(list(planned))}
        return {mid for mid, text in planned.items() if stored.get(mid) != text}

    @staticmethod
    def _row(change: Change, now: str) -> HistoryRow:
        payload = change.payload
        return HistoryRow(
            memory_id=change.memory_id,
            event=change.event,
            old_memory=change.previous,
            new_memory=None if change.event == "DELETE" else change.text,
            # The instant the memory itself records, so history and memory agree.
            created_at=now
            if change.event == "DELETE"
            else payload.get("updated_at") or payload["created_at"],
            actor_id=payload.get("actor_id"),
            role=payload.get("role"),
            scope=Scope.of(payload),
        )
