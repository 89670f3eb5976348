"""mem0 as a benchmark peer: a JSON-lines server on stdin/stdout, run in ``bench/.venvs/mem0``.

Started by ``mem0_client.Mem0Peer`` (or by hand:
``bench/.venvs/mem0/bin/python bench/peers/mem0_runner.py``). One request per stdin line, one
response per stdout line, in order; logs go to stderr (fd 1 is pointed at stderr at start-up,
so a stray ``print`` in a library can never corrupt the protocol).

How mem0 is configured (mem0ai 2.2.1, the current PyPI release when this was written; the
running version is reported by ``hello`` and ``init``)
-----------------------------------------------------------------------------------------
``mem0.AsyncMemory(MemoryConfig(...))`` with

* ``embedder``: provider ``fastembed``, model ``sentence-transformers/all-MiniLM-L6-v2``,
  ``embedding_dims`` 384. mem0 calls ``fastembed.TextEmbedding(model_name=...)``, which loads
  the hub snapshot ``Qdrant/all-MiniLM-L6-v2-onnx`` from ``$FASTEMBED_CACHE_PATH``
  (``bench/.cache/fastembed``, laid out by ``setup.py`` from the same int8 ONNX file our project
  uses) with ``HF_HUB_OFFLINE=1``.
* ``vector_store``: provider ``qdrant``, local path mode (``path=<data_dir>/qdrant``, the
  embedded qdrant-client engine, no server), ``collection_name`` as given,
  ``embedding_model_dims`` 384. mem0 2.x creates the collection with an unnamed dense vector
  (cosine) plus a sparse vector ``bm25`` with ``Modifier.IDF``.
* Hybrid search: mem0 2.x has no switch for it; it is on whenever the vector store implements
  ``keyword_search`` and fastembed can load ``Qdrant/bm25`` (otherwise mem0 logs a warning and
  silently searches dense-only). Its ``search`` takes ``max(4*top_k, 60)`` dense candidates,
  runs a BM25 query over the ``bm25`` sparse vectors (same filters), squashes BM25 scores with
  a sigmoid and ranks the dense candidates by ``(semantic + bm25 [+ entity boost]) / 2``
  after dropping candidates whose *semantic* score is below ``threshold`` (default 0.1).
  ``init`` checks that the ``bm25`` slot exists and the encoder loads, and fails otherwise
  (``require_hybrid``); ``hybrid: false`` turns BM25 off for a dense-only ablation. Each
  search response carries per-hit ``semantic_score``/``bm25_score`` (mem0's ``explain``), and
  ``stats`` counts keyword searches that ran vs. returned nothing.
* mem0's BM25 text preprocessing (``lemmatize_for_bm25``) and entity boosts use spaCy, an
  optional extra (``mem0ai[nlp]``) that a plain ``pip install mem0ai`` does not bring and whose
  model needs a download. Without it mem0 indexes the raw text (fastembed's BM25 still lower-
  cases, drops NLTK stop words and Snowball-stems) and entity boosts are off. ``init`` reports
  this as ``hybrid.lemmatizer``.
* ``llm``: provider ``openai`` with a dummy key and ``openai_base_url`` on a closed loopback
  port; ``add`` always passes ``infer=False`` so mem0 stores the text verbatim and never calls
  an LLM. The LLM's ``generate_response`` is also wrapped to fail loudly and is counted
  (``stats.llm_calls`` must stay 0).
* ``history_db_path``: ``<data_dir>/history.db``; ``MEM0_DIR``: ``<data_dir>/.mem0``;
  ``MEM0_TELEMETRY=False``; no reranker. ``_netguard`` blocks any non-loopback connection.

Protocol
--------
Request: ``{"id": <any JSON>, "op": "<name>", ...params}``.
Response: ``{"id": <same>, "op": "<name>", "ok": true, "result": {...}, "warnings": [...],
"wall_ms": <handler time>}`` or ``{"id", "op", "ok": false, "error": {"type", "message",
"traceback"}, "warnings"}``. ``warnings`` holds the WARNING+ log lines emitted while handling
the request. A line that is not JSON gets ``{"id": null, "ok": false, ...}``. Timings named
``ms`` are measured in the runner around the awaited mem0 call only.

Scope: ``user_id`` / ``agent_id`` / ``run_id`` at the top level of a request (or of an item);
searches may instead pass ``filters`` (mem0's filter dict) directly.

=============  =====================================================  ========================
op             params                                                 result
=============  =====================================================  ========================
hello          -                                                      pid, python, versions
init           data_dir, collection="mem0", hybrid=true,              mem0_version, init_ms,
               require_hybrid=true, model=MiniLM, embedding_dims=384  import_ms, hybrid{...},
                                                                      config
add            text, scope, metadata?                                 ids, results, ms
add_many       items=[{text, scope..., metadata?}], concurrency=1     ids, ms[], total_ms,
                                                                      errors[{index, type,
                                                                      message}]
search         query, scope|filters, limit=10, threshold=null,        hits[{id, text, score,
               explain=true                                           semantic_score,
                                                                      bm25_score,
                                                                      entity_boost,
                                                                      user_id, run_id,
                                                                      agent_id, metadata}],
                                                                      ms
search_many    queries=[{query, scope|filters}], limit, threshold     results[{hits, ms}],
                                                                      total_ms
get            memory_id                                              memory (or null)
get_all        scope, limit=100                                       memories, ms
update         memory_id, text?, metadata?                            result, ms
delete         memory_id                                              result, ms
delete_all     scope                                                  result, ms
history        memory_id                                              history[...], ms
stats          -                                                      llm_calls, keyword
                                                                      search counts, blocked
close          -                                                      closed (then exits)
=============  =====================================================  ========================
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import time
import traceback
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _netguard  # noqa: E402

_netguard.install()

for _k, _v in {
    "MEM0_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_k, _v)
for _k in ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_k, None)

# The protocol owns the real stdout; everything else printed to fd 1 lands on stderr.
_PROTO = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr

log = logging.getLogger("mem0_runner")
SCOPE_KEYS = ("user_id", "agent_id", "run_id")
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DUMMY_LLM_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens, fails at once


class _Collect(logging.Handler):
    """Collects WARNING+ records emitted while one request is handled."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(f"{record.name}: {record.getMessage()}")
        except Exception:  # pragma: no cover - never let logging break a request
            pass


