"""Ranking: how a scoped search turns a query into the best memories.

``dense`` ranks by cosine similarity of the query embedding. ``hybrid`` (the default) also
scores every memory by BM25 over its words (``keywords.py``; IDF applied by the vector
store) and ranks by a convex combination of the scores (``fusion.convex_fusion``):

1. the query is embedded without its proper nouns (``entities.dense_query``: names are
   matched exactly, by the keyword side, not by meaning); its BM25 terms keep every word;
2. candidates: the ``max(FUSION_DEPTH × limit, MIN_DEPTH)`` nearest memories by cosine and
   as many best by BM25, both searched natively in the store under the scope filter;
3. exact scores for every candidate: the keyword search returns its hits' dense vectors,
   so a memory only it found gets its cosine here (a dot product of unit vectors); a
   memory only the dense search found gets its BM25 from a second keyword query restricted
   to those ids (none is needed when the keyword search returned fewer than asked: it
   returned every memory sharing a word with the query, and the others score BM25 0);
4. two signals from the candidates' payloads, no store query: the query names the memory's
   ``actor_id`` (``entities.names_actor``); the memory is dated within a date the query
   names (``dates``; a memory's dates are those written in its text and the day it was
   created);
5. ``score = (0.3 · max(cosine, 0) + 0.7 · bm25 / (bm25 + 40) + 0.08 · actor + 0.05 · date)
   / (1 + 0.08 + 0.05)``, the actor and date terms (and their weights in the divisor) only
   when some candidate has them; best first.

So ``limit`` is exact, the scope is enforced by the store, and ``score`` is absolute (not
relative to the other hits): 0..1, where a memory sharing no word with the query scores at
most 0.3 (0.38 / 1.13 ≈ 0.34 with its actor and date matched). Weights, saturation, depth
and the BM25 parameters were chosen by measurement on LoCoMo (docs/benchmarks.md, "LoCoMo
retrieval").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from . import dates, entities
from .filters import Condition, Filter, all_of
from .fusion import ACTOR_WEIGHT, DATE_WEIGHT, KEYWORD_SATURATION, convex_fusion
from .keywords import KeywordEncoder
from .vector_stores.base import ScoredPoint, SparseVector, VectorStore

SearchMode = Literal["hybrid", "dense"]

# Each signal contributes this many times ``limit`` candidates (at least MIN_DEPTH). Measured
# on LoCoMo at limit 10: depth 2×, 4× and 10× give hit@10 0.766, 0.767, 0.767 and the same
# MRR once candidate scores are exact; a deeper pool only costs time (payload conversion).
FUSION_DEPTH = 2
MIN_DEPTH = 20


@dataclass(frozen=True, slots=True)
class Ranking:
    """Settings of the hybrid ranking. The defaults are the measured choice; other values
    let ``bench/locomo.py`` measure each change against the ranking before it."""

    proper_nouns_embedded: bool = False  # True: the whole query is embedded
    saturation: float = KEYWORD_SATURATION
    actor_weight: float = ACTOR_WEIGHT  # 0: the actor signal is off
    date_weight: float = DATE_WEIGHT  # 0: the date signal is off


async def rank(
    store: VectorStore,
    keywords: KeywordEncoder,
    *,
    mode: SearchMode,
    query: str,
    embed: Callable[[str], Awaitable[list[float]]],
    filter: Filter | None,
    limit: int,
    ranking: Ranking = Ranking(),
) -> list[ScoredPoint]:
    """The ``limit`` best memories matching ``filter``, best first.

    ``embed`` turns a text into its query embedding; in ``hybrid`` the keyword search needs
    none and runs while it is computed (the model and the store each release the other's
    core). ``score``: cosine similarity (``dense``); in ``hybrid``, the fused score of the
    module docstring.
    """
    sparse_query = keywords.query(query)
    if mode == "dense" or not sparse_query.indices:
        # Only stop words in a hybrid query: no memory can share a word with it.
        hits = await store.search(await embed(query), filter=filter, limit=limit)
        if mode == "dense":
            return hits
        return convex_fusion({h.id: h.score for h in hits}, {}, _payloads(hits))
    depth = max(limit * FUSION_DEPTH, MIN_DEPTH)
    # The keyword hits bring their dense vectors, fetched while the query is embedded, so
    # the cosine of a memory only they found costs a dot product instead of a store query.
    vector, sparse = await asyncio.gather(
        embed(query if ranking.proper_nouns_embedded else entities.dense_query(query)),
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
        cosine,
        bm25,
        payloads,
        by_actor=_by_actor(query, payloads) if ranking.actor_weight else (),
        dated=_dated(query, payloads) if ranking.date_weight else (),
        saturation=ranking.saturation,
        actor_weight=ranking.actor_weight,
        date_weight=ranking.date_weight,
    )
    return fused[:limit]


def _by_actor(query: str, payloads: dict[str, dict[str, Any]]) -> set[str]:
    """Ids of the memories whose ``actor_id`` the query names."""
    actors = {p.get("actor_id") for p in payloads.values()}
    named = {a for a in actors if entities.names_actor(query, a)}
    return {pid for pid, p in payloads.items() if p.get("actor_id") in named}


def _dated(query: str, payloads: dict[str, dict[str, Any]]) -> set[str]:
    """Ids of the memories dated within a date the query names: a date written in the
    memory's text, or the day it was created."""
    wanted = dates.date_spans(query)
    if not wanted:
        return set()
    return {pid for pid, p in payloads.items() if dates.overlaps(_memory_dates(p), wanted)}


def _memory_dates(payload: dict[str, Any]) -> list[dates.Span]:
    spans = dates.date_spans(payload.get("data") or "")
    if created := payload.get("created_at"):
        day = datetime.fromisoformat(created).date()
        spans.append((day, day))
    return spans


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
