"""``AsyncMemory``: the engine, used by the MCP server and as a Python library. Its public
calls follow ``MemoryAPI`` (``api.py``), which documents them.

    async with AsyncMemory(MemoryConfig(data_dir="./mem")) as memory:
        await memory.add("I live in Lisbon", user_id="alice")
        hits = await memory.search("where does alice live?", user_id="alice")

This module holds the lifecycle (open in the background, close after the calls in flight),
argument validation (``validation``) and the orchestration of each call. The jobs it
orchestrates live next to it: ``images`` (image parts → text), ``procedural`` (an agent's
run → one memory), ``pipeline`` (the LLM's extraction and reconciliation),
``changes`` (decisions → changes and events), ``dedup`` (is it known already?), ``journal``
(the one write path: history and vector store, all or nothing), ``retrieval`` (ranking)
and ``scope`` (whose memories a call touches).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from . import changes, images, pipeline, procedural, retrieval, scopes, validation
from ._locks import KeyedLock
from .config import MemoryConfig
from .dedup import Deduplicator
from .embeddings import Embedder
from .errors import InvalidInputError, LLMError, NotFoundError, StoreUnavailableError
from .filters import Condition, Filter, all_of, parse_filters
from .history import HistoryStore
from .journal import Journal
from .keywords import KeywordEncoder
from .llms import LLM, create_llm, require_llm
from .models import (
    AddEvent,
    AddResult,
    DeleteAllResult,
    DeleteResult,
    HistoryResult,
    ListResult,
    MemoryItem,
    MemoryType,
    Message,
    Reembed,
    Scope,
    ScopeList,
    SearchResult,
    TransferStats,
    UpdateResult,
)
from .payload import item_from_payload, utc_now
from .vector_stores import VectorStore, create_vector_store
from .vector_stores.base import Point

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
        self.journal = Journal(self.history_store, self.vector_store, self.keywords)
        self.dedup = Deduplicator(self.vector_store, self.config.dedup_threshold)
        self._scope_locks = KeyedLock()
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
        await self.journal.replay()

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
        memory_type: MemoryType | None = None,
    ) -> AddResult:
        """Remember text or a conversation: ``MemoryAPI.add``."""
        await self.open()
        prepared = images.prepare(messages, self.config)
        meta = validation.metadata(metadata, self.config)
        scope = validation.scope(self.config, user_id, agent_id, run_id)
        procedure = validation.memory_type(memory_type, scope, infer)
        model = llm or self.llm
        msgs, meta = await prepared.resolve(model, meta, self.config)
        if procedure:
            writer = require_llm(model, self.config, "memory_type", "leave memory_type out")
            return await self._add_procedural(msgs, scope, meta, writer)
        if infer is None:
            infer = model is not None
        if not infer:
            return await self._add_verbatim(msgs, scope, meta, dedup=dedup)
        model = require_llm(model, self.config, "infer", "pass infer=false")
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

    async def _add_procedural(
        self, msgs: list[Message], scope: Scope, meta: dict[str, Any], llm: LLM
    ) -> AddResult:
        text = await procedural.summarise(llm, msgs, max_bytes=self.config.max_text_bytes)
        (vector,) = await self.embedder.embed([text])
        speaker = next((m for m in reversed(msgs) if m.role == "assistant"), msgs[-1])
        marked = {**meta, "memory_type": procedural.PROCEDURAL_MEMORY}
        change = changes.added(text, vector, scope, marked, utc_now(), speaker)
        await self.journal.apply([change])
        return AddResult(results=[AddEvent(id=change.memory_id, memory=text, event="ADD")])

    async def _neighbours(
        self, vectors: list[list[float]], scope: Scope
    ) -> list[pipeline.Neighbour]:
        """The nearest existing memories in scope to any of the facts, de-duplicated."""
        flt = scope.filter()
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
        events, planned = await changes.planned(
            plans, scope, meta, known_vectors, speaker, current, self.dedup
        )
        await self.journal.apply(planned)
        return AddResult(results=events)

    async def _add_verbatim(
        self, msgs: list[Message], scope: Scope, meta: dict[str, Any], *, dedup: bool
    ) -> AddResult:
        kept = [m for m in msgs if m.role != "system"]
        if not kept:
            raise InvalidInputError("messages", "holds only system messages; nothing to remember")
        vectors = await self.embedder.embed([m.content for m in kept])
        async with self._scope_locks(scope.key()):
            events, added = await changes.verbatim(
                kept, vectors, scope, meta, self.dedup, near=dedup
            )
            await self.journal.apply(added)
        return AddResult(results=events)

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
        async with self._scope_locks(Scope.of(current.payload).key()):
            current = await self._get_point(mid, scope)  # may have changed while we waited
            old = current.payload
            (vector,) = await self.embedder.embed([new_text])
            change = changes.updated(
                mid,
                old,
                new_text,
                vector,
                metadata=(old.get("metadata") or {}) if meta is None else meta,
                actor_id=old.get("actor_id"),
                role=old.get("role"),
            )
            await self.journal.apply([change])
        return UpdateResult(id=mid, memory=new_text, previous_memory=old["data"])

    @_call
    async def delete(self, memory_id: str, *, scope: Scope | None = None) -> DeleteResult:
        """Delete one memory: ``MemoryAPI.delete``."""
        await self.open()
        mid = validation.memory_id(memory_id)
        current = await self._get_point(mid, scope)
        async with self._scope_locks(Scope.of(current.payload).key()):
            current = await self._get_point(mid, scope)
            text = current.payload["data"]
            await self.journal.apply([changes.deleted(mid, current.payload)])
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
        flt = scope.filter()
        deleted = 0
        async with self._scope_locks(scope.key()):
            while True:
                batch = await self.vector_store.scroll(filter=flt, limit=256)
                if not batch:
                    break
                # A memory changed meanwhile is left out here and deleted on the next pass.
                deleted += await self.journal.apply(
                    [changes.deleted(p.id, p.payload) for p in batch], skip_stale=True
                )
        return DeleteAllResult(deleted=deleted)

    @_call
    async def reset(self) -> None:
        """Delete every memory and every history row: ``MemoryAPI.reset``."""
        await self.open()
        async with self.journal.lock:
            await self.vector_store.reset()
            await self.history_store.reset()

    @_call
    async def export_to(self, path: str, *, progress: bool | None = None) -> TransferStats:
        """Write the whole store to a file: ``MemoryAPI.export_to``."""
        from . import transfer

        await self.open()
        target = validation.file_path(path, "path")
        # Writes wait (reads go on): the file is one consistent moment of the store.
        async with self.journal.lock:
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
        flt = all_of(scope.filter(), self._parse_filters(filters))
        hits = await retrieval.rank(
            self.vector_store,
            self.keywords,
            mode=search_mode or self.config.search_mode,
            query=q,
            embed=self.embedder.embed_query,
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
        flt = all_of(scope.filter(), self._parse_filters(filters))
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
        if not events or (scope is not None and owner is not None and not owner.within(scope)):
            raise NotFoundError(mid)
        return HistoryResult(results=events)

    @_call
    async def scopes(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        contains: str | None = None,
        limit: int = 100,
    ) -> ScopeList:
        """The users, agents and runs holding memories, with counts: ``MemoryAPI.scopes``."""
        await self.open()
        scope, text = scopes.within(self.config, user_id, agent_id, run_id, contains)
        n = validation.limit(limit, self.config)
        return await scopes.count_scopes(self.vector_store, scope, contains=text, limit=n)

    # --- helpers -------------------------------------------------------------------------

    def _parse_filters(self, filters: dict[str, Any] | None) -> Filter | None:
        if filters is None:
            return None
        validation.filters_size(filters, self.config)
        return parse_filters(filters) if filters else None

    async def _get_point(self, memory_id: str, scope: Scope | None) -> Point:
        points = await self.vector_store.retrieve([memory_id])
        if not points or (scope is not None and not Scope.of(points[0].payload).within(scope)):
            raise NotFoundError(memory_id)
        return points[0]
