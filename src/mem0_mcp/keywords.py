"""The keyword (BM25) side of hybrid search: text → sparse vector, offline.

Tokenising, English stop words (NLTK's list, applied to documents and queries alike) and
Snowball stemming come from Qdrant Edge's built-in BM25 model (``qdrant_edge.Bm25``), so
nothing is downloaded. Documents get BM25 term-frequency weights
``tf · (k1 + 1) / (tf + k1 · (1 − b + b · len / avg_len))``; queries get weight 1 per
distinct term; the vector store applies IDF (Qdrant's ``Modifier.IDF``) at search time, so
the IDF always reflects the current collection.

Parameters measured on LoCoMo with the hybrid ranking (docs/benchmarks.md, "LoCoMo
retrieval"): stemming on (off: hybrid hit@10 −0.033) and stop words on (off: −0.019);
no length normalisation, ``b`` 0 (the textbook k1 1.2 / b 0.75: −0.037 hit@10, −0.041 MRR;
k1 1.2 / b 0.25: −0.011 hit@10):
a memory is one short fact, and a longer one usually holds more facts, not the same fact
padded out; ``k1`` 0.6 (1.2 and 2.0 lose 0.002–0.008 MRR). With ``b`` 0, ``avg_len`` has no
effect; it is kept at 20, the measured mean length of a LoCoMo memory in tokens.

Changing these parameters changes the weights of vectors written from then on only; a store
written with other values keeps ranking correctly but mixes two length normalisations.
"""

from __future__ import annotations

import qdrant_edge

from .vector_stores.base import SparseVector

# No effect while B is 0; a memory's typical length in tokens should B ever be raised.
AVG_LEN = 20.0
K1 = 0.6
B = 0.0


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
