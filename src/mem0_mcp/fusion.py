"""Fusing the dense and keyword rankings into one.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): each list contributes
``weight / (k + rank)`` for every hit it holds; ranks start at 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from .vector_stores.base import ScoredPoint

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[ScoredPoint]],
    weights: Sequence[float] | None = None,
    *,
    k: int = RRF_K,
) -> list[ScoredPoint]:
    """One ranking from several, best first; a hit's ``score`` becomes its fused score and
    its payload is taken from the first list that holds it."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    payloads: dict[str, dict] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.id] = scores.get(hit.id, 0.0) + weight / (k + rank)
            payloads.setdefault(hit.id, hit.payload)
    ordered = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    return [ScoredPoint(id=pid, score=score, payload=payloads[pid]) for pid, score in ordered]
