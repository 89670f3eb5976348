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

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

from qdrant_client import AsyncQdrantClient, models

from ..errors import ConfigError, StoreUnavailableError
from ..filters import SHADOW_KEY, Bounds, Filter, translate
from ._common import QdrantEngineStore, QdrantFilterNodes
from .base import LAYOUT, SparseVector

_PAYLOAD = models.PayloadSelectorExclude(exclude=[SHADOW_KEY])


class QdrantVectorStore(QdrantEngineStore):
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

    async def count(self, *, filter: Filter | None) -> int:
        """Exact number of points matching ``filter``."""
        result = await self._require().count(
            self.collection, count_filter=_native_filter(filter), exact=True
        )
        return result.count

    async def facet(self, key: str, *, filter: Filter | None, limit: int) -> list[tuple[Any, int]]:
        """Distinct values of ``key`` with exact counts, most first (the facet API; a server
        needs the keyword index on ``key``, which ``open`` creates for the scope ids)."""
        response = await self._require().facet(
            self.collection, key, facet_filter=_native_filter(filter), limit=limit, exact=True
        )
        return [(hit.value, hit.count) for hit in response.hits]

    # -- engine calls (for QdrantEngineStore) ------------------------------------------------

    async def _engine_upsert(self, points: list[Any]) -> None:
        # One request; wait=True: the server has applied it when the call returns.
        await self._require().upsert(self.collection, points=points, wait=True)

    async def _engine_delete(self, ids: list[str]) -> None:
        selector = models.PointIdsList(points=list(ids))
        await self._require().delete(self.collection, points_selector=selector, wait=True)

    async def _engine_retrieve(self, ids: list[str], with_vectors: bool) -> Sequence[Any]:
        return await self._require().retrieve(
            self.collection, ids=ids, with_payload=_PAYLOAD, with_vectors=with_vectors
        )

    async def _engine_query(
        self, query: Any, using: str, filter: Filter | None, limit: int, with_dense: bool
    ) -> Sequence[Any]:
        result = await self._require().query_points(
            self.collection,
            query=query,
            using=using,
            query_filter=_native_filter(filter),
            limit=limit,
            with_payload=_PAYLOAD,
            with_vectors=[LAYOUT.dense] if with_dense else False,
        )
        return result.points

    async def _engine_newest_first(
        self, filter: Filter | None, limit: int, with_vectors: bool
    ) -> Sequence[Any]:
        order = models.OrderByQuery(
            order_by=models.OrderBy(key=LAYOUT.order, direction=models.Direction.DESC)
        )
        result = await self._require().query_points(
            self.collection,
            query=order,
            query_filter=_native_filter(filter),
            limit=limit,
            with_payload=_PAYLOAD,
            with_vectors=with_vectors,
        )
        return result.points

    def _native_point(self, pid: str, vectors: dict[str, Any], payload: dict[str, Any]) -> Any:
        return models.PointStruct(id=pid, vector=vectors, payload=payload)

    def _native_sparse(self, vector: SparseVector) -> Any:
        return models.SparseVector(
            indices=list(vector.indices), values=[float(v) for v in vector.values]
        )

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
                LAYOUT.dense: models.VectorParams(size=dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={
                LAYOUT.sparse: models.SparseVectorParams(modifier=models.Modifier.IDF)
            },
        )
        await self._ensure_indexes(client, set())

    async def _ensure_indexes(self, client: AsyncQdrantClient, existing: set[str]) -> None:
        if self.url is None:
            return  # local mode has no payload indexes (it warns if asked)
        for key in LAYOUT.keyword_indexes:
            if key not in existing:
                schema = models.KeywordIndexParams(
                    type=models.KeywordIndexType.KEYWORD, is_tenant=key == LAYOUT.tenant
                )
                await client.create_payload_index(self.collection, key, schema, wait=True)
        for key in LAYOUT.float_indexes:
            if key not in existing:
                await client.create_payload_index(
                    self.collection, key, models.PayloadSchemaType.FLOAT, wait=True
                )

    def _require(self) -> AsyncQdrantClient:
        if self._client is None:
            raise StoreUnavailableError(f"{self._where} is not open")
        return self._client


def _check_layout(info: models.CollectionInfo, dim: int, name: str, where: str) -> None:
    params = info.config.params
    dense = params.vectors.get(LAYOUT.dense) if isinstance(params.vectors, dict) else None
    sparse = (params.sparse_vectors or {}).get(LAYOUT.sparse)
    fix = (
        "use the embedding model the collection was built with, or set MEM0_MCP_COLLECTION "
        "to a new collection"
    )
    if dense is None or sparse is None:
        raise ConfigError(
            f"collection {name!r} in {where} was not created by mem0-mcp: it needs a dense "
            f"vector {LAYOUT.dense!r} and a sparse vector {LAYOUT.sparse!r}; set "
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
            f"collection {name!r} in {where}: sparse vector {LAYOUT.sparse!r} lacks the IDF "
            "modifier; set MEM0_MCP_COLLECTION to a new collection"
        )


class _QdrantFilters(QdrantFilterNodes):
    """``NativeFilterBuilder`` for ``qdrant_client.models``."""

    filter_type = models.Filter

    def match_keyword(self, key: str, value: str) -> Any:
        return models.FieldCondition(key=key, match=models.MatchValue(value=value))

    def match_any(self, key: str, values: list[str]) -> Any:
        return models.FieldCondition(key=key, match=models.MatchAny(any=values))

    def match_bool(self, key: str, value: bool) -> Any:
        return models.FieldCondition(key=key, match=models.MatchValue(value=value))

    def range(self, key: str, **bounds: Unpack[Bounds]) -> Any:
        return models.FieldCondition(key=key, range=models.Range(**bounds))

    def substring(self, key: str, text: str) -> Any:
        return models.FieldCondition(key=key, match=models.MatchSubstring(substring=text))

    def is_empty(self, key: str) -> Any:
        return models.IsEmptyCondition(is_empty=models.PayloadField(key=key))

    def has_id(self, ids: list[str]) -> Any:
        return models.HasIdCondition(has_id=list(ids))


_BUILDER = _QdrantFilters()


def _native_filter(flt: Filter | None) -> models.Filter | None:
    return translate(flt, _BUILDER) if flt is not None else None
