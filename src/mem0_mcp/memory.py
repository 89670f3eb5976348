"""``AsyncMemory``: the engine, used by the MCP server and as a Python library. Its public
calls follow ``MemoryAPI`` (``api.py``), which documents them.

    async with AsyncMemory(MemoryConfig(data_dir="./mem")) as memory:
        await memory.add("I live in Lisbon", user_id="alice")
        hits = await memory.search("where does alice live?", user_id="alice")

Every write goes through ``_apply``: history rows and a journal entry are committed in one
SQLite transaction, then the vector store applies the change, then the journal entry is
dropped. A crash at any point leaves the journal to replay on the next open, so the vector
store and the history never disagree (docs/architecture.md, "Crash safety").
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from . import pipeline, retrieval, validation
from ._locks import KeyedLock
from .config import MemoryConfig
from .embeddings import Embedder
from .errors import (
    ConflictError,
    InvalidInputError,
    LLMError,
    NotFoundError,
    StoreUnavailableError,
)
from .filters import Condition, Filter, Not, all_of, parse_filters
from .history import HistoryRow, HistoryStore, JournalEntry
from .keywords import KeywordEncoder
from .llms import LLM, create_llm, needs_client_sampling
from .models import (
    AddEvent,
    AddResult,
    DeleteAllResult,
    DeleteResult,
    HistoryResult,
    ListResult,
    MemoryItem,
    Message,
    Reembed,
    Scope,
    SearchResult,
    TransferStats,
    UpdateResult,
)
from .payload import build_payload, iso, item_from_payload, scope_of, text_hash, utc_now
from .vector_stores import VectorStore, create_vector_store
from .vector_stores.base import Point, ScoredPoint, SparseVector

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def _call(method: F) -> F:
    """A public call of ``AsyncMemory``: refused once ``close`` has begun, and waited for
    by ``close``, so closing never cuts a call off half-way."""

    @functools.wraps(method)
    async def wrapper(self: AsyncMemory, *args: Any, **kwargs: Any) -> Any:
        if self._closed:
            raise StoreUnavailableError(
                f"this memory ({self.config.data_dir}) is closed; open a new AsyncMemory"
            )
        self._in_flight += 1
        self._idle.clear()
        try:
            return await method(self, *args, **kwargs)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    return cast(F, wrapper)


# Existing memories shown to the reconciliation call per new fact (before de-duplication).
_NEIGHBOURS_PER_FACT = 5
_REPLAY_PAGE = 64  # journal entries in memory at once when replaying
_NUMBER_RE = re.compile(r"\d+(?:[.,:/-]\d+)*")


@dataclass(slots=True)
class Change:
    """One decided change to apply atomically with others (verbatim or infer path)."""

    event: Literal["ADD", "UPDATE", "DELETE"]
    memory_id: str
    text: str
    previous: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None


class AsyncMemory:
    """Persistent, scoped memory: fastembed embeddings, a Qdrant vector store and an
    append-only SQLite history.

    ``config`` defaults to ``MemoryConfig()`` (environment variables apply); keyword
    ``overrides`` replace single settings, e.g. ``AsyncMemory(data_dir=tmp)``.
    Use as ``async with``, or call ``open()`` / ``close()``. The calls, their results and
    their errors are documented on ``MemoryAPI`` (``api.py``).
    """

    def __init__(self, config: MemoryConfig | None = None, **overrides: Any) -> None:
        base = config or MemoryConfig()
        self.config = base.model_copy(update=overrides) if overrides else base
        self.embedder = Embedder(self.config)
        self.keywords = KeywordEncoder()
        self.llm: LLM | None = create_llm(self.config)
        self.history_store = HistoryStore(self.config.history_path)
        self.vector_store: VectorStore = create_vector_store(self.config)
        self._scope_locks = KeyedLock()
        self._write_lock = asyncio.Lock()
        self._open_task: asyncio.Task[None] | None = None
        self._closed = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Begin opening in the background (the model load included) and return at once;
        every call waits for the open to finish. Needs a running event loop."""
        if self._open_task is None:
            self._open_task = asyncio.get_running_loop().create_task(self._open())

    @property
    def is_ready(self) -> bool:
        """True once ``open`` has completed successfully."""
        task = self._open_task
        return (
            task is not None and task.done() and not task.cancelled() and task.exception() is None
        )

    async def open(self) -> AsyncMemory:
        """Open everything; idempotent. Raises ``ConfigError`` if something cannot be opened."""
        self.start()
        assert self._open_task is not None
        await asyncio.shield(self._open_task)
        return self

    async def _open(self) -> None:
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.embedder.start()
        await self.history_store.open()
        await self.embedder.ready()
        await self.vector_store.open(self.embedder.dim)
        await self._replay_journal()

    async def _replay_journal(self) -> None:
        # A page at a time: an import stages its whole file in the journal (transfer.py).
        replayed = 0
        while pending := await self.history_store.pending(limit=_REPLAY_PAGE):
            if not replayed:
                log.warning("replaying unapplied changes from the journal")
            replayed += len(pending)
            for entry in pending:
                try:
                    await self._apply_to_vectors([entry])
                except Exception:
                    # One entry the store cannot take must not keep the whole store from opening.
                    log.exception(
                        "journal entry %s (%s of memory %s) cannot be applied and is dropped; "
                        "its history row stays",
                        entry.seq,
                        entry.op,
                        entry.memory_id,
                    )
            await self.history_store.applied([e.seq for e in pending if e.seq is not None])
        if replayed:
            log.warning("replayed %d change(s) from the journal", replayed)

    async def close(self) -> None:
        """Refuse new calls, wait for an open and the calls in progress, then flush and
        release both stores. Calls made afterwards raise ``StoreUnavailableError``."""
        if self._closed:
            return
        self._closed = True
        if self._open_task is not None:
            try:
                await self._open_task
            except Exception:  # an open that failed leaves nothing to flush
                log.debug("closing after a failed open", exc_info=True)
        await self._idle.wait()  # calls already running finish first
        await self.vector_store.close()
        await self.history_store.close()

    async def __aenter__(self) -> AsyncMemory:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- writes --------------------------------------------------------------------------

    @_call
    async def add(
        self,
        messages: str | Sequence[Message | dict[str, Any]],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool | None = None,
        dedup: bool = True,
        llm: LLM | None = None,
    ) -> AddResult:
        """Remember text or a conversation: ``MemoryAPI.add``."""
        await self.open()
        msgs = validation.messages(messages, self.config)
        meta = validation.metadata(metadata, self.config)
        scope = validation.scope(self.config, user_id, agent_id, run_id)
        model = llm or self.llm
        if infer is None:
            infer = model is not None
        if not infer:
            return await self._add_verbatim(msgs, scope, meta, dedup=dedup)
        if model is None:
            raise InvalidInputError(
                "infer",
                (
                    "needs the MCP client's model (MEM0_MCP_LLM_PROVIDER=sampling), which comes "
                    "with an MCP tool call: call add_memory through the server, or pass llm= "
                    "or infer=false"
                )
                if needs_client_sampling(self.config)
                else (
                    f"needs an LLM, and the provider is {self.config.llm_provider!r}; set "
                    "MEM0_MCP_LLM_PROVIDER (openai, anthropic, sampling) or pass infer=false"
                ),
            )
        return await self._add_inferred(msgs, scope, meta, model)

    async def _add_inferred(
        self, msgs: list[Message], scope: Scope, meta: dict[str, Any], llm: LLM
    ) -> AddResult:
        today = utc_now().date()
        facts = await pipeline.extract_facts(
            llm,
            msgs,
            scope=scope,
            today=today,
            custom_instructions=self.config.custom_instructions,
        )
        if not facts:
            return AddResult(results=[])
        fact_vectors = dict(zip(facts, await self.embedder.embed(facts), strict=True))
        speaker = next((m for m in reversed(msgs) if m.role == "user"), msgs[-1])
        # Serialised per scope from retrieval to apply: two adds of one fact must not both
        # see "not known yet" and both ADD it.
        async with self._scope_locks(scope.key()):
            neighbours = await self._neighbours(list(fact_vectors.values()), scope)
            if neighbours:
                plans = await pipeline.reconcile(llm, facts, neighbours, today=today)
            else:  # nothing known yet, so nothing to forget either
                plans = [
                    pipeline.Plan("ADD", f) for f in facts if not pipeline.is_forget_request(f)
                ]
            for plan in plans:
                size = len(plan.text.encode("utf-8"))
                if plan.event in ("ADD", "UPDATE") and size > self.config.max_text_bytes:
                    raise LLMError(
                        llm.name,
                        f"it wrote a memory of {size} bytes, over the "
                        f"{self.config.max_text_bytes}-byte limit (MEM0_MCP_MAX_TEXT_BYTES); "
                        "nothing was applied",
                    )
            return await self._apply_plans(plans, scope, meta, fact_vectors, speaker)

    async def _neighbours(
        self, vectors: list[list[float]], scope: Scope
    ) -> list[pipeline.Neighbour]:
        """The nearest existing memories in scope to any of the facts, de-duplicated."""
        flt = _scope_filter(scope)
        results = await asyncio.gather(
            *(self.vector_store.search(v, filter=flt, limit=_NEIGHBOURS_PER_FACT) for v in vectors)
        )
        seen: dict[str, pipeline.Neighbour] = {}
        for hits in results:
            for hit in hits:
                seen.setdefault(hit.id, pipeline.Neighbour(hit.id, hit.payload["data"]))
        return list(seen.values())

    async def _apply_plans(
        self,
        plans: list[pipeline.Plan],
        scope: Scope,
        meta: dict[str, Any],
        known_vectors: dict[str, list[float]],
        speaker: Message,
    ) -> AddResult:
        to_embed = [
            p.text for p in plans if p.event in ("ADD", "UPDATE") and p.text not in known_vectors
        ]
        if to_embed:
            known_vectors.update(zip(to_embed, await self.embedder.embed(to_embed), strict=True))
        targets = [p.memory_id for p in plans if p.memory_id and p.event in ("UPDATE", "DELETE")]
        current = {p.id: p.payload for p in await self.vector_store.retrieve(targets)}
        now = utc_now()
        events: list[AddEvent] = []
        changes: list[Change] = []
        added: dict[str, AddEvent] = {}  # by md5: an ADD of text already there is NONE
        for plan in plans:
            if plan.event == "ADD":
                digest = text_hash(plan.text)
                there = added.get(digest)
                if there is None:
                    found = await self._find_duplicate(
                        plan.text, known_vectors[plan.text], scope, dedup=False
                    )
                    if found is not None:
                        there = AddEvent(id=found.id, memory=found.payload["data"], event="NONE")
                if there is not None:
                    events.append(there.model_copy(update={"event": "NONE"}))
                    continue
                mid = str(uuid.uuid4())
                payload = build_payload(
                    plan.text,
                    scope=scope,
                    metadata=meta,
                    created=now,
                    actor_id=speaker.name,
                    role=speaker.role,
                )
                changes.append(
                    Change("ADD", mid, plan.text, None, payload, known_vectors[plan.text])
                )
                added[digest] = AddEvent(id=mid, memory=plan.text, event="ADD")
                events.append(added[digest])
            elif plan.event == "NONE":
                events.append(AddEvent(id=plan.memory_id or "", memory=plan.text, event="NONE"))
            elif plan.memory_id in current:
                old = current[plan.memory_id]
                if plan.event == "UPDATE":
                    payload = build_payload(
                        plan.text,
                        scope=scope_of(old),
                        metadata={**(old.get("metadata") or {}), **meta},
                        created=datetime.fromisoformat(old["created_at"]),
                        updated=now,
                        actor_id=speaker.name or old.get("actor_id"),
                        role=speaker.role,
                    )
                    changes.append(
                        Change(
                            "UPDATE",
                            plan.memory_id,
                            plan.text,
                            old["data"],
                            payload,
                            known_vectors[plan.text],
                        )
                    )
                else:
                    changes.append(Change("DELETE", plan.memory_id, old["data"], old["data"], old))
                events.append(
                    AddEvent(
                        id=plan.memory_id,
                        memory=plan.text if plan.event == "UPDATE" else old["data"],
                        event=plan.event,
                        previous_memory=old["data"],
                    )
                )
        await self._apply(changes)
        return AddResult(results=events)

    async def _add_verbatim(
        self, msgs: list[Message], scope: Scope, meta: dict[str, Any], *, dedup: bool
    ) -> AddResult:
        kept = [m for m in msgs if m.role != "system"]
        if not kept:
            raise InvalidInputError("messages", "holds only system messages; nothing to remember")
        import numpy as np  # here, not at import: the server answers `initialize` first

        vectors = await self.embedder.embed([m.content for m in kept])
        unit = np.asarray(vectors, dtype=np.float32)
        async with self._scope_locks(scope.key()):
            events: list[AddEvent] = []
            changes: list[Change] = []
            seen: dict[str, AddEvent] = {}
            added: list[tuple[int, AddEvent]] = []  # this call's ADDs, by message index
            now = utc_now()
            for i, (msg, vector) in enumerate(zip(kept, vectors, strict=True)):
                digest = text_hash(msg.content)
                if digest in seen:  # repeated inside this one call
                    events.append(seen[digest].model_copy(update={"event": "NONE"}))
                    continue
                existing = await self._find_duplicate(msg.content, vector, scope, dedup=dedup)
                twin = self._near_twin(i, unit, added, kept) if dedup and not existing else None
                if twin is not None:
                    event = twin.model_copy(update={"event": "NONE"})
                elif existing is not None:
                    event = AddEvent(id=existing.id, memory=existing.payload["data"], event="NONE")
                else:
                    memory_id = str(uuid.uuid4())
                    payload = build_payload(
                        msg.content,
                        scope=scope,
                        metadata=meta,
                        created=now,
                        actor_id=msg.name,
                        role=msg.role,
                    )
                    changes.append(Change("ADD", memory_id, msg.content, None, payload, vector))
                    event = AddEvent(id=memory_id, memory=msg.content, event="ADD")
                    added.append((i, event))
                seen[digest] = event
                events.append(event)
            await self._apply(changes)
        return AddResult(results=events)

    def _near_twin(
        self, i: int, unit: Any, added: list[tuple[int, AddEvent]], msgs: list[Message]
    ) -> AddEvent | None:
        """The ADD of this same call that message ``i`` near-duplicates, judged as
        ``_find_duplicate`` judges against the store (``unit``: the call's unit vectors)."""
        if not added or self.config.dedup_threshold >= 1.0:
            return None
        scores = unit[[j for j, _ in added]] @ unit[i]
        best = int(scores.argmax())
        j, event = added[best]
        if self._near_duplicate(float(scores[best]), msgs[j].content, msgs[i].content):
            return event
        return None

    async def _find_duplicate(
        self, text: str, vector: list[float], scope: Scope, *, dedup: bool
    ) -> ScoredPoint | None:
        """An existing memory in exactly ``scope`` with the same text, or (``dedup``) the
        nearest one if it is a near duplicate (``_near_duplicate``)."""
        digest = text_hash(text)
        in_scope = _exact_scope_filter(scope)
        exact = await self.vector_store.scroll(
            filter=all_of(in_scope, Condition("hash", "eq", digest)), limit=1
        )
        if exact:
            return ScoredPoint.of(exact[0], 1.0)
        if not dedup or self.config.dedup_threshold >= 1.0:
            return None
        hits = await self.vector_store.search(vector, filter=in_scope, limit=1)
        if hits and self._near_duplicate(hits[0].score, hits[0].payload["data"], text):
            return hits[0]
        return None

    def _near_duplicate(self, cosine: float, a: str, b: str) -> bool:
        """Texts this similar hold the same fact, unless their numbers differ: sentence
        embeddings barely see digits, and "PIN 1234" must never swallow "PIN 5678"."""
        return cosine >= self.config.dedup_threshold and _numbers(a) == _numbers(b)

    @_call
    async def update(
        self,
        memory_id: str,
        text: str,
        *,
        metadata: dict[str, Any] | None = None,
        scope: Scope | None = None,
    ) -> UpdateResult:
        """Replace a memory's text: ``MemoryAPI.update``."""
        await self.open()
        mid = validation.memory_id(memory_id)
        new_text = validation.text(text, self.config)
        meta = None if metadata is None else validation.metadata(metadata, self.config)
        current = await self._get_point(mid, scope)
        async with self._scope_locks(scope_of(current.payload).key()):
            current = await self._get_point(mid, scope)  # may have changed while we waited
            old = current.payload
            (vector,) = await self.embedder.embed([new_text])
            payload = build_payload(
                new_text,
                scope=scope_of(old),
                metadata=(old.get("metadata") or {}) if meta is None else meta,
                created=datetime.fromisoformat(old["created_at"]),
                updated=utc_now(),
                actor_id=old.get("actor_id"),
                role=old.get("role"),
            )
            await self._apply([Change("UPDATE", mid, new_text, old["data"], payload, vector)])
        return UpdateResult(id=mid, memory=new_text, previous_memory=old["data"])

    @_call
    async def delete(self, memory_id: str, *, scope: Scope | None = None) -> DeleteResult:
        """Delete one memory: ``MemoryAPI.delete``."""
        await self.open()
        mid = validation.memory_id(memory_id)
        current = await self._get_point(mid, scope)
        async with self._scope_locks(scope_of(current.payload).key()):
            current = await self._get_point(mid, scope)
            text = current.payload["data"]
            await self._apply([Change("DELETE", mid, text, text, current.payload)])
        return DeleteResult(id=mid, memory=text)

    @_call
    async def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> DeleteAllResult:
        """Delete every memory carrying the given ids: ``MemoryAPI.delete_all``."""
        await self.open()
        scope = validation.scope(self.config, user_id, agent_id, run_id, use_default=False)
        flt = _scope_filter(scope)
        deleted = 0
        async with self._scope_locks(scope.key()):
            while True:
                batch = await self.vector_store.scroll(filter=flt, limit=256)
                if not batch:
                    break
                # A memory changed meanwhile is left out here and deleted on the next pass.
                deleted += await self._apply(
                    [
                        Change("DELETE", p.id, p.payload["data"], p.payload["data"], p.payload)
                        for p in batch
                    ],
                    skip_stale=True,
                )
        return DeleteAllResult(deleted=deleted)

    @_call
    async def reset(self) -> None:
        """Delete every memory and every history row: ``MemoryAPI.reset``."""
        await self.open()
        async with self._write_lock:
            await self.vector_store.reset()
            await self.history_store.reset()

    @_call
    async def export_to(self, path: str, *, progress: bool | None = None) -> TransferStats:
        """Write the whole store to a file: ``MemoryAPI.export_to``."""
        from . import transfer

        await self.open()
        target = validation.file_path(path, "path")
        # Writes wait (reads go on): the file is one consistent moment of the store.
        async with self._write_lock:
            return await transfer.export_store(self, target, progress=progress)

    @_call
    async def import_from(
        self, path: str, *, reembed: Reembed = "auto", progress: bool | None = None
    ) -> TransferStats:
        """Merge an export file into the store, all or nothing: ``MemoryAPI.import_from``."""
        from . import transfer

        await self.open()
        source = validation.file_path(path, "path")
        return await transfer.import_store(self, source, reembed=reembed, progress=progress)

    # --- the single write path -----------------------------------------------------------

    async def _apply(self, changes: Sequence[Change], *, skip_stale: bool = False) -> int:
        """Make ``changes`` durable in history and the vector store, all or nothing; returns
        how many were applied.

        Each UPDATE / DELETE was planned from the memory's text at the time (``previous``).
        Scope locks are per exact scope, so a call on a wider scope (``delete_all`` for a
        user, an add reconciling against a user's agent-scoped memories) or ``reset`` can
        change that memory first; under the write lock that orders every write, a memory
        that is gone or holds another text makes the call raise ``ConflictError`` with
        nothing applied, or with ``skip_stale`` leaves that change out.
        """
        if not changes:
            return 0
        deleted_at = iso(utc_now())
        rows = [
            HistoryRow(
                memory_id=c.memory_id,
                event=c.event,
                old_memory=c.previous,
                new_memory=None if c.event == "DELETE" else c.text,
                # The instant the memory itself records, so history and memory agree.
                created_at=deleted_at
                if c.event == "DELETE"
                else c.payload.get("updated_at") or c.payload["created_at"],
                actor_id=c.payload.get("actor_id"),
                role=c.payload.get("role"),
                scope=scope_of(c.payload),
            )
            for c in changes
        ]
        journal = [self._journal_entry(c) for c in changes]
        # One write at a time from check to applied (~1 ms): the vector store then applies
        # changes in history order, even for two scopes touching one memory, and a crash
        # leaves at most this write's journal entries pending.
        async with self._write_lock:
            stale = await self._stale(changes)
            if stale and not skip_stale:
                raise ConflictError(next(iter(stale)))
            if stale:
                rows = [r for r in rows if r.memory_id not in stale]
                journal = [j for j in journal if j.memory_id not in stale]
            if rows:
                seqs = await self.history_store.record(rows, journal)
                try:
                    await self._apply_to_vectors(journal)
                except Exception:
                    # The store refused the write (a crash would not get here): take the
                    # history back too, so a failed call leaves nothing behind and the
                    # journal holds nothing that could never be applied.
                    await self.history_store.revert(seqs, [r.id for r in rows])
                    raise
                await self.history_store.applied(seqs)
        return len(rows)

    async def _stale(self, changes: Sequence[Change]) -> set[str]:
        """Ids of the UPDATE / DELETE targets that no longer hold the text they were planned
        from (or no longer exist)."""
        planned = {c.memory_id: c.previous for c in changes if c.event != "ADD"}
        if not planned:
            return set()
        stored = {
            p.id: p.payload.get("data") for p in await self.vector_store.retrieve(list(planned))
        }
        return {mid for mid, text in planned.items() if stored.get(mid) != text}

    def _journal_entry(self, change: Change) -> JournalEntry:
        if change.event == "DELETE":
            return JournalEntry(op="delete", memory_id=change.memory_id)
        sparse = self.keywords.document(change.text)
        return JournalEntry(
            op="upsert",
            memory_id=change.memory_id,
            point={
                "vector": change.vector,
                "sparse": {"indices": sparse.indices, "values": sparse.values},
                "payload": change.payload,
            },
        )

    async def _apply_to_vectors(self, entries: Sequence[JournalEntry]) -> None:
        upserts = [
            Point(
                id=e.memory_id,
                vector=e.point["vector"],
                payload=e.point["payload"],
                sparse=SparseVector(**e.point["sparse"]) if e.point.get("sparse") else None,
            )
            for e in entries
            if e.op == "upsert" and e.point is not None
        ]
        deletes = [e.memory_id for e in entries if e.op == "delete"]
        if upserts:
            await self.vector_store.upsert(upserts)
        if deletes:
            await self.vector_store.delete(deletes)

    # --- reads ---------------------------------------------------------------------------

    @_call
    async def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int = 10,
        threshold: float | None = None,
        search_mode: retrieval.SearchMode | None = None,
    ) -> SearchResult:
        """Memories in scope most relevant to ``query``: ``MemoryAPI.search``."""
        await self.open()
        q = validation.text(query, self.config, "query")
        n = validation.limit(limit, self.config)
        min_score = validation.threshold(threshold)
        scope = validation.scope(self.config, user_id, agent_id, run_id)
        flt = all_of(_scope_filter(scope), self._parse_filters(filters))
        hits = await retrieval.rank(
            self.vector_store,
            self.keywords,
            mode=search_mode or self.config.search_mode,
            query=q,
            query_vector=self.embedder.embed_query(q),
            filter=flt,
            limit=n,
        )
        items = [item_from_payload(h.id, h.payload, h.score) for h in hits]
        if min_score is not None:
            items = [i for i in items if (i.score or 0.0) >= min_score]
        return SearchResult(results=items)

    @_call
    async def get(self, memory_id: str, *, scope: Scope | None = None) -> MemoryItem:
        """One memory by id: ``MemoryAPI.get``."""
        await self.open()
        point = await self._get_point(validation.memory_id(memory_id), scope)
        return item_from_payload(point.id, point.payload)

    @_call
    async def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> ListResult:
        """A page of memories in scope, newest first: ``MemoryAPI.get_all``."""
        await self.open()
        n = validation.limit(limit, self.config)
        skip = validation.offset(offset)
        scope = validation.scope(self.config, user_id, agent_id, run_id)
        flt = all_of(_scope_filter(scope), self._parse_filters(filters))
        # The store orders by created_ts alone, and one add stamps all its memories with one
        # instant: the store returns such ties in no fixed order, so paging with its own
        # offset repeated some memories and skipped others. Pages are cut here instead, from
        # every memory at or after the page's last instant, ordered by (instant, id).
        points = await self.vector_store.scroll(filter=flt, limit=skip + n + 1)
        more = len(points) > skip + n
        if more:
            last = points[-1].payload["created_ts"]
            at_last = all_of(
                flt, Condition("created_ts", "gte", last), Condition("created_ts", "lte", last)
            )
            ties = await self.vector_store.scroll(
                filter=at_last, limit=await self.vector_store.count(filter=at_last)
            )
            points = [p for p in points if p.payload["created_ts"] != last] + ties
        points.sort(key=lambda p: (-p.payload["created_ts"], p.id))
        items = [item_from_payload(p.id, p.payload) for p in points[skip : skip + n]]
        return ListResult(results=items, next_offset=skip + n if more else None)

    @_call
    async def history(self, memory_id: str, *, scope: Scope | None = None) -> HistoryResult:
        """Every event of a memory, oldest first: ``MemoryAPI.history``."""
        await self.open()
        mid = validation.memory_id(memory_id)
        events, owner = await self.history_store.history(mid)
        if not events or (scope is not None and owner is not None and not _within(owner, scope)):
            raise NotFoundError(mid)
        return HistoryResult(results=events)

    # --- helpers -------------------------------------------------------------------------

    def _parse_filters(self, filters: dict[str, Any] | None) -> Filter | None:
        if filters is None:
            return None
        validation.filters_size(filters, self.config)
        return parse_filters(filters) if filters else None

    async def _get_point(self, memory_id: str, scope: Scope | None) -> Point:
        points = await self.vector_store.retrieve([memory_id])
        if not points or (scope is not None and not _within(scope_of(points[0].payload), scope)):
            raise NotFoundError(memory_id)
        return points[0]


def _scope_filter(scope: Scope) -> Filter | None:
    """Memories carrying every id of ``scope`` (ids not given are unconstrained)."""
    return all_of(
        *(Condition(key, "eq", value) for key, value in _scope_items(scope) if value is not None)
    )


def _exact_scope_filter(scope: Scope) -> Filter | None:
    """Memories whose scope is exactly ``scope`` (ids not given must be absent)."""
    return all_of(
        *(
            Condition(key, "eq", value) if value is not None else Not(Condition(key, "exists"))
            for key, value in _scope_items(scope)
        )
    )


def _scope_items(scope: Scope) -> list[tuple[str, str | None]]:
    return [("user_id", scope.user_id), ("agent_id", scope.agent_id), ("run_id", scope.run_id)]


def _numbers(text: str) -> list[str]:
    return _NUMBER_RE.findall(text)


def _within(memory_scope: Scope, bound: Scope) -> bool:
    """True when the memory carries every id the bound scope sets."""
    return all(
        getattr(bound, key) is None or getattr(memory_scope, key) == getattr(bound, key)
        for key in ("user_id", "agent_id", "run_id")
    )
