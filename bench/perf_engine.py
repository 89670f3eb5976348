"""Engine (``AsyncMemory`` in-process) measurements, one store per process.

Run by ``bench/perf.py``; each subcommand prints one JSON object on its last stdout line.

    perf_engine.py build     --data-dir D --model-dir M --n N   bulk ingest + embedding ceiling
    perf_engine.py measure   --data-dir D --model-dir M         open, first search, latencies
    perf_engine.py openparts --data-dir D --model-dir M         opening a store, part by part

``build`` stores ``N`` memories (``perf_data.memories``) through the engine's own bulk path:
one ``add(messages=[...], infer=False)`` call per chunk of one user's memories (default
dedup on). Before that it times raw fastembed (``TextEmbedding.embed``, default batch
size, input order) and the engine's ``Embedder.embed`` on the same sample of texts.

``measure`` opens the store in this fresh process (prints ``FIRST`` once the first search is
answered, so the parent can time process start → first search), then times searches
(hybrid and dense alternating, distinct queries: no cache hits), single adds, updates,
deletes and history reads, and reports RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import perf_data  # noqa: E402
from perf_util import Timer, anon_mb, rss_mb, summary  # noqa: E402


def _config(args: argparse.Namespace) -> Any:
    from mem0_mcp.config import MemoryConfig

    return MemoryConfig(
        data_dir=args.data_dir, embedding_model_path=args.model_dir, log_level="WARNING"
    )


# -- build -------------------------------------------------------------------------------------


def _raw_fastembed(model_dir: Path, texts: list[str]) -> dict[str, float]:
    """Raw fastembed throughput (texts/s) on ``texts``: the ceiling for ingest."""
    from fastembed import TextEmbedding

    model = TextEmbedding(
        "sentence-transformers/all-MiniLM-L6-v2", specific_model_path=str(model_dir)
    )
    list(model.embed(texts[:64]))  # warm-up
    t0 = time.perf_counter()
    n = sum(1 for _ in model.embed(texts))
    seconds = time.perf_counter() - t0
    return {"texts": n, "seconds": seconds, "per_s": n / seconds}


async def build(args: argparse.Namespace) -> dict[str, Any]:
    from mem0_mcp.memory import AsyncMemory

    mems = perf_data.memories(args.n)
    sample = [m.text for m in mems[: args.sample]]
    raw = _raw_fastembed(args.model_dir, sample)
    by_user: dict[str, list[str]] = defaultdict(list)
    for m in mems:
        by_user[m.user_id].append(m.text)
    chunks = [
        (user, texts[i : i + args.chunk])
        for i in range(0, max(len(t) for t in by_user.values()), args.chunk)
        for user, texts in by_user.items()
        if texts[i : i + args.chunk]
    ]
    events: dict[str, int] = defaultdict(int)
    async with AsyncMemory(_config(args)) as memory:
        t0 = time.perf_counter()
        vectors = await memory.embedder.embed(sample)  # the engine's embedding stage alone
        engine_embed_s = time.perf_counter() - t0
        assert len(vectors) == len(sample)
        t0 = time.perf_counter()
        for user, texts in chunks:
            result = await memory.add(
                [{"role": "user", "content": t} for t in texts], user_id=user, infer=False
            )
            for e in result.results:
                events[e.event] += 1
        seconds = time.perf_counter() - t0
        stored = await memory.vector_store.count(filter=None)
    return {
        "n": args.n,
        "stored": stored,
        "events": dict(events),
        "chunk": args.chunk,
        "seconds": seconds,
        "per_s": args.n / seconds,
        "raw_fastembed": raw,
        "engine_embedder_per_s": len(sample) / engine_embed_s,
        "fraction_of_raw": (args.n / seconds) / raw["per_s"],
        "corpus": perf_data.corpus_name(),
        "built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


# -- measure -----------------------------------------------------------------------------------


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    from mem0_mcp.memory import AsyncMemory

    import_ms = (time.perf_counter() - t0) * 1000
    qs = perf_data.queries(1 + 20 + 3 * args.samples)
    first_q, warm, qs = qs[0], qs[1:21], qs[21:]
    with Timer() as t_open:
        memory = AsyncMemory(_config(args))
        await memory.open()
    with Timer() as t_first:
        await memory.search(first_q[0], user_id=first_q[1])
    print("FIRST", flush=True)
    out: dict[str, Any] = {
        "import_ms": import_ms,
        "open_ms": t_open.ms,
        "first_search_ms": t_first.ms,
        "open_first_search_ms": t_open.ms + t_first.ms,
        "rss_open_mb": rss_mb(),
        "anon_open_mb": anon_mb(),
        "count": await memory.vector_store.count(filter=None),
    }
    try:
        for q, u in warm:
            await memory.search(q, user_id=u)
        out.update(await _searches(memory, qs, args.samples))
        out.update(await _writes(memory, args.ops))
    finally:
        await memory.close()
    out["rss_end_mb"] = rss_mb()
    out["anon_end_mb"] = anon_mb()
    out["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


async def _searches(memory: Any, qs: list[tuple[str, str]], n: int) -> dict[str, Any]:
    from mem0_mcp.retrieval import FUSION_DEPTH, MIN_DEPTH
    from mem0_mcp.scope import Scope

    depth = max(10 * FUSION_DEPTH, MIN_DEPTH)  # what a default search (limit 10) asks
    hybrid: list[float] = []
    dense: list[float] = []
    embed: list[float] = []
    store_dense: list[float] = []
    store_sparse: list[float] = []
    for i in range(n):
        (qh, uh), (qd, ud), (qe, ue) = qs[3 * i], qs[3 * i + 1], qs[3 * i + 2]
        with Timer() as t:
            await memory.search(qh, user_id=uh, search_mode="hybrid")
        hybrid.append(t.ms)
        with Timer() as t:
            await memory.search(qd, user_id=ud, search_mode="dense")
        dense.append(t.ms)
        # the parts of a search, on a third query
        with Timer() as t:
            vector = await memory.embedder.embed_query(qe + " ")
        embed.append(t.ms)
        flt = Scope(user_id=ue).filter()
        with Timer() as t:
            await memory.vector_store.search(vector, filter=flt, limit=depth)
        store_dense.append(t.ms)
        with Timer() as t:
            await memory.vector_store.search_sparse(
                memory.keywords.query(qe), filter=flt, limit=depth
            )
        store_sparse.append(t.ms)
    return {
        "search_hybrid": summary(hybrid),
        "search_dense": summary(dense),
        "embed_query": summary(embed),
        "store_depth": depth,
        "store_dense_top": summary(store_dense),
        "store_sparse_top": summary(store_sparse),
    }


async def _writes(memory: Any, n: int) -> dict[str, Any]:
    fresh = perf_data.memories(n, salt="fresh")
    adds: list[float] = []
    ids: list[str] = []
    for m in fresh:
        with Timer() as t:
            r = await memory.add(m.text, user_id=m.user_id, infer=False)
        adds.append(t.ms)
        ids.append(r.results[0].id)
    updates, history, deletes = [], [], []
    for i, mid in enumerate(ids):
        with Timer() as t:
            await memory.update(mid, fresh[i].text + " (corrected)")
        updates.append(t.ms)
    for mid in ids:
        with Timer() as t:
            await memory.history(mid)
        history.append(t.ms)
    for mid in ids:
        with Timer() as t:
            await memory.delete(mid)
        deletes.append(t.ms)
    return {
        "add": summary(adds),
        "update": summary(updates),
        "history": summary(history),
        "delete": summary(deletes),
    }


# -- open, part by part ------------------------------------------------------------------------


async def openparts(args: argparse.Namespace) -> dict[str, Any]:
    """Each part of ``AsyncMemory.open`` timed alone, in the order the engine runs them."""
    cfg = _config(args)
    out: dict[str, Any] = {}
    with Timer() as t:
        import mem0_mcp.memory  # noqa: F401
    out["import_engine_ms"] = t.ms
    with Timer() as t:
        import fastembed  # noqa: F401
    out["import_fastembed_ms"] = t.ms
    from mem0_mcp.embeddings import Embedder
    from mem0_mcp.history import HistoryStore
    from mem0_mcp.vector_stores import create_vector_store

    history = HistoryStore(cfg.history_path)
    with Timer() as t:
        await history.open()
    out["history_open_ms"] = t.ms
    embedder = Embedder(cfg)
    with Timer() as t:
        await embedder.ready()
    out["model_load_ms"] = t.ms
    store = create_vector_store(cfg)
    with Timer() as t:
        await store.open(embedder.dim)
    out["vector_store_open_ms"] = t.ms
    with Timer() as t:
        await embedder.embed_query("what did I say about my garden?")
    out["first_embed_ms"] = t.ms
    out["rss_mb"] = rss_mb()
    await store.close()
    await history.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["build", "measure", "openparts"])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=100, help="memories per add() call")
    parser.add_argument("--sample", type=int, default=2000, help="texts for the ceiling")
    parser.add_argument("--samples", type=int, default=300, help="searches of each kind")
    parser.add_argument("--ops", type=int, default=100, help="adds/updates/deletes/histories")
    args = parser.parse_args()
    fn = {"build": build, "measure": measure, "openparts": openparts}[args.command]
    print(json.dumps(asyncio.run(fn(args))), flush=True)


if __name__ == "__main__":
    main()
