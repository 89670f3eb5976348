"""Peer measurements with the same texts, queries and model as ours (``bench/peers``).

* ``mem0(data_dir, n)`` — mem0's ``AsyncMemory`` (infer off, hybrid search on, local
  Qdrant) in its own venv: sequential adds of ``n`` memories over 100 users (its bulk
  path: mem0 has no batch add with infer off), then user-filtered searches, single adds,
  updates, history reads, deletes; then a fresh process on the same store for open + first
  search. Times are taken inside mem0's process around the awaited call (``ms``), like our
  in-process engine numbers.
* ``qdrant_mcp(data_dir, n)`` — mcp-server-qdrant over stdio: ``qdrant-store`` as add,
  ``qdrant-find`` as search (no scoping: it searches the whole collection; no update,
  delete or history), client-side round trips; then a fresh spawn for start-up times.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import perf_data
from perf_util import children, log, summary, tree_rss_mb


async def mem0(data_dir: Path, n: int, *, samples: int, ops: int) -> dict[str, Any]:
    from peers.mem0_client import Mem0Peer

    mems = perf_data.memories(n)
    qs = perf_data.queries(1 + samples, seed=31)
    fresh = perf_data.memories(ops, salt="mem0")
    out: dict[str, Any] = {"n": n}
    async with Mem0Peer(data_dir, collection="perf", timeout=3600) as peer:
        out["versions"] = peer.info.get("versions") or peer.info.get("mem0_version")
        log(f"mem0: adding {n} memories (sequential, ~90/s)")
        t0 = time.perf_counter()
        r = await peer.add_many([{"text": m.text, "user_id": m.user_id} for m in mems])
        wall_s = time.perf_counter() - t0
        item_ms = [x for x in r["ms"] if x is not None]
        out["ingest"] = {
            "per_s": len(item_ms) / (r["total_ms"] / 1000),
            "wall_per_s": n / wall_s,
            "errors": len(r.get("errors") or []),
            "add_during_ingest": summary(item_ms),
        }
        res = await peer.search_many([{"query": q, "user_id": u} for q, u in qs], limit=10)
        ms = [x["ms"] for x in res["results"][1:] if "ms" in x]
        out["search_hybrid"] = summary(ms)
        adds, ids = [], []
        for m in fresh:
            a = await peer.add(m.text, user_id=m.user_id)
            adds.append(a["ms"])
            ids.append(a["ids"][0])
        out["add"] = summary(adds)
        out["update"] = summary([(await peer.update(i, text="changed " + i))["ms"] for i in ids])
        out["history"] = summary([(await peer.history(i))["ms"] for i in ids])
        out["delete"] = summary([(await peer.delete(i))["ms"] for i in ids])
        out["rss_mb"] = tree_rss_mb(peer.proc.pid) if peer.proc else float("nan")
    async with Mem0Peer(data_dir, collection="perf", timeout=3600) as peer:
        first = await peer.search(qs[0][0], user_id=qs[0][1], limit=10)
        out["open_ms"] = peer.info.get("init_ms")
        out["first_search_ms"] = first["ms"]
        out["open_first_search_ms"] = (peer.info.get("init_ms") or 0) + first["ms"]
        out["spawn_to_first_search_ms"] = (
            (peer.spawn_ms or 0) + (peer.init_ms_wall or 0) + first["ms"]
        )
    return out


async def qdrant_mcp(data_dir: Path, n: int, *, samples: int) -> dict[str, Any]:
    from peers.qdrant_mcp import QdrantMCPPeer

    mems = perf_data.memories(n)
    qs = perf_data.queries(1 + samples, seed=37)
    out: dict[str, Any] = {"n": n}
    before = set(children())
    async with QdrantMCPPeer(data_dir, collection="perf", search_limit=10) as peer:
        pids = set(children()) - before
        out["versions"] = peer.server_info.get("packages")
        log(f"mcp-server-qdrant: storing {n} memories over stdio")
        items = [{"text": m.text, "metadata": {"user_id": m.user_id}} for m in mems]
        r = await peer.store_many(items)
        out["store_per_s"] = n / (r["total_ms"] / 1000)
        out["store_during_ingest"] = summary(r["ms"])
        tail = r["ms"][-min(len(r["ms"]), 100) :]
        out["store_last100"] = summary(tail)  # at ~n points, comparable to our add at n
        res = await peer.find_many([q for q, _ in qs])
        out["find"] = summary([x["ms"] for x in res["results"][1:]])
        out["rss_mb"] = sum(tree_rss_mb(p) for p in pids) if pids else float("nan")
    t0 = time.perf_counter()
    async with QdrantMCPPeer(data_dir, collection="perf", search_limit=10) as peer:
        out["initialize_ms"] = peer.startup_ms
        await peer.find(qs[0][0])
        out["first_search_ms"] = (time.perf_counter() - t0) * 1000
    return out
