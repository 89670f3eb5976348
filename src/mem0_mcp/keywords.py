"""The keyword (BM25) side of hybrid search: text → sparse vector, offline.

Tokenising, English stop words and Snowball stemming come from Qdrant Edge's built-in
BM25 model (``qdrant_edge.Bm25``), so nothing is downloaded. Documents get BM25
term-frequency weights (``k``, ``b``, ``avg_len``); queries get weight 1 per term; the
vector store applies IDF (Qdrant's ``Modifier.IDF``) at search time, so the IDF always
reflects the current collection.
"""

from __future__ import annotations

import qdrant_edge

from .vector_stores.base import SparseVector

# Memories are short facts, not 256-token passages (Bm25Config's default): an average
# length near the real one keeps length normalisation meaningful.
AVG_LEN = 20.0
K1 = 1.2
B = 0.75


class KeywordEncoder:
    """Stateless and cheap (~10 µs a sentence): safe to call on the event loop."""

    def __init__(self, *, k1: float = K1, b: float = B, avg_len: float = AVG_LEN) -> None:
        self._model = qdrant_edge.Bm25(
            qdrant_edge.Bm25Config(k=k1, b=b, avg_len=avg_len, language="english")
        )

    def document(self, text: str) -> SparseVector:
        vec = self._model.embed_document(text)
        return SparseVector(indices=list(vec.indices), values=list(vec.values))

    def query(self, text: str) -> SparseVector:
        vec = self._model.embed_query(text)
        return SparseVector(indices=list(vec.indices), values=list(vec.values))
