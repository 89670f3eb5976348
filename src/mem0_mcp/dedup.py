"""Is it already known? Exact and near duplicates of a memory within one scope.

* Exact: the same text (md5 of its UTF-8, mem0's ``hash``) in exactly the same scope.
* Near: cosine similarity ≥ ``dedup_threshold`` to the nearest memory of the scope *and*
  the same numbers in both texts. The threshold, 0.95 by default, was measured with
  ``bench/dedup_threshold.py`` (docs/benchmarks.md): re-sent variants of a fact have a
  median cosine of .999 (p5 .946), while different facts sharing their digits reach p99.9
  .719; at 0.95, 94.4 % of re-sends are caught and 4 of 1.72M pairs merged wrongly.
  Sentence embeddings barely see digits, so "PIN 1234" must never swallow "PIN 5678".

Duplicates are judged in the *exact* scope (``Scope.exact_filter``): alice's note is no
copy of her planner agent's, whatever their texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .filters import Condition, all_of
from .payload import text_hash
from .scope import Scope
from .vector_stores import VectorStore
from .vector_stores.base import ScoredPoint

_NUMBER_RE = re.compile(r"\d+(?:[.,:/-]\d+)*")


class Deduplicator:
    """Finds a memory's duplicate in the store, or among the memories of one call."""

    def __init__(self, vectors: VectorStore, threshold: float) -> None:
        """``threshold``: the cosine from which texts with the same numbers are one fact;
        1.0 turns near-duplicate detection off (exact duplicates are still found)."""
        self.vectors = vectors
        self.threshold = threshold

    async def find(
        self, text: str, vector: list[float], scope: Scope, *, near: bool
    ) -> ScoredPoint | None:
        """A stored memory in exactly ``scope`` with the same text (score 1.0), or, with
        ``near``, the nearest one if it is a near duplicate (its cosine as score)."""
        in_scope = scope.exact_filter()
        exact = await self.vectors.scroll(
            filter=all_of(in_scope, Condition("hash", "eq", text_hash(text))), limit=1
        )
        if exact:
            return ScoredPoint.of(exact[0], 1.0)
        if not near or self.threshold >= 1.0:
            return None
        hits = await self.vectors.search(vector, filter=in_scope, limit=1)
        if hits and self.is_near(hits[0].score, hits[0].payload["data"], text):
            return hits[0]
        return None

    def twin(self, i: int, unit: Any, earlier: Sequence[int], texts: Sequence[str]) -> int | None:
        """Among the ``earlier`` indexes of one call's texts, the one text ``i`` near-
        duplicates (judged as ``find`` judges against the store), or ``None``. ``unit``:
        the call's unit vectors as a (n, dim) numpy array."""
        if not earlier or self.threshold >= 1.0:
            return None
        scores = unit[list(earlier)] @ unit[i]
        best = int(scores.argmax())
        j = earlier[best]
        return j if self.is_near(float(scores[best]), texts[j], texts[i]) else None

    def is_near(self, cosine: float, a: str, b: str) -> bool:
        """Texts this similar hold the same fact, unless their numbers differ."""
        return cosine >= self.threshold and _NUMBER_RE.findall(a) == _NUMBER_RE.findall(b)
