"""Ranking: how a scoped search turns a query into the best memories.

``dense`` ranks by cosine similarity of the query embedding. ``hybrid`` (the default) also
scores every memory by BM25 over its words (``keywords.py``; IDF applied by the vector
store) and ranks by a convex combination of the two scores (``fusion.convex_fusion``):

1. candidates: the ``max(FUSION_DEPTH × limit, MIN_DEPTH)`` nearest memories by cosine and
   as many best by BM25, both searched natively in the store under the scope filter;
2. exact scores for every candidate: a memory found by only one side gets its other score
   from a second store query restricted to those ids (a memory the keyword search did not
   return while it returned fewer than asked shares no word with the query: BM25 0);
3. ``score = 0.3 · max(cosine, 0) + 0.7 · bm25 / (bm25 + 25)``, best first.

So ``limit`` is exact, the scope is enforced by the store, and ``score`` is absolute (not
relative to the other hits): 0..1, where a memory sharing no word with the query scores at
most 0.3. Weights, saturation, depth and the BM25 parameters were chosen by measurement on
LoCoMo (docs/benchmarks.md, "LoCoMo retrieval").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal

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
    vector, sparse = await asyncio.gather(
        query_vector, store.search_sparse(sparse_query, filter=filter, limit=depth)
    )
    dense = await store.search(vector, filter=filter, limit=depth)
    cosine = {h.id: h.score for h in dense}
    bm25 = {h.id: h.score for h in sparse}
    payloads = _payloads(sparse) | _payloads(dense)
    need_cosine = [pid for pid in bm25 if pid not in cosine]
    # When the keyword search returned fewer hits than asked, it returned every memory
    # sharing a word with the query: the others have BM25 0 and need no second look.
    need_bm25 = [pid for pid in cosine if pid not in bm25] if len(sparse) >= depth else []
    extra_dense, extra_sparse = await asyncio.gather(
        _dense_for(store, vector, filter, need_cosine),
        _sparse_for(store, sparse_query, filter, need_bm25),
    )
    cosine.update({h.id: h.score for h in extra_dense})
    bm25.update({h.id: h.score for h in extra_sparse})
    fused = convex_fusion(
        cosine, bm25, payloads, dense_weight=DENSE_WEIGHT, saturation=KEYWORD_SATURATION
    )
    return fused[:limit]


async def _dense_for(
    store: VectorStore, vector: list[float], filter: Filter | None, ids: list[str]
) -> list[ScoredPoint]:
    if not ids:
        return []
    return await store.search(vector, filter=_only(filter, ids), limit=len(ids))


async def _sparse_for(
    store: VectorStore, query: SparseVector, filter: Filter | None, ids: list[str]
) -> list[ScoredPoint]:
    if not ids:
        return []
    return await store.search_sparse(query, filter=_only(filter, ids), limit=len(ids))


def _only(filter: Filter | None, ids: list[str]) -> Filter | None:
    return all_of(filter, Condition("id", "in", ids))


def _payloads(hits: list[ScoredPoint]) -> dict[str, dict]:
    return {h.id: h.payload for h in hits}
