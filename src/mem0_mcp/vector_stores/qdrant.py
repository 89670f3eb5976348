"""A Qdrant server (``url``) or qdrant-client's local mode (``path``) via ``AsyncQdrantClient``.

Same collection layout and filter semantics as the Edge backend (``edge.py``); both lower
filters through ``filters.translate``, so they agree by construction. Where the engines
themselves could differ, this module picks what behaves the same in all three (Edge, a
server, local mode):

* substring filters use ``MatchSubstring`` — byte-wise on keyword values, no full-text
  index needed (``MatchText`` would tokenise, and only with a text index on a server);
  ``icontains`` matches the case-folded ``_lc`` mirror the store writes on upsert;
* numeric equality is a closed range (exact match never matches a float payload);
* booleans match natively here (``MatchValue(True)`` works on a server and in local
  mode; Edge needs the ``_lc`` mirror).

Server mode needs a Qdrant version with ``MatchSubstring`` and ``OrderByQuery``, and
creates payload indexes (keyword ones for scope ids, float ones for timestamps —
``order_by`` requires the one on ``created_ts``). Local mode ignores payload indexes, keeps
every point in Python memory, evaluates filters in Python and blocks the event loop inside
its ``async`` methods: it is for tests and small stores; use Edge or a server otherwise.
Local mode holds an exclusive lock on its folder (``StoreUnavailableError`` on a second
open); upserts are committed to its SQLite file before returning.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qdrant_client import AsyncQdrantClient, models

from ..errors import ConfigError, StoreUnavailableError
from ..filters import SHADOW_KEY, Filter, lowercase_shadow, translate
from .base import (
    DENSE_VECTOR,
    FLOAT_INDEXES,
    KEYWORD_INDEXES,
    ORDER_KEY,
    SPARSE_VECTOR,
    TENANT_KEY,
    Point,
    ScoredPoint,
    SparseVector,
)

_PAYLOAD = models.PayloadSelectorExclude(exclude=[SHADOW_KEY])


class QdrantVectorStore:
    """A ``VectorStore`` on collection ``collection`` of a Qdrant server (``url``, optional
    ``api_key``) or of qdrant-client's local mode in folder ``path``. Give exactly one of
    ``url`` and ``path``. ``timeout`` is seconds per server request; ``check_compatibility``
    lets qdrant-client compare its version with the server's (in a background thread)."""

    def __init__(
        self,
        collection: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: Path | None = None,
        timeout: float = 30.0,
        check_compatibility: bool = True,
    ) -> None:
        if (url is None) == (path is None):
            raise ConfigError("QdrantVectorStore needs exactly one of url (server) or path (local)")
        self.collection = collection
        self.url = url
        self.api_key = api_key
        self.path = Path(path) if path is not None else None
        self.timeout = timeout
        self.check_compatibility = check_compatibility
        self._client: AsyncQdrantClient | None = None
        self._dim: int | None = None

    @property
    def _where(self) -> str:
        return f"Qdrant at {self.url}" if self.url else f"the local Qdrant store at {self.path}"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self, dim: int) -> None:
        """Open or create the collection for ``dim``-dimensional cosine vectors.

        Raises ``ConfigError`` if the collection has another layout and
        ``StoreUnavailableError`` if the server is unreachable or the local folder is locked.
        """
        if self._client is not None:
            if dim != self._dim:
                raise ConfigError(f"{self._where} is open for {self._dim}-d vectors, not {dim}")
            return
        client = self._connect()
        try:
            if await client.collection_exists(self.collection):
                info = await client.get_collection(self.collection)
                _check_layout(info, dim, self.collection, self._where)
                await self._ensure_indexes(client, set(info.payload_schema or {}))
            else:
                await self._create(client, dim)
        except (ConfigError, StoreUnavailableError):
            await client.close()
            raise
        except Exception as exc:
            await client.close()
            raise StoreUnavailableError(f"cannot open {self._where}: {exc}") from exc
        self._client, self._dim = client, dim

    async def close(self) -> None:
        """Close the client (local mode: release the folder lock). Safe to call twice."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def reset(self) -> None:
        """Drop the collection and create it empty."""
        client = self._require()
        assert self._dim is not None
        await client.delete_collection(self.collection)
        await self._create(client, self._dim)

    # -- writes ------------------------------------------------------------------------------

    async def upsert(self, points: Sequence[Point]) -> None:
        """Insert or replace ``points`` in one request, waiting for the server to apply it.
        Writes each payload's ``_lc`` mirror."""
        if not points:
            return
        native = [self._to_native(p) for p in points]
        await self._require().upsert(self.collection, points=native, wait=True)

    async def delete(self, ids: Sequence[str]) -> None:
        """Delete points by id; unknown ids are ignored."""
        if not ids:
            return
        selector = models.PointIdsList(points=[_point_id(i) for i in ids])
        await self._require().delete(self.collection, points_selector=selector, wait=True)

    # -- reads -------------------------------------------------------------------------------

    async def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[Point]:
        """Points for the ids that exist, in no particular order (payload without ``_lc``)."""
        if not ids:
            return []
        records = await self._require().retrieve(
            self.collection,
            ids=[_point_id(i) for i in ids],
            with_payload=_PAYLOAD,
            with_vectors=with_vectors,
        )
        return [_to_point(r, with_vectors) for r in records]

    async def search(
        self, vector: list[float], *, filter: Filter | None, limit: int
    ) -> list[ScoredPoint]:
        """Cosine nearest neighbours among points matching ``filter``, best first."""
        if limit <= 0:
            return []
        self._check_dim(vector)
        return await self._query([float(x) for x in vector], DENSE_VECTOR, filter, limit)

    async def search_sparse(
        self,
        vector: SparseVector,
        *,
        filter: Filter | None,
        limit: int,
        with_dense: bool = False,
    ) -> list[ScoredPoint]:
        """Keyword search: sum over shared terms of stored weight × query weight × IDF,
        best first."""
        if limit <= 0 or not vector.indices:
            return []
        sparse = models.SparseVector(
            indices=list(vector.indices), values=[float(v) for v in vector.values]
        )
        return await self._query(sparse, SPARSE_VECTOR, filter, limit, with_dense=with_dense)

    async def scroll(
        self,
        *,
        filter: Filter | None,
        limit: int,
        with_vectors: bool = False,
    ) -> list[Point]:
        """Points matching ``filter``, newest ``created_ts`` first (native ``order_by``;
        points without ``created_ts`` are not listed)."""
        if limit <= 0:
            return []
        order = models.OrderByQuery(
            order_by=models.OrderBy(key=ORDER_KEY, direction=models.Direction.DESC)
        )
        result = await self._require().query_points(
            self.collection,
            query=order,
            query_filter=_native_filter(filter),
            limit=limit,
            with_payload=_PAYLOAD,
            with_vectors=with_vectors,
        )
        return [_to_point(p, with_vectors) for p in result.points]

    async def count(self, *, filter: Filter | None) -> int:
        """Exact number of points matching ``filter``."""
        result = await self._require().count(
            self.collection, count_filter=_native_filter(filter), exact=True
        )
        return result.count

    # -- internals ---------------------------------------------------------------------------

    def _connect(self) -> AsyncQdrantClient:
        if self.url is not None:
            return AsyncQdrantClient(
                url=self.url,
                api_key=self.api_key,
                timeout=int(self.timeout),
                check_compatibility=self.check_compatibility,
            )
        assert self.path is not None
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            return AsyncQdrantClient(path=str(self.path))
        except RuntimeError as exc:  # "already accessed by another instance of Qdrant client"
            raise StoreUnavailableError(
                f"the local Qdrant store at {self.path} is already open in another process (or "
                "another handle in this one); it allows a single owner. Stop the other mem0-mcp "
                "instance or connect to it, or use a Qdrant server (MEM0_MCP_QDRANT_URL)"
            ) from exc

    async def _create(self, client: AsyncQdrantClient, dim: int) -> None:
        await client.create_collection(
            self.collection,
            vectors_config={
                DENSE_VECTOR: models.VectorParams(size=dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={
                SPARSE_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)
            },
        )
        await self._ensure_indexes(client, set())

    async def _ensure_indexes(self, client: AsyncQdrantClient, existing: set[str]) -> None:
        if self.url is None:
            return  # local mode has no payload indexes (it warns if asked)
        for key in KEYWORD_INDEXES:
            if key not in existing:
                schema = models.KeywordIndexParams(
                    type=models.KeywordIndexType.KEYWORD, is_tenant=key == TENANT_KEY
                )
                await client.create_payload_index(self.collection, key, schema, wait=True)
        for key in FLOAT_INDEXES:
            if key not in existing:
                await client.create_payload_index(
                    self.collection, key, models.PayloadSchemaType.FLOAT, wait=True
                )

    async def _query(
        self, query: Any, using: str, filter: Filter | None, limit: int, *, with_dense: bool = False
    ) -> list[ScoredPoint]:
        result = await self._require().query_points(
            self.collection,
            query=query,
            using=using,
            query_filter=_native_filter(filter),
            limit=limit,
            with_payload=_PAYLOAD,
            with_vectors=[DENSE_VECTOR] if with_dense else False,
        )
        return [ScoredPoint.of(_to_point(p, with_dense), p.score) for p in result.points]

    def _require(self) -> AsyncQdrantClient:
        if self._client is None:
            raise StoreUnavailableError(f"{self._where} is not open")
        return self._client

    def _check_dim(self, vector: Sequence[float]) -> None:
        if self._dim is not None and len(vector) != self._dim:
            raise ValueError(f"vector has {len(vector)} dimensions, the store {self._dim}")

    def _to_native(self, p: Point) -> models.PointStruct:
        if p.vector is None:
            raise ValueError(f"point {p.id}: a dense vector is required to upsert")
        self._check_dim(p.vector)
        vectors: dict[str, Any] = {DENSE_VECTOR: [float(x) for x in p.vector]}
        if p.sparse is not None and p.sparse.indices:
            vectors[SPARSE_VECTOR] = models.SparseVector(
                indices=list(p.sparse.indices), values=[float(v) for v in p.sparse.values]
            )
        payload = {k: v for k, v in p.payload.items() if k != SHADOW_KEY}
        payload[SHADOW_KEY] = lowercase_shadow(
            str(p.payload.get("data") or ""), p.payload.get("metadata")
        )
        return models.PointStruct(id=_point_id(p.id), vector=vectors, payload=payload)


def _check_layout(info: models.CollectionInfo, dim: int, name: str, where: str) -> None:
    params = info.config.params
    dense = params.vectors.get(DENSE_VECTOR) if isinstance(params.vectors, dict) else None
    sparse = (params.sparse_vectors or {}).get(SPARSE_VECTOR)
    fix = (
        "use the embedding model the collection was built with, or set MEM0_MCP_COLLECTION "
        "to a new collection"
    )
    if dense is None or sparse is None:
        raise ConfigError(
            f"collection {name!r} in {where} was not created by mem0-mcp: it needs a dense "
            f"vector {DENSE_VECTOR!r} and a sparse vector {SPARSE_VECTOR!r}; set "
            "MEM0_MCP_COLLECTION to another name"
        )
    if dense.size != dim or dense.distance != models.Distance.COSINE:
        raise ConfigError(
            f"collection {name!r} in {where} holds {dense.size}-dimensional "
            f"{dense.distance.value} vectors, but the embedding model gives {dim}-dimensional "
            f"cosine ones; {fix}"
        )
    if sparse.modifier != models.Modifier.IDF:
        raise ConfigError(
            f"collection {name!r} in {where}: sparse vector {SPARSE_VECTOR!r} lacks the IDF "
            "modifier; set MEM0_MCP_COLLECTION to a new collection"
        )


def _point_id(point_id: str) -> str:
    try:
        return str(uuid.UUID(str(point_id)))
    except ValueError:
        raise ValueError(f"point ids are UUID strings, got {point_id!r}") from None


def _to_point(record: Any, with_vectors: bool) -> Point:
    dense: list[float] | None = None
    sparse: SparseVector | None = None
    if with_vectors and isinstance(record.vector, dict):
        raw_dense = record.vector.get(DENSE_VECTOR)
        dense = [float(x) for x in raw_dense] if raw_dense is not None else None
        raw_sparse = record.vector.get(SPARSE_VECTOR)
        if raw_sparse is not None:
            sparse = SparseVector(list(raw_sparse.indices), [float(v) for v in raw_sparse.values])
    return Point(str(record.id), dense, record.payload or {}, sparse)


class _QdrantFilters:
    """``NativeFilterBuilder`` for ``qdrant_client.models``."""

    def match_keyword(self, key: str, value: str) -> Any:
        return models.FieldCondition(key=key, match=models.MatchValue(value=value))

    def match_any(self, key: str, values: list[str]) -> Any:
        return models.FieldCondition(key=key, match=models.MatchAny(any=values))

    def match_bool(self, key: str, value: bool) -> Any:
        return models.FieldCondition(key=key, match=models.MatchValue(value=value))

    def range(
        self,
        key: str,
        *,
        gt: float | None = None,
        gte: float | None = None,
        lt: float | None = None,
        lte: float | None = None,
    ) -> Any:
        return models.FieldCondition(key=key, range=models.Range(gt=gt, gte=gte, lt=lt, lte=lte))

    def substring(self, key: str, text: str) -> Any:
        return models.FieldCondition(key=key, match=models.MatchSubstring(substring=text))

    def is_empty(self, key: str) -> Any:
        return models.IsEmptyCondition(is_empty=models.PayloadField(key=key))

    def has_id(self, ids: list[str]) -> Any:
        return models.HasIdCondition(has_id=list(ids))

    def all_of(self, items: list[Any]) -> Any:
        return models.Filter(must=items)

    def any_of(self, items: list[Any]) -> Any:
        return models.Filter(should=items)

    def none_of(self, items: list[Any]) -> Any:
        return models.Filter(must_not=items)


_BUILDER = _QdrantFilters()


def _native_filter(flt: Filter | None) -> models.Filter | None:
    return translate(flt, _BUILDER) if flt is not None else None
