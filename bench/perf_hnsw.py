"""Is an HNSW index ever needed? Exact scoped search by scope size on a real store, and
(``--build``) what an HNSW index on a copy of it would change.

    perf_hnsw.py --data-dir D [--model-dir M] [--queries 100] [--build]

``D`` is a store built by ``perf_engine.py build`` (MiniLM embeddings of LoCoMo turns, 100
users). Scopes of 1, 10 and 100 users (1%, 10%, 100% of the points; ``user_id in [...]``
through the engine's own filter translation) and no filter are searched for the top 10
with ``EdgeVectorStore.search`` (exact: Edge never builds an index itself). With
``--build`` a copy of the shard is indexed by ``EdgeShard.optimize()`` (HNSW m=16,
ef_construct=100; it holds the GIL throughout) and every scope is searched again at
several ``hnsw_ef``, with recall@10 measured against the exact results.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import perf_data  # noqa: E402
from perf_util import CACHE, Timer, summary  # noqa: E402


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import qdrant_edge as qe

    from mem0_mcp.config import MemoryConfig
    from mem0_mcp.embeddings import Embedder
    from mem0_mcp.filters import Condition
    from mem0_mcp.vector_stores.base import LAYOUT
    from mem0_mcp.vector_stores.edge import EdgeVectorStore, _edge_config, _native_filter

    cfg = MemoryConfig(data_dir=args.data_dir, embedding_model_path=args.model_dir)
    embedder = Embedder(cfg)
    queries = [q for q, _ in perf_data.queries(args.queries, seed=41)]
    vectors = await embedder.embed(queries)
    store = EdgeVectorStore(cfg.vector_path)
    await store.open(embedder.dim)
    total = await store.count(filter=None)
    users = [f"user-{i}" for i in range(perf_data.USERS)]
    scopes: list[tuple[int, Any]] = []
    for k in (1, 10, 100):
        flt = Condition("user_id", "in", users[:k])
        scopes.append((await store.count(filter=flt), flt))
    scopes.append((total, None))
    out: dict[str, Any] = {"points": total, "scopes": []}
    exact_ids: list[list[list[str]]] = []
    for size, flt in scopes:
        times, ids = [], []
        for v in vectors[:5]:
            await store.search(v, filter=flt, limit=10)
        for v in vectors:
            with Timer() as t:
                hits = await store.search(v, filter=flt, limit=10)
            times.append(t.ms)
            ids.append([h.id for h in hits])
        exact_ids.append(ids)
        out["scopes"].append({"scope": size, "filtered": flt is not None, "exact": summary(times)})
    await store.close()
    if not args.build:
        return out

    tmp = Path(tempfile.mkdtemp(prefix="hnsw-", dir=CACHE))
    try:
        shutil.copytree(cfg.vector_path, tmp / "shard")
        config = _edge_config(embedder.dim)
        shard = qe.EdgeShard.load(str(tmp / "shard"), config)
        t0 = time.perf_counter()
        shard.optimize()
        out["build_s"] = time.perf_counter() - t0
        best: dict[int, dict[str, Any]] = {}
        for (size, flt), truth, row in zip(scopes, exact_ids, out["scopes"], strict=True):
            row["by_ef"] = {}
            for ef in args.ef:
                times, hit = [], 0
                for v, want in zip(vectors, truth, strict=True):
                    request = qe.QueryRequest(
                        limit=10,
                        query=qe.Query.Nearest([float(x) for x in v], using=LAYOUT.dense),
                        filter=_native_filter(flt),
                        params=qe.SearchParams(hnsw_ef=ef),
                    )
                    with Timer() as t:
                        got = shard.query(request)
                    times.append(t.ms)
                    hit += len({str(h.id) for h in got} & set(want))
                recall = hit / (10 * len(vectors))
                row["by_ef"][ef] = {"latency": summary(times), "recall_at_10": recall}
                best[size] = {"ef": ef, "latency": summary(times), "recall_at_10": recall}
            # the table shows the largest ef tried
            row["hnsw"] = best[size]["latency"]
            row["recall_at_10"] = best[size]["recall_at_10"]
            row["hnsw_ef"] = best[size]["ef"]
        shard.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--model-dir", type=Path, default=CACHE / "models" / "all-MiniLM-L6-v2-int8"
    )
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--build", action="store_true")
    parser.add_argument(
        "--ef", type=lambda s: [int(x) for x in s.split(",")], default=[64, 256, 512]
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