class LLMCalled(RuntimeError):
    pass


def _versions() -> dict[str, str]:
    out = {}
    for name in ("mem0ai", "fastembed", "qdrant-client", "onnxruntime"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            pass
    return out


def _scope(req: dict) -> dict[str, str]:
    return {k: str(req[k]) for k in SCOPE_KEYS if req.get(k) is not None}


class Runner:
    def __init__(self) -> None:
        self.memory = None
        self.mem0_version: str | None = None
        self.llm_calls = 0
        self.keyword_calls = 0
        self.keyword_none = 0
        self.keyword_hits = 0
        self.hybrid = False
        self.closed = False

    # ------------------------------------------------------------------ ops
    async def op_hello(self, req: dict) -> dict:
        return {
            "pid": os.getpid(),
            "python": sys.version.split()[0],
            "versions": _versions(),
            "fastembed_cache": os.environ.get("FASTEMBED_CACHE_PATH"),
            "hf_hub_offline": os.environ.get("HF_HUB_OFFLINE"),
        }

    async def op_init(self, req: dict) -> dict:
        if self.memory is not None:
            raise RuntimeError("already initialised; start a new runner for another store")
        data_dir = Path(req["data_dir"]).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("MEM0_DIR", str(data_dir / ".mem0"))
        collection = req.get("collection", "mem0")
        want_hybrid = bool(req.get("hybrid", True))
        require_hybrid = bool(req.get("require_hybrid", True))
        model = req.get("model", DEFAULT_MODEL)
        dims = int(req.get("embedding_dims", 384))

        t0 = time.perf_counter()
        import mem0
        from mem0 import AsyncMemory
        from mem0.configs.base import MemoryConfig

        import_ms = (time.perf_counter() - t0) * 1000
        self.mem0_version = getattr(mem0, "__version__", None) or _versions().get("mem0ai")

        config = {
            "embedder": {
                "provider": "fastembed",
                "config": {"model": model, "embedding_dims": dims},
            },
            "vector_store": {
                "provider": "qdrant",
                "config": {
                    "collection_name": collection,
                    "embedding_model_dims": dims,
                    "path": str(data_dir / "qdrant"),
                },
            },
            "llm": {
                "provider": "openai",
                "config": {
                    "model": "never-called",
                    "api_key": "sk-unused-never-called",
                    "openai_base_url": DUMMY_LLM_URL,
                },
            },
            "history_db_path": str(data_dir / "history.db"),
        }
        t0 = time.perf_counter()
        memory = AsyncMemory(MemoryConfig(**config))
        construct_ms = (time.perf_counter() - t0) * 1000

        def _no_llm(*args: Any, **kwargs: Any) -> Any:
            self.llm_calls += 1
            raise LLMCalled("the mem0 peer must never call an LLM (infer=False)")

        memory.llm.generate_response = _no_llm

        vs = memory.vector_store
        t0 = time.perf_counter()
        encoder = vs._get_bm25_encoder() if want_hybrid else None
        bm25_load_ms = (time.perf_counter() - t0) * 1000
        keyword_supported = type(vs).keyword_search is not _base_keyword_search()
        if not want_hybrid:
            vs._has_bm25_slot = False  # mem0 then neither encodes nor queries BM25
        self.hybrid = bool(
            want_hybrid and keyword_supported and vs._has_bm25_slot and encoder is not None
        )
        self._wrap_keyword_search(vs)
        bm25 = getattr(encoder, "model", None)
        hybrid = {
            "requested": want_hybrid,
            "active": self.hybrid,
            "store_supports_keyword_search": keyword_supported,
            "bm25_sparse_slot": bool(getattr(vs, "_has_bm25_slot", False)),
            "bm25_encoder": (
                f"{type(encoder).__name__}/{type(bm25).__name__}"
                f" ({getattr(encoder, 'model_name', '?')})"
                if encoder
                else None
            ),
            "bm25_language": getattr(bm25, "language", None),
            "bm25_stopwords": len(getattr(bm25, "stopwords", ()) or ()),
            "lemmatizer": _lemmatizer_state(),
        }
        if want_hybrid and require_hybrid and not self.hybrid:
            memory.close()
            raise RuntimeError(f"mem0 hybrid BM25 search is not active: {hybrid}")
        self.memory = memory
        embedder = memory.embedding_model
        return {
            "mem0_version": self.mem0_version,
            "versions": _versions(),
            "import_ms": import_ms,
            "init_ms": construct_ms,
            "bm25_load_ms": bm25_load_ms,
            "hybrid": hybrid,
            "embedder": {
                "class": type(embedder).__name__,
                "model": embedder.config.model,
                "dims": embedder.config.embedding_dims,
            },
            "config": config
            | {
                "llm": {
                    "provider": "openai",
                    "config": {"model": "never-called", "openai_base_url": DUMMY_LLM_URL},
                }
            },
            "data_dir": str(data_dir),
        }

    def _wrap_keyword_search(self, vs: Any) -> None:
        real = vs.keyword_search

        def keyword_search(*args: Any, **kwargs: Any) -> Any:
            self.keyword_calls += 1
            out = real(*args, **kwargs)
            if out is None:
                self.keyword_none += 1
            else:
                self.keyword_hits += len(out)
            return out

        vs.keyword_search = keyword_search

    def _mem(self):
        if self.memory is None:
            raise RuntimeError("send {'op': 'init', 'data_dir': ...} first")
        return self.memory

    async def _add_one(self, item: dict) -> tuple[list[str], list[dict], float]:
        mem = self._mem()
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("'text' must be a non-empty string")
        scope = _scope(item)
        if not scope:
            raise ValueError("give at least one of user_id, agent_id, run_id")
        t0 = time.perf_counter()
        out = await mem.add(text, **scope, metadata=item.get("metadata"), infer=False)
        ms = (time.perf_counter() - t0) * 1000
        results = out.get("results", []) if isinstance(out, dict) else out
        return [r["id"] for r in results], results, ms

    async def op_add(self, req: dict) -> dict:
        ids, results, ms = await self._add_one(req)
        return {"ids": ids, "results": results, "ms": ms}

    async def op_add_many(self, req: dict) -> dict:
        items = req.get("items") or []
        concurrency = max(1, int(req.get("concurrency", 1)))
        ids: list[str | None] = [None] * len(items)
        times: list[float | None] = [None] * len(items)
        errors: list[dict] = []
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int, item: dict) -> None:
            async with sem:
                try:
                    got, _, ms = await self._add_one(item)
                    ids[i] = got[0] if got else None
                    times[i] = ms
                except Exception as e:  # per-item errors are reported, not fatal
                    errors.append({"index": i, "type": type(e).__name__, "message": str(e)})

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i, it) for i, it in enumerate(items)))
        total_ms = (time.perf_counter() - t0) * 1000
        return {
            "ids": ids,
            "ms": times,
            "total_ms": total_ms,
            "errors": errors,
            "concurrency": concurrency,
        }

    async def _search_one(
        self, req: dict, limit: int, threshold: float | None, explain: bool
    ) -> dict:
        mem = self._mem()
        filters = dict(req.get("filters") or {})
        filters.update(_scope(req))
        kwargs: dict[str, Any] = {"top_k": limit, "filters": filters, "explain": explain}
        if threshold is not None:
            kwargs["threshold"] = threshold
        t0 = time.perf_counter()
        out = await mem.search(req["query"], **kwargs)
        ms = (time.perf_counter() - t0) * 1000
        hits = []
        for r in out.get("results", []):
            details = r.get("score_details") or {}
            hits.append(
                {
                    "id": r.get("id"),
                    "text": r.get("memory"),
                    "score": r.get("score"),
                    "semantic_score": details.get("semantic_score"),
                    "bm25_score": details.get("bm25_score"),
                    "entity_boost": details.get("entity_boost"),
                    **{k: r[k] for k in SCOPE_KEYS if k in r},
                    "metadata": r.get("metadata"),
                }
            )
        return {"hits": hits, "ms": ms}

    async def op_search(self, req: dict) -> dict:
        return await self._search_one(
            req, int(req.get("limit", 10)), req.get("threshold"), bool(req.get("explain", True))
        )

    async def op_search_many(self, req: dict) -> dict:
        limit = int(req.get("limit", 10))
        threshold = req.get("threshold")
        explain = bool(req.get("explain", True))
        results = []
        t0 = time.perf_counter()
        for q in req.get("queries") or []:
            try:
                results.append(
                    await self._search_one(
                        q, int(q.get("limit", limit)), q.get("threshold", threshold), explain
                    )
                )
            except Exception as e:
                results.append({"error": {"type": type(e).__name__, "message": str(e)}})
        return {"results": results, "total_ms": (time.perf_counter() - t0) * 1000}

    async def op_get(self, req: dict) -> dict:
        return {"memory": await self._mem().get(req["memory_id"])}

    async def op_get_all(self, req: dict) -> dict:
        t0 = time.perf_counter()
        out = await self._mem().get_all(filters=_scope(req), top_k=int(req.get("limit", 100)))
        ms = (time.perf_counter() - t0) * 1000
        return {"memories": out.get("results", out) if isinstance(out, dict) else out, "ms": ms}

    async def op_update(self, req: dict) -> dict:
        t0 = time.perf_counter()
        out = await self._mem().update(
            req["memory_id"], text=req.get("text"), metadata=req.get("metadata")
        )
        return {"result": out, "ms": (time.perf_counter() - t0) * 1000}

    async def op_delete(self, req: dict) -> dict:
        t0 = time.perf_counter()
        out = await self._mem().delete(req["memory_id"])
        return {"result": out, "ms": (time.perf_counter() - t0) * 1000}

    async def op_delete_all(self, req: dict) -> dict:
        t0 = time.perf_counter()
        out = await self._mem().delete_all(**_scope(req))
        return {"result": out, "ms": (time.perf_counter() - t0) * 1000}

    async def op_history(self, req: dict) -> dict:
        t0 = time.perf_counter()
        out = await self._mem().history(req["memory_id"])
        return {"history": out, "ms": (time.perf_counter() - t0) * 1000}

    async def op_stats(self, req: dict) -> dict:
        return {
            "llm_calls": self.llm_calls,
            "hybrid": self.hybrid,
            "keyword_search_calls": self.keyword_calls,
            "keyword_search_returned_none": self.keyword_none,
            "keyword_search_hits": self.keyword_hits,
            "netguard_blocked": list(_netguard.blocked),
        }

    async def op_close(self, req: dict) -> dict:
        if self.memory is not None:
            client = getattr(self.memory.vector_store, "client", None)
            self.memory.close()
            if client is not None:
                try:
                    client.close()
                except Exception as e:  # pragma: no cover
                    log.warning("closing qdrant client: %s", e)
            self.memory = None
        self.closed = True
        return {"closed": True, "llm_calls": self.llm_calls}


