"""Fusing the signals of a hybrid search into one ranking.

``convex_fusion`` is what hybrid search uses: a convex combination of *scores*, each first
mapped onto 0..1 without looking at the other candidates. Two signals always count, the
meaning (cosine) and the words (BM25):

    score = w · max(cosine, 0) + (1 − w) · bm25 / (bm25 + c)

and two more count for a query that names someone or a date (``entities``, ``dates``), each
only when at least one candidate has it: ``a`` (``ACTOR_WEIGHT``) if the query names the
memory's actor, ``d`` (``DATE_WEIGHT``) if the memory is dated within a date the query
names. Their weights join the divisor, so the score stays a weighted mean:

    score = (w · cosine + (1 − w) · bm25 / (bm25 + c) + a · actor + d · date) / (1 + a + d)

(``a`` and ``d`` left out of both sides when they do not count). So the fused score is
absolute (a threshold means the same thing for every query) and in 0..1: 1 would be a
perfect semantic match that also holds every query word with infinite weight; a memory
sharing no word with the query scores at most ``w``, or ``(w + a + d) / (1 + a + d)`` with
the actor and the date matched. The saturation ``bm25 / (bm25 + c)`` keeps a single weak
keyword (a common word, or any word in a tiny collection, where IDF is small) from
outweighing a clear semantic preference, while a memory matching several rare query words
approaches the full keyword share.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009), which fuses ranks instead
of scores, measured worse on LoCoMo (docs/benchmarks.md) and gives no absolute score.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .vector_stores.base import ScoredPoint

# Chosen by the LoCoMo sweep in docs/benchmarks.md ("LoCoMo retrieval"), tuned on
# conversations 0-4 and checked on 5-9. The saturation was 25 until the query embedding left
# out proper nouns (``entities``); then 40 measured +0.006 hit@10 on the tuning half, +0.008
# on the held-out one.
DENSE_WEIGHT = 0.3
KEYWORD_SATURATION = 40.0
ACTOR_WEIGHT = 0.08
DATE_WEIGHT = 0.05


def keyword_strength(bm25: float, saturation: float = KEYWORD_SATURATION) -> float:
    """A BM25 score (≥ 0) mapped onto 0..1: ``bm25 / (bm25 + saturation)``."""
    if bm25 <= 0.0:
        return 0.0
    return bm25 / (bm25 + saturation)


def convex_score(
    cosine: float,
    bm25: float,
    *,
    actor: bool | None = None,
    date: bool | None = None,
    dense_weight: float = DENSE_WEIGHT,
    saturation: float = KEYWORD_SATURATION,
    actor_weight: float = ACTOR_WEIGHT,
    date_weight: float = DATE_WEIGHT,
) -> float:
    """The fused score of one memory, in 0..1 (see the module docstring). ``actor`` /
    ``date``: whether the memory matches the actor / date the query names; ``None`` when
    that signal does not count for this query."""
    dense = min(max(cosine, 0.0), 1.0)
    total = dense_weight * dense + (1.0 - dense_weight) * keyword_strength(bm25, saturation)
    weights = 1.0
    for matched, weight in ((actor, actor_weight), (date, date_weight)):
        if matched is not None:
            total += weight * matched
            weights += weight
    return total / weights


def convex_fusion(
    cosine: Mapping[str, float],
    bm25: Mapping[str, float],
    payloads: Mapping[str, dict[str, Any]],
    *,
    by_actor: Collection[str] = (),
    dated: Collection[str] = (),
    dense_weight: float = DENSE_WEIGHT,
    saturation: float = KEYWORD_SATURATION,
    actor_weight: float = ACTOR_WEIGHT,
    date_weight: float = DATE_WEIGHT,
) -> list[ScoredPoint]:
    """Every id in ``cosine`` or ``bm25`` (a missing score counts as 0), best first.

    ``by_actor``: the ids of the memories whose actor the query names; ``dated``: those
    dated within a date the query names. Either signal counts only when its collection is
    not empty. Ties go to the higher cosine, then to the smaller id, so the order is
    deterministic.
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError(f"dense_weight must be within 0..1, got {dense_weight}")
    if saturation <= 0.0:
        raise ValueError(f"saturation must be positive, got {saturation}")
    if actor_weight < 0.0 or date_weight < 0.0:
        raise ValueError(
            f"actor_weight and date_weight must be ≥ 0, got {actor_weight}, {date_weight}"
        )
    scored = []
    for pid in cosine.keys() | bm25.keys():
        cos = cosine.get(pid, 0.0)
        score = convex_score(
            cos,
            bm25.get(pid, 0.0),
            actor=pid in by_actor if by_actor else None,
            date=pid in dated if dated else None,
            dense_weight=dense_weight,
            saturation=saturation,
            actor_weight=actor_weight,
            date_weight=date_weight,
        )
        scored.append((-score, -cos, pid))
    scored.sort()
    return [
        ScoredPoint(id=pid, score=-neg, payload=payloads.get(pid, {})) for neg, _, pid in scored
    ]
