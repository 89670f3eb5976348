"""What the Qdrant backends share: the ``VectorStore`` data methods written once.

Both engines (Qdrant Edge in ``edge.py``, ``qdrant-client`` in ``qdrant.py``) take the same
collection layout, the same UUID point ids and the same ``_lc`` mirror, and answer with
records of one shape (``.id``, ``.payload``, ``.vector`` as a dict of named vectors, and
``.score`` on hits). So ``QdrantEngineStore`` does the argument checks, the conversions
(``Point`` → engine point, record → ``Point`` / ``ScoredPoint``) and the mirror here, and a
backend writes only its engine calls: the ``_engine_*`` methods and two constructors
(``_native_point``, ``_native_sparse``). Lifecycle (``open`` / ``close`` / ``reset``) and
``count`` stay in each backend, since nothing in them is shared.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from ..filters import SHADOW_KEY, Filter, lowercase_shadow
from .base import LAYOUT, Point, ScoredPoint, SparseVector


class QdrantEngineStore(ABC):
    """The data methods of ``VectorStore`` over one Qdrant engine's calls.

    A subclass sets ``_dim`` when it opens (``None`` while closed) and implements the
    abstract methods; its native types never leave it.
    """

    _dim: int | None

    # -- writes ------------------------------------------------------------------------------

    async def upsert(self, points: Sequence[Point]) -> None:
        """Insert or replace ``points`` in one engine call (all-or-nothing); durable on
        return. Writes each payload's ``_lc`` mirror (any ``_lc`` given is replaced).

        Raises ``ValueError`` for a non-UUID id, a missing dense vector or one of the wrong
        dimension, before anything is written."""
        if not points:
            return
        await self._engine_upsert([self._to_native(p) for p in points])

    async def delete(self, ids: Sequence[str]) -> None:
        """Delete points by id; unknown ids are ignored. ``ValueError`` for a non-UUID id."""
        if not ids:
            return
        await self._engine_delete([point_id(i) for i in ids])

    # -- reads -------------------------------------------------------------------------------

    async def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[Point]:
        """Points for the ids that exist, in no particular order (payload without ``_lc``)."""
        if not ids:
            return []
        records = await self._engine_retrieve([point_id(i) for i in ids], with_vectors)
        return [to_point(r, with_vectors) for r in records]

    async def search(
        self, vector: list[float], *, filter: Filter | None, limit: int
    ) -> list[ScoredPoint]:
        """Cosine nearest neighbours among points matching ``filter``, best first.
        ``ValueError`` if ``vector`` has another dimension than the store."""
        if limit <= 0:
            return []
        self._check_dim(vector)
        dense = [float(x) for x in vector]
        return await self._scored(dense, LAYOUT.dense, filter, limit, with_dense=False)

    async def search_sparse(
        self, vector: SparseVector, *, filter: Filter | None, limit: int, with_dense: bool = False
    ) -> list[ScoredPoint]:
        """Keyword search: sum over shared terms of stored weight × query weight × IDF (IDF
        over the whole collection), best first; an empty ``vector`` finds nothing.
        ``with_dense``: each hit carries its unit dense vector."""
        if limit <= 0 or not vector.indices:
            return []
        query = self._native_sparse(vector)
        return await self._scored(query, LAYOUT.sparse, filter, limit, with_dense=with_dense)

    async def scroll(
        self, *, filter: Filter | None, limit: int, with_vectors: bool = False
    ) -> list[Point]:
        """Points matching ``filter``, newest ``created_ts`` first.

        Ordered natively (``order_by`` over the float index on ``created_ts``); points
        without ``created_ts`` are not listed.
        """
        if limit <= 0:
            return []
        records = await self._engine_newest_first(filter, limit, with_vectors)
        return [to_point(r, with_vectors) for r in records]

    # -- what a backend provides -------------------------------------------------------------

    @abstractmethod
    async def _engine_upsert(self, points: list[Any]) -> None:
        """Write native points (from ``_native_point``) in one call, durable on return."""

    @abstractmethod
    async def _engine_delete(self, ids: list[str]) -> None:
        """Delete the points with these (canonical UUID) ids, durable on return."""

    @abstractmethod
    async def _engine_retrieve(self, ids: list[str], with_vectors: bool) -> Sequence[Any]:
        """Records for the ids that exist, payload without ``_lc``."""

    @abstractmethod
    async def _engine_query(
        self, query: Any, using: str, filter: Filter | None, limit: int, with_dense: bool
    ) -> Sequence[Any]:
        """Nearest neighbours of ``query`` (a dense list, or ``_native_sparse`` output) on
        the named vector ``using``, best first, with ``.score``; payload without ``_lc``;
        ``with_dense``: records carry the dense vector."""

    @abstractmethod
    async def _engine_newest_first(
        self, filter: Filter | None, limit: int, with_vectors: bool
    ) -> Sequence[Any]:
        """Records ordered by ``created_ts`` descending, payload without ``_lc``."""

    @abstractmethod
    def _native_point(self, pid: str, vectors: dict[str, Any], payload: dict[str, Any]) -> Any:
        """The engine's point with id ``pid``, named ``vectors`` and ``payload``."""

    @abstractmethod
    def _native_sparse(self, vector: SparseVector) -> Any:
        """The engine's sparse vector for ``vector``."""

    # -- conversions -------------------------------------------------------------------------

    async def _scored(
        self, query: Any, using: str, filter: Filter | None, limit: int, *, with_dense: bool
    ) -> list[ScoredPoint]:
        hits = await self._engine_query(query, using, filter, limit, with_dense)
        return [ScoredPoint.of(to_point(h, with_dense), h.score) for h in hits]

    def _check_dim(self, vector: Sequence[float]) -> None:
        if self._dim is not None and len(vector) != self._dim:
            raise ValueError(f"vector has {len(vector)} dimensions, the store {self._dim}")

    def _to_native(self, p: Point) -> Any:
        if p.vector is None:
            raise ValueError(f"point {p.id}: a dense vector is required to upsert")
        self._check_dim(p.vector)
        vectors: dict[str, Any] = {LAYOUT.dense: [float(x) for x in p.vector]}
        if p.sparse is not None and p.sparse.indices:
            vectors[LAYOUT.sparse] = self._native_sparse(p.sparse)
        return self._native_point(point_id(p.id), vectors, with_shadow(p.payload))


