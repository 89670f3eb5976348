"""Vector stores: the ``VectorStore`` protocol and the backend the settings choose.

Backends are imported lazily, so a process pays only for the engine it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Point, ScoredPoint, SparseVector, VectorStore

if TYPE_CHECKING:
    from ..config import MemoryConfig

__all__ = ["Point", "ScoredPoint", "SparseVector", "VectorStore", "create_vector_store"]


def create_vector_store(config: MemoryConfig) -> VectorStore:
    """The vector store ``config`` asks for (not opened yet: call ``open(dim)``).

    * ``qdrant_url`` set → a Qdrant server (``qdrant_api_key``), collection ``collection``;
      a URL always means server mode, whatever ``vector_store`` says.
    * ``vector_store == "edge"`` (default) → Qdrant Edge in ``config.vector_path``.
    * ``vector_store == "qdrant"`` without a URL → qdrant-client's local mode, in a folder
      beside the Edge one (``<vector_path>.qdrant-local``) so the two formats never mix.
    """
    if config.qdrant_url:
        from .qdrant import QdrantVectorStore

        return QdrantVectorStore(
            config.collection, url=config.qdrant_url, api_key=config.qdrant_api_key
        )
    if config.vector_store == "edge":
        from .edge import EdgeVectorStore

        return EdgeVectorStore(config.vector_path)
    from .qdrant import QdrantVectorStore

    local = config.vector_path.with_name(config.vector_path.name + ".qdrant-local")
    return QdrantVectorStore(config.collection, path=local)
