"""How to count memories per scope for the dashboard's scope list (``MemoryAPI.scopes``).

Three ways, side by side on the same Qdrant Edge shard (N memories, ~1,000 users, one in
ten memories with one of 50 agents, one in five with a run id):

* ``facet``: the engine's facet request on each scope key, exact counts, what
  ``VectorStore.facet`` does (three requests: users, agents, runs), plus one ``count``;
* ``scroll``: a payload-only scroll of the three keys over every point, counted in Python
  (what a store without facets would have to do);
* ``facet (one user)``: the same facet requests within one user's memories (a bound token).

Each is timed ``--repeat`` times; medians in milliseconds. The event loop is not involved:
the calls run directly on the shard, as the store's worker thread would run them.

    .venv/bin/python bench/scopes.py                 # N = 10,000 and 100,000
    .venv/bin/python bench/scopes.py --sizes 10000   # quicker
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import qdrant_edge as qe

from mem0_mcp.vector_stores.edge import _edge_config, _ensure_indexes

KEYS = ("user_id", "agent_id", "run_id")
DIM = 384


def build(path: Path, n: int, rng: random.Random) -> qe.EdgeShard:
    shard = qe.EdgeShard.create(str(path), _edge_config(DIM))
    _ensure_indexes(shard)
    for start in range(0, n, 1000):
        points = []
        for i in range(start, min(start + 1000, n)):
            user = f"u{rng.randrange(1000)}"
            payload: dict[str, object] = {"data": f"memory {i}", "user_id": user}
            if rng.random() < 0.1:
                payload["agent_id"] = f"a{rng.randrange(50)}"
            if rng.random() < 0.2:
                payload["run_id"] = f"r{rng.randrange(n // 20 or 1)}"
            vector = [rng.random() for _ in range(DIM)]
            points.append(qe.Point(str(uuid.uuid4()), {"dense": vector}, payload))
        shard.update(qe.UpdateOperation.upsert_points(points))
    shard.flush()
    return shard


def by_facet(shard: qe.EdgeShard, flt: qe.Filter | None) -> dict[str, int]:
    total = shard.count(qe.CountRequest(exact=True, filter=flt))
    kinds = [
        shard.facet(qe.FacetRequest(key, limit=51, exact=True, filter=flt)).hits for key in KEYS
    ]
    return {"memories": total, "ids": sum(len(hits) for hits in kinds)}


def by_scroll(shard: qe.EdgeShard) -> dict[str, int]:
    counts: dict[str, Counter[str]] = {key: Counter() for key in KEYS}
    total, offset = 0, None
    selector = qe.PayloadSelector.Include(list(KEYS))
    while True:
        request = qe.ScrollRequest(offset=offset, limit=1000, with_payload=selector)
        records, offset = shard.scroll(request)
        for record in records:
            total += 1
            for key in KEYS:
                if value := (record.payload or {}).get(key):
                    counts[key][value] += 1
        if offset is None:
            return {"memories": total, "ids": sum(len(c) for c in counts.values())}


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(7)
    print("| memories | facet ×3 + count | payload scroll | ratio | facet, one user |")
    print("|---:|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            shard = build(Path(tmp) / "shard", n, rng)
            assert by_facet(shard, None)["memories"] == by_scroll(shard)["memories"] == n
            one = qe.Filter(must=[qe.FieldCondition("user_id", match=qe.MatchValue("u7"))])
            facet = median_ms(lambda s=shard: by_facet(s, None), args.repeat)
            scroll = median_ms(lambda s=shard: by_scroll(s), args.repeat)
            scoped = median_ms(lambda s=shard, f=one: by_facet(s, f), args.repeat)
            cells = f"{facet:.1f} ms | {scroll:.1f} ms | {scroll / facet:.0f}× | {scoped:.2f} ms"
            print(f"| {n:,} | {cells} |")
            shard.close()


if __name__ == "__main__":
    main()