def _base_keyword_search():
    from mem0.vector_stores.base import VectorStoreBase

    return VectorStoreBase.keyword_search


def _lemmatizer_state() -> str:
    try:
        from mem0.utils.spacy_models import get_nlp_lemma
    except Exception as e:  # pragma: no cover
        return f"unknown ({e})"
    try:
        import spacy  # noqa: F401
    except ImportError:
        return "none: spaCy not installed (mem0ai[nlp] extra), BM25 indexes raw text"
    return "spacy" if get_nlp_lemma() is not None else "none: spaCy model failed to load"


def _send(obj: dict) -> None:
    _PROTO.write(json.dumps(obj, default=str, ensure_ascii=False) + "\n")
    _PROTO.flush()


async def main() -> None:
    level = os.environ.get("MEM0_RUNNER_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    collector = _Collect()
    logging.getLogger().addHandler(collector)
    runner = Runner()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def reader() -> None:
        for line in sys.stdin.buffer:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=reader, name="stdin-reader", daemon=True).start()
    while not runner.closed:
        line = await queue.get()
        if line is None:
            break
        if not line.strip():
            continue
        collector.records = []
        rid, op = None, None
        t0 = time.perf_counter()
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("a request must be a JSON object")
            rid, op = req.get("id"), req.get("op")
            handler = getattr(runner, f"op_{op}", None)
            if not isinstance(op, str) or handler is None:
                raise ValueError(f"unknown op {op!r}")
            result = await handler(req)
            resp = {"id": rid, "op": op, "ok": True, "result": result}
        except Exception as e:
            log.debug("request failed", exc_info=True)
            resp = {
                "id": rid,
                "op": op,
                "ok": False,
                "error": {
                    "type": type(e).__name__,
                    "message": str(e),
                    "traceback": traceback.format_exc(limit=8),
                },
            }
        resp["warnings"] = collector.records
        resp["wall_ms"] = (time.perf_counter() - t0) * 1000
        _send(resp)
    if runner.memory is not None:  # stdin closed without 'close'
        await runner.op_close({})


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