class QdrantFilterNodes:
    """The filter nodes of a ``NativeFilterBuilder``, the same on both engines: a
    ``Filter`` of ``must`` / ``should`` / ``must_not``. A backend's builder sets
    ``filter_type`` to its engine's ``Filter`` class and writes the conditions."""

    filter_type: ClassVar[type[Any]]

    def all_of(self, items: list[Any]) -> Any:
        return self.filter_type(must=items)

    def any_of(self, items: list[Any]) -> Any:
        return self.filter_type(should=items)

    def none_of(self, items: list[Any]) -> Any:
        return self.filter_type(must_not=items)


def point_id(value: str) -> str:
    """``value`` as a point id: canonical UUID form; ``ValueError`` if it is not a UUID."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError(f"point ids are UUID strings, got {value!r}") from None


def with_shadow(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with a freshly computed ``_lc`` mirror (any given one is dropped)."""
    out = {k: v for k, v in payload.items() if k != SHADOW_KEY}
    out[SHADOW_KEY] = lowercase_shadow(str(payload.get("data") or ""), payload.get("metadata"))
    return out


def to_point(record: Any, with_vectors: bool) -> Point:
    """A ``Point`` from an engine record (``.id``, ``.payload``, ``.vector``: named vectors,
    the sparse one with ``.indices`` / ``.values``)."""
    dense: list[float] | None = None
    sparse: SparseVector | None = None
    if with_vectors and isinstance(record.vector, dict):
        raw_dense = record.vector.get(LAYOUT.dense)
        dense = [float(x) for x in raw_dense] if raw_dense is not None else None
        raw_sparse = record.vector.get(LAYOUT.sparse)
        if raw_sparse is not None:
            sparse = SparseVector(
                [int(i) for i in raw_sparse.indices], [float(v) for v in raw_sparse.values]
            )
    return Point(str(record.id), dense, record.payload or {}, sparse)
