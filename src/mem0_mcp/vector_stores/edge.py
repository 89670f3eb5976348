"""Qdrant Edge (``qdrant-edge-py``): Qdrant's Rust engine in-process, one shard per folder.

Facts this module is built on (measured with qdrant-edge-py 0.9 on this project's machine):

* Threads. ``EdgeShard`` is safe to call from several threads (the WAL sits behind a mutex,
  segments behind a read-write lock; four threads mixing upserts, queries and counts gave
  correct counts). But ``query`` and ``flush`` keep the GIL for their whole duration (the
  event loop stalls for as long, even from another thread: ~11 ms for an unfiltered search
  of 40k points, well under 1 ms scoped), while ``update`` lets the loop run. More threads
  would buy nothing, so every call runs on one dedicated worker thread: calls are
  serialised in submission order (a read issued after a write sees it), the loop is free
  during the parts that release the GIL, and a slow call never piles up threads.
* Durability. ``update`` appends to the WAL (memory-mapped, no fsync) before returning:
  points acknowledged before a SIGKILL were all there after reopening (5 kill rounds,
  8,801 single-point upserts). ``flush`` fsyncs WAL and segments: a single-point upsert
  through this class took 0.5 ms median without it and 9–12 ms with it (p95 up to 25 ms;
  ext4, 0 and 10k points; macOS' F_FULLFSYNC is slower), and ``flush`` holds the GIL, so
  that time is an event-loop stall.
  So by default a write is durable against a crash of this process on return (the
  ``VectorStore`` contract), and a background flush follows within ``flush_interval``
  seconds to bound what an OS crash or power cut can take — the same class of durability
  as the history database (SQLite WAL, ``synchronous=NORMAL``). ``flush_on_write=True``
  flushes before every write returns instead.
* No HNSW. Edge never builds an index by itself and ``optimize()`` would hold the GIL for
  minutes at 100k points; scoped (filtered) searches are exact and fast without it, so this
  module never calls it.
* Exclusive lock. A second open of the same folder, in any process, fails at once with
  "Can't init WAL: WouldBlock"; it surfaces as ``StoreUnavailableError``.
* Booleans. Edge's ``MatchValue(True)`` becomes the integer 1 and never matches a JSON
  boolean; boolean conditions match the ``_lc`` mirror instead (see ``lowercase_shadow``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, Unpack

import qdrant_edge as qe

from ..errors import ConfigError, StoreUnavailableError
from ..filters import SHADOW_KEY, Bounds, Filter, shadow_path, translate
from ._common import QdrantEngineStore, QdrantFilterNodes
from .base import LAYOUT, SparseVector

log = logging.getLogger(__name__)
R = TypeVar("R")

_PAYLOAD = qe.PayloadSelector.Exclude([SHADOW_KEY])


class EdgeVectorStore(QdrantEngineStore):
    """A ``VectorStore`` on a Qdrant Edge shard in the folder ``path`` (created on ``open``).

    ``flush_on_write``: fsync before every ``upsert`` / ``delete`` returns (adds ~10 ms
    per call and stalls the event loop for it). Otherwise ``flush_interval`` seconds after
    a write at most, the shard is flushed in the background (and always on ``close``).
    """

    def __init__(
        self, path: Path, *, flush_on_write: bool = False, flush_interval: float = 1.0
    ) -> None:
        self.path = Path(path)
        self.flush_on_write = flush_on_write
        self.flush_interval = flush_interval
        self._dim: int | None = None
        self._shard: qe.EdgeShard | None = None
        self._executor: ThreadPoolExecutor | None = None
        # Both only touched on the worker thread.
        self._dirty = False
        self._timer: threading.Timer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self, dim: int) -> None:
        """Open or create the shard for ``dim``-dimensional cosine vectors.

        Raises ``ConfigError`` if the shard holds another layout (dimension, distance, no
        keyword vector) and ``StoreUnavailableError`` if another handle owns the folder.
        """
        if self._shard is not None:
            if dim != self._dim:
                raise ConfigError(
                    f"vector store {self.path} is open for {self._dim}-dimensional vectors, "
                    f"not {dim}"
                )
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mem0-edge")
        try:
            await self._call(self._open_sync, dim)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise
        self._dim = dim

    async def close(self) -> None:
        """Flush and close the shard, releasing the folder lock. Safe to call twice."""
        if self._executor is None:
            return
        try:
            await self._call(self._close_sync)
        finally:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def reset(self) -> None:
        """Delete every point: the shard folder is removed and created afresh."""
        await self._call(self._reset_sync)

    async def count(self, *, filter: Filter | None) -> int:
        """Exact number of points matching ``filter``."""
        request = qe.CountRequest(exact=True, filter=_native_filter(filter))
        return await self._call(lambda: self._require().count(request))

    async def facet(self, key: str, *, filter: Filter | None, limit: int) -> list[tuple[Any, int]]:
        """Distinct values of ``key`` with exact counts, most first (Edge's facet request,
        read from the keyword index: see bench/scopes.py)."""
        request = qe.FacetRequest(key, limit=limit, exact=True, filter=_native_filter(filter))
        response = await self._call(lambda: self._require().facet(request))
        return [(hit.value, hit.count) for hit in response.hits]

    # -- engine calls (for QdrantEngineStore) ------------------------------------------------

    async def _engine_upsert(self, points: list[Any]) -> None:
        # One WAL record: all-or-nothing. See the module docstring for durability.
        await self._call(self._write_sync, qe.UpdateOperation.upsert_points(points))

    async def _engine_delete(self, ids: list[str]) -> None:
        await self._call(self._write_sync, qe.UpdateOperation.delete_points(list(ids)))

    async def _engine_retrieve(self, ids: list[str], with_vectors: bool) -> Sequence[Any]:
        return await self._call(lambda: self._require().retrieve(list(ids), _PAYLOAD, with_vectors))

    async def _engine_query(
        self, query: Any, using: str, filter: Filter | None, limit: int, with_dense: bool
    ) -> Sequence[Any]:
        # Exact (brute-force) search: Edge never has an HNSW index here (module docstring).
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(query, using=using),
            filter=_native_filter(filter),
            with_payload=_PAYLOAD,
            with_vector=[LAYOUT.dense] if with_dense else False,
        )
        return await self._call(lambda: self._require().query(request))

    async def _engine_newest_first(
        self, filter: Filter | None, limit: int, with_vectors: bool
    ) -> Sequence[Any]:
        request = qe.QueryRequest(
            limit=limit,
            query=qe.OrderBy(LAYOUT.order, qe.Direction.Desc),
            filter=_native_filter(filter),
            with_payload=_PAYLOAD,
            with_vector=with_vectors,
        )
        return await self._call(lambda: self._require().query(request))

    def _native_point(self, pid: str, vectors: dict[str, Any], payload: dict[str, Any]) -> Any:
        return qe.Point(pid, vectors, payload)

    def _native_sparse(self, vector: SparseVector) -> Any:
        return qe.SparseVector(list(vector.indices), [float(v) for v in vector.values])

    # -- internals ---------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., R], *args: Any) -> R:
        if self._executor is None:
            raise StoreUnavailableError(f"vector store {self.path} is closed; open it first")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def _require(self) -> qe.EdgeShard:
        if self._shard is None:
            raise StoreUnavailableError(f"vector store {self.path} is not open")
        return self._shard

    # The *_sync methods run on the worker thread only.

    def _open_sync(self, dim: int) -> None:
        config = _edge_config(dim)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if (self.path / "edge_config.json").exists() or _has_segments(self.path):
                shard = qe.EdgeShard.load(str(self.path), config)
            else:
                shard = qe.EdgeShard.create(str(self.path), config)
        except Exception as exc:  # Edge raises bare Exception; classify by message
            raise _open_error(self.path, dim, exc) from exc
        _ensure_indexes(shard)
        self._shard = shard

    def _close_sync(self) -> None:
        self._cancel_timer()
        shard, self._shard = self._shard, None
        if shard is not None:
            try:
                shard.flush()
            finally:
                shard.close()
        self._dirty = False

    def _reset_sync(self) -> None:
        if self._dim is None:
            raise StoreUnavailableError(f"vector store {self.path} is not open")
        self._close_sync()
        shutil.rmtree(self.path, ignore_errors=True)
        self._open_sync(self._dim)

    def _write_sync(self, op: qe.UpdateOperation) -> None:
        shard = self._require()
        shard.update(op)
        if self.flush_on_write:
            shard.flush()
            return
        self._dirty = True
        if self._timer is None:
            self._timer = threading.Timer(self.flush_interval, self._request_flush)
            self._timer.daemon = True
            self._timer.start()

    def _request_flush(self) -> None:  # on the timer thread: hand over to the worker
        executor = self._executor
        if executor is None:
            return
        try:
            executor.submit(self._flush_pending)
        except RuntimeError:  # the executor is shutting down; close() flushes
            pass

    def _flush_pending(self) -> None:
        self._timer = None
        if self._dirty and self._shard is not None:
            try:
                self._shard.flush()
                self._dirty = False
            except Exception:  # keep serving; the WAL still holds the writes
                log.exception("background flush of %s failed", self.path)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


# -- layout ----------------------------------------------------------------------------------


def _edge_config(dim: int) -> qe.EdgeConfig:
    return qe.EdgeConfig(
        vectors={LAYOUT.dense: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
        sparse_vectors={LAYOUT.sparse: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )


def _ensure_indexes(shard: qe.EdgeShard) -> None:
    existing = set(shard.info().payload_schema)
    for key in LAYOUT.keyword_indexes:
        if key not in existing:
            # is_tenant: most searches are scoped to one user, so Qdrant may lay segments
            # out by user; harmless where it does not.
            params = qe.KeywordIndexParams(is_tenant=key == LAYOUT.tenant)
            shard.update(qe.UpdateOperation.create_field_index(key, params))
    for key in LAYOUT.float_indexes:
        if key not in existing:  # range filters, and order_by needs a range index
            shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Float))


def _has_segments(path: Path) -> bool:
    segments = path / "segments"
    return segments.is_dir() and any(segments.iterdir())


def _open_error(path: Path, dim: int, exc: Exception) -> Exception:
    message = str(exc)
    if "WouldBlock" in message:
        return StoreUnavailableError(
            f"the vector store at {path} is already open in another process (or another "
            "handle in this one); Qdrant Edge allows a single owner per folder. Stop the other "
            "mem0-mcp instance or connect to it, or set MEM0_MCP_DATA_DIR to another folder"
        )
    if "incompatible" in message:
        return ConfigError(
            f"the vector store at {path} does not fit this configuration ({message}). It needs "
            f"{dim}-dimensional cosine vectors named {LAYOUT.dense!r} and a sparse vector "
            f"{LAYOUT.sparse!r} with IDF: use the embedding model the store was built with, or "
            "point MEM0_MCP_DATA_DIR / MEM0_MCP_COLLECTION at a new store"
        )
    return StoreUnavailableError(f"cannot open the vector store at {path}: {message}")


# -- filters ---------------------------------------------------------------------------------


class _EdgeFilters(QdrantFilterNodes):
    """``NativeFilterBuilder`` for ``qdrant_edge``."""

    filter_type = qe.Filter

    def match_keyword(self, key: str, value: str) -> Any:
        return qe.FieldCondition(key, match=qe.MatchValue(value))

    def match_any(self, key: str, values: list[str]) -> Any:
        return qe.FieldCondition(key, match=qe.MatchAny(values))

    def match_bool(self, key: str, value: bool) -> Any:
        # Edge converts a Python bool in MatchValue to the integer 1/0, which never matches
        # a JSON boolean; the _lc mirror stores booleans as 1/0 (and no other integers).
        return qe.FieldCondition(shadow_path(key), match=qe.MatchValue(int(value)))

    def range(self, key: str, **bounds: Unpack[Bounds]) -> Any:
        return qe.FieldCondition(key, range=qe.RangeFloat(**bounds))

    def substring(self, key: str, text: str) -> Any:
        # MatchSubstring: byte-wise substring of keyword values (any element of a list),
        # read from the payload when the field has no prefix-enabled keyword index.
        return qe.FieldCondition(key, match=qe.MatchSubstring(text))

    def is_empty(self, key: str) -> Any:
        return qe.IsEmptyCondition(key)

    def has_id(self, ids: list[str]) -> Any:
        return qe.HasIdCondition(set(ids))


_BUILDER = _EdgeFilters()


def _native_filter(flt: Filter | None) -> qe.Filter | None:
    return translate(flt, _BUILDER) if flt is not None else None
