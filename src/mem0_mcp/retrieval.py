"""Ranking: how a scoped search turns a query into the best memories.

``dense`` ranks by cosine similarity of the query embedding. ``hybrid`` also ranks by BM25
keyword score (``keywords.py``, IDF applied by the vector store) and fuses the two
rankings (``fusion.py``). Both run inside the vector store with the scope filter, so
``limit`` is exact.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from .filters import Filter
from .fusion import reciprocal_rank_fusion
from .keywords import KeywordEncoder
from .vector_stores.base import ScoredPoint, VectorStore

SearchMode = Literal["hybrid", "dense"]

# Each ranking feeding the fusion is this many times deeper than the requested limit, so a
# memory ranked low by one signal and high by the other still reaches the fused top.
FUSION_DEPTH = 4
RRF_K = 60


async def rank(
    store: VectorStore,
    keywords: KeywordEncoder,
    *,
    mode: SearchMode,
    query: str,
    vector: list[float],
    filter: Filter | None,
    limit: int,
) -> list[ScoredPoint]:
    """The ``limit`` best memories matching ``filter``, best first.

    ``score``: cosine similarity (``dense``), or the fused score scaled to 0..1, 1 meaning
    ranked first by both signals (``hybrid``).
    """
    if mode == "dense":
        return await store.search(vector, filter=filter, limit=limit)
    depth = limit * FUSION_DEPTH
    dense, sparse = await asyncio.gather(
        store.search(vector, filter=filter, limit=depth),
        store.search_sparse(keywords.query(query), filter=filter, limit=depth),
    )
    fused = reciprocal_rank_fusion([dense, sparse], k=RRF_K)
    best = 2.0 / (RRF_K + 1)
    return [ScoredPoint(h.id, min(1.0, h.score / best), h.payload) for h in fused[:limit]]
