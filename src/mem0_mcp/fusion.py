"""Fusing the dense (cosine) and keyword (BM25) signals into one ranking.

``convex_fusion`` is what hybrid search uses: a convex combination of the two *scores*,
each first mapped onto 0..1 without looking at the other candidates,

    score = w · max(cosine, 0) + (1 − w) · bm25 / (bm25 + c)

so the fused score is absolute (a threshold means the same thing for every query) and in
0..1: 1 would be a perfect semantic match that also holds every query word with infinite
weight; a memory sharing no word with the query scores at most ``w``. The saturation
``bm25 / (bm25 + c)`` keeps a single weak keyword (a common word, or any word in a tiny
collection, where IDF is small) from outweighing a clear semantic preference, while a
memory matching several rare query words approaches the full keyword share.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009), which fuses ranks instead
of scores, measured worse on LoCoMo (docs/benchmarks.md) and gives no absolute score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .vector_stores.base import ScoredPoint

# Chosen by the LoCoMo sweep in docs/benchmarks.md ("LoCoMo retrieval").
DENSE_WEIGHT = 0.3
KEYWORD_SATURATION = 25.0


def keyword_strength(bm25: float, saturation: float = KEYWORD_SATURATION) -> float:
    """A BM25 score (≥ 0) mapped onto 0..1: ``bm25 / (bm25 + saturation)``."""
    if bm25 <= 0.0:
        return 0.0
    return bm25 / (bm25 + saturation)


def convex_score(
    cosine: float,
    bm25: float,
    *,
    dense_weight: float = DENSE_WEIGHT,
    saturation: float = KEYWORD_SATURATION,
) -> float:
    """The fused score of one memory, in 0..1 (see the module docstring)."""
    dense = min(max(cosine, 0.0), 1.0)
    return dense_weight * dense + (1.0 - dense_weight) * keyword_strength(bm25, saturation)


def convex_fusion(
    cosine: Mapping[str, float],
    bm25: Mapping[str, float],
    payloads: Mapping[str, dict[str, Any]],
    *,
    dense_weight: float = DENSE_WEIGHT,
    saturation: float = KEYWORD_SATURATION,
) -> list[ScoredPoint]:
    """Every id in ``cosine`` or ``bm25`` (a missing score counts as 0), best first.

    Ties go to the higher cosine, then to the smaller id, so the order is deterministic.
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError(f"dense_weight must be within 0..1, got {dense_weight}")
    if saturation <= 0.0:
        raise ValueError(f"saturation must be positive, got {saturation}")
    scored = []
    for pid in cosine.keys() | bm25.keys():
        cos = cosine.get(pid, 0.0)
        score = convex_score(
            cos, bm25.get(pid, 0.0), dense_weight=dense_weight, saturation=saturation
        )
        scored.append((-score, -cos, pid))
    scored.sort()
    return [
        ScoredPoint(id=pid, score=-neg, payload=payloads.get(pid, {})) for neg, _, pid in scored
    ]
