"""The vector-store protocol every backend implements.

The engine speaks only this protocol; a backend translates it to one engine
(Qdrant Edge in-process, or a Qdrant server through ``qdrant-client``).

Point ids are UUID strings. Payloads are JSON objects laid out as in
``mem0_mcp.payload`` (``data``, ``hash``, scope ids, timestamps, ``metadata``).
Filters are ``mem0_mcp.filters.Filter`` trees; a backend translates them to its
native filter, never post-filters in Python (that would break ``limit``).

Durability: when ``upsert`` or ``delete`` returns, the change survives a SIGKILL of
this process (the engine's WAL holds it).

The ``_lc`` payload object (see ``mem0_mcp.filters.lowercase_shadow``) belongs to the
store: ``upsert`` (re)computes it from ``data`` and ``metadata`` on every write, and
payloads read back (``retrieve``, ``search``, ``scroll``) leave it out.

Collection layout shared by every backend (``LAYOUT``): a named dense vector (cosine)
and a named sparse vector with the IDF modifier; keyword payload indexes on the scope and
dedup fields (``user_id`` marked as the tenant) and float indexes on the two timestamps
(``created_ts`` also orders ``scroll``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..filters import Filter


@dataclass(frozen=True, slots=True)
class Layout:
    """The collection layout every backend creates and queries (module docstring)."""

    dense: str = "dense"  # the named dense vector (cosine)
    sparse: str = "keywords"  # the named sparse vector (IDF modifier)
    tenant: str = "user_id"  # the keyword index marked as the tenant
    keyword_indexes: tuple[str, ...] = ("user_id", "agent_id", "run_id", "hash", "actor_id", "role")
    float_indexes: tuple[str, ...] = ("created_ts", "updated_ts")
    order: str = "created_ts"  # what ``scroll`` orders by, newest first


LAYOUT = Layout()


@dataclass(frozen=True, slots=True)
class SparseVector:
    """A keyword vector: parallel lists of term ids and weights (BM25 term frequency part)."""

    indices: list[int]
    values: list[float]


@dataclass(slots=True)
class Point:
    """One memory as the vector store holds it.

    ``vector`` is the dense embedding (``dim`` floats, unit length); ``sparse`` the
    keyword vector (may be ``None`` when the store has no keyword index).
    """

    id: str
    vector: list[float] | None
    payload: dict[str, Any]
    sparse: SparseVector | None = None


@dataclass(frozen=True, slots=True)
class ScoredPoint:
    """A search hit. ``score`` is the engine's similarity (cosine for dense, dot for sparse);
    ``vector`` the unit dense vector, when the search was asked for it."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None

    @classmethod
    def of(cls, point: Point, score: float) -> ScoredPoint:
        """A hit for ``point`` (its id, payload and dense vector) scoring ``score``."""
        return cls(point.id, float(score), point.payload, point.vector)


@runtime_checkable
class VectorStore(Protocol):
    """Async access to one collection of memories."""

    async def open(self, dim: int) -> None:
        """Open (or create) the collection for ``dim``-dimensional cosine vectors.

        Raises ``ConfigError`` if an existing collection has another dimension or distance.
        """

    async def upsert(self, points: Sequence[Point]) -> None:
        """Insert or replace points (all-or-nothing per call); durable on return."""

    async def delete(self, ids: Sequence[str]) -> None:
        """Delete points by id; unknown ids are ignored; durable on return."""

    async def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[Point]:
        """Points for the ids that exist, in no particular order."""

    async def search(
        self, vector: list[float], *, filter: Filter | None, limit: int
    ) -> list[ScoredPoint]:
        """Dense nearest neighbours (cosine, best first) among points matching ``filter``."""

    async def search_sparse(
        self,
        vector: SparseVector,
        *,
        filter: Filter | None,
        limit: int,
        with_dense: bool = False,
    ) -> list[ScoredPoint]:
        """Keyword search (IDF-weighted dot product, best first) among points matching
        ``filter``; an empty ``vector`` finds nothing. ``with_dense``: each hit carries its
        unit dense vector."""

    async def scroll(
        self,
        *,
        filter: Filter | None,
        limit: int,
        with_vectors: bool = False,
    ) -> list[Point]:
        """The first ``limit`` points matching ``filter``, ordered by ``created_ts``
        descending (newest first). Points sharing one ``created_ts`` come in no fixed order,
        so callers page by ``created_ts`` (see ``AsyncMemory.get_all``), not by position."""

    async def count(self, *, filter: Filter | None) -> int:
        """Number of points matching ``filter``."""

    async def facet(self, key: str, *, filter: Filter | None, limit: int) -> list[tuple[Any, int]]:
        """The distinct values of the keyword-indexed payload field ``key`` among points
        matching ``filter``, each with its exact number of points, most first; at most
        ``limit``. Points without ``key`` are not counted."""

    async def reset(self) -> None:
        """Delete every point and recreate the empty collection."""

    async def close(self) -> None:
        """Flush and release the store (the folder lock, connections)."""
