"""Ranking: how a scoped search turns a query into the best memories.

``dense`` ranks by cosine similarity of the query embedding. ``hybrid`` (the default) also
scores every memory by BM25 over its words (``keywords.py``; IDF applied by the vector
store) and ranks by a convex combination of the two scores (``fusion.convex_fusion``):

1. candidates: the ``max(FUSION_DEPTH × limit, MIN_DEPTH)`` nearest memories by cosine and
   as many best by BM25, both searched natively in the store under the scope filter;
2. exact scores for every candidate: the keyword search returns its hits' dense vectors,
   so a memory only it found gets its cosine here (a dot product of unit vectors); a
   memory only the dense search found gets its BM25 from a second keyword query restricted
   to those ids (none is needed when the keyword search returned fewer than asked: it
   returned every memory sharing a word with the query, and the others score BM25 0);
3. ``score = 0.3 · max(cosine, 0) + 0.7 · bm25 / (bm25 + 25)``, best first.

So ``limit`` is exact, the scope is enforced by the store, and ``score`` is absolute (not
relative to the other hits): 0..1, where a memory sharing no word with the query scores at
most 0.3. Weights, saturation, depth and the BM25 parameters were chosen by measurement on
LoCoMo (docs/benchmarks.md, "LoCoMo retrieval").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Literal

from .filters import Condition, Filter, all_of
from .fusion import DENSE_WEIGHT, KEYWORD_SATURATION, convex_fusion
from .keywords import KeywordEncoder
from .vector_stores.base import ScoredPoint, SparseVector, VectorStore

SearchMode = Literal["hybrid", "dense"]

# Each signal contributes this many times ``limit`` candidates (at least MIN_DEPTH). Measured
# on LoCoMo at limit 10: depth 2×, 4× and 10× give hit@10 0.766, 0.767, 0.767 and the same
# MRR once candidate scores are exact; a deeper pool only costs time (payload conversion).
FUSION_DEPTH = 2
MIN_DEPTH = 20


async def rank(
    store: VectorStore,
    keywords: KeywordEncoder,
    *,
    mode: SearchMode,
    query: str,
    query_vector: Awaitable[list[float]],
    filter: Filter | None,
    limit: int,
) -> list[ScoredPoint]:
    """The ``limit`` best memories matching ``filter``, best first.

    ``query_vector`` is the query's embedding, still being computed: the keyword search
    needs none and runs meanwhile (the model and the store each release the other's core).
    ``score``: cosine similarity (``dense``); in ``hybrid``,
    ``0.3 · max(cosine, 0) + 0.7 · bm25 / (bm25 + 25)`` (see the module docstring).
    """
    sparse_query = keywords.query(query)
    if mode == "dense" or not sparse_query.indices:
        # Only stop words in a hybrid query: no memory can share a word with it.
        hits = await store.search(await query_vector, filter=filter, limit=limit)
        if mode == "dense":
            return hits
        return convex_fusion({h.id: h.score for h in hits}, {}, _payloads(hits))
    depth = max(limit * FUSION_DEPTH, MIN_DEPTH)
    # The keyword hits bring their dense vectors, fetched while the query is embedded, so
    # the cosine of a memory only they found costs a dot product instead of a store query.
    vector, sparse = await asyncio.gather(
        query_vector,
        store.search_sparse(sparse_query, filter=filter, limit=depth, with_dense=True),
    )
    dense = await store.search(vector, filter=filter, limit=depth)
    cosine = {h.id: h.score for h in dense}
    bm25 = {h.id: h.score for h in sparse}
    payloads = _payloads(sparse) | _payloads(dense)
    cosine.update(_cosines(vector, [h for h in sparse if h.id not in cosine and h.vector]))
    # When the keyword search returned fewer hits than asked, it returned every memory
    # sharing a word with the query: the others have BM25 0 and need no second look.
    need_bm25 = [pid for pid in cosine if pid not in bm25] if len(sparse) >= depth else []
    bm25.update({h.id: h.score for h in await _sparse_for(store, sparse_query, filter, need_bm25)})
    fused = convex_fusion(
        cosine, bm25, payloads, dense_weight=DENSE_WEIGHT, saturation=KEYWORD_SATURATION
    )
    return fused[:limit]


def _cosines(query: list[float], hits: list[ScoredPoint]) -> dict[str, float]:
    """Cosine similarity of ``query`` with each hit's vector; all are unit vectors (the
    store normalises on write), so as the store computes it: a dot product."""
    if not hits:
        return {}
    import numpy as np  # here, not at import: the server answers `initialize` first

    matrix = np.asarray([h.vector for h in hits], dtype=np.float32)
    scores = matrix @ np.asarray(query, dtype=np.float32)
    return {h.id: float(s) for h, s in zip(hits, scores, strict=True)}


async def _sparse_for(
    store: VectorStore, query: SparseVector, filter: Filter | None, ids: list[str]
) -> list[ScoredPoint]:
    if not ids:
        return []
    return await store.search_sparse(query, filter=_only(filter, ids), limit=len(ids))


def _only(filter: Filter | None, ids: list[str]) -> Filter | None:
    return all_of(filter, Condition("id", "in", ids))


def _payloads(hits: list[ScoredPoint]) -> dict[str, dict[str, Any]]:
    return {h.id: h.payload for h in hits}
