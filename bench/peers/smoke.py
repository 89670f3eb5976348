"""Smoke check of the peer harnesses: set up, store ~20 memories in each peer, search, report.

    .venv/bin/python bench/peers/smoke.py [--keep DIR] [--no-ablation] [--json OUT]

Runs ``setup.ensure()`` (cheap when done), then

* mem0 (hybrid BM25 on): ``add_many`` 20 memories for two users, one search per query with
  per-hit semantic/BM25 scores, an update/history/delete round, and ``stats`` - which must show
  no LLM call and a BM25 keyword search for every query that returned something;
* mem0 with ``hybrid=false`` on the same data (dense-only ablation), to show BM25 changes the
  scores/ranking;
* mcp-server-qdrant: spawn -> initialize time, 20 ``qdrant-store`` calls, one ``qdrant-find``
  per query.

Prints hits and timings, and exits non-zero if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import setup as peer_setup  # noqa: E402
from mem0_client import Mem0Peer  # noqa: E402
from qdrant_mcp import QdrantMCPPeer  # noqa: E402

MEMORIES = [
    ("alice", "m01", "Alice's favourite food is margherita pizza from Napoli Express."),
    ("alice", "m02", "Alice adopted a grey cat named Zorblax in March 2023."),
    ("alice", "m03", "Alice works as a nurse at St. Mary's hospital on night shifts."),
    ("alice", "m04", "Alice is training for the Berlin marathon in September."),
    ("alice", "m05", "Alice is allergic to peanuts and carries an EpiPen."),
    ("alice", "m06", "Alice's sister Rosa lives in Lisbon and teaches violin."),
    ("alice", "m07", "Alice drives a red 2015 Honda Civic."),
    ("alice", "m08", "Alice prefers green tea over coffee in the morning."),
    ("alice", "m09", "Alice is reading 'The Left Hand of Darkness' by Ursula K. Le Guin."),
    ("alice", "m10", "Alice wants to visit Kyoto during cherry blossom season."),
    ("bob", "m11", "Bob is a backend engineer who writes Rust and Go."),
    ("bob", "m12", "Bob's daughter Mia started kindergarten last week."),
    ("bob", "m13", "Bob plays bass guitar in a jazz trio on Fridays."),
    ("bob", "m14", "Bob is vegetarian and loves spicy Sichuan tofu."),
    ("bob", "m15", "Bob moved from Toronto to Denver in 2021."),
    ("bob", "m16", "Bob's car is an electric Tesla Model 3."),
    ("bob", "m17", "Bob is afraid of flying and prefers trains."),
    ("bob", "m18", "Bob collects vintage mechanical watches, especially Omega."),
    ("bob", "m19", "Bob's dog Pepper is a three-year-old beagle."),
    ("bob", "m20", "Bob runs a small podcast about distributed databases."),
]
QUERIES = [
    ("alice", "What is the name of Alice's cat?", "m02"),
    ("alice", "Zorblax", "m02"),
    ("alice", "What food does Alice like?", "m01"),
    ("alice", "Where does Alice's sister live?", "m06"),
    ("alice", "What car does Alice drive?", "m07"),
    ("alice", "allergies", "m05"),
    ("bob", "What instrument does Bob play?", "m13"),
    ("bob", "Does Bob eat meat?", "m14"),
    ("bob", "What kind of dog does Bob have?", "m19"),
    ("bob", "Omega watches", "m18"),
    ("bob", "Pepper", "m19"),
    ("bob", "Who is Mia?", "m12"),
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):7.1f} ms  p95 {pct(values, 0.95):7.1f} ms  "
        f"max {max(values):7.1f} ms  (n={len(values)})"
    )


def show_hits(query: str, expect: str, hits: list[dict], ids_by_key: dict[str, str]) -> None:
    print(f"  Q: {query!r}  (expect {expect})")
    for rank, h in enumerate(hits[:3], 1):
        key = ids_by_key.get(h.get("id")) or (h.get("metadata") or {}).get("key", "?")
        scores = ""
        if h.get("score") is not None:
            scores = (
                f" score={h['score']:.3f} sem={h.get('semantic_score') or 0:.3f}"
                f" bm25={h.get('bm25_score') or 0:.3f}"
            )
        print(f"    {rank}. [{key}]{scores} {h.get('text')}")


def hit_at(hits: list[dict], expect: str, key_of, k: int) -> bool:
    return any(key_of(h) == expect for h in hits[:k])


async def run_mem0(base: Path, *, hybrid: bool, verbose: bool) -> dict:
    label = "mem0 (hybrid BM25)" if hybrid else "mem0 (dense-only ablation)"
    print(f"\n=== {label} ===")
    out: dict = {"label": label}
    t0 = time.perf_counter()
    async with Mem0Peer(base / ("mem0" if hybrid else "mem0-dense"), hybrid=hybrid) as peer:
        out["spawn_ms"] = peer.spawn_ms
        out["init_ms_wall"] = peer.init_ms_wall
        out["start_ms"] = (time.perf_counter() - t0) * 1000
        info = peer.info
        out["mem0_version"] = info["mem0_version"]
        out["hybrid"] = info["hybrid"]
        print(
            f"mem0 {info['mem0_version']}  spawn {peer.spawn_ms:.0f} ms, init round trip "
            f"{peer.init_ms_wall:.0f} ms (import {info['import_ms']:.0f}, AsyncMemory() "
            f"{info['init_ms']:.0f}, BM25 encoder {info['bm25_load_ms']:.0f})"
        )
        print(f"hybrid: {json.dumps(info['hybrid'])}")
        items = [{"text": t, "user_id": u, "metadata": {"key": k}} for u, k, t in MEMORIES]
        added = await peer.add_many(items)
        if added["errors"]:
            raise SystemExit(f"add_many errors: {added['errors']}")
        ids_by_key = dict(zip((k for _, k, _ in MEMORIES), added["ids"], strict=True))
        key_by_id = {v: k for k, v in ids_by_key.items()}
        out["add_ms"] = added["ms"]
        print(f"add x{len(items)}: {summary(added['ms'])}; batch total {added['total_ms']:.0f} ms")
        search_ms, hit1, hit3 = [], 0, 0
        for user, query, expect in QUERIES:
            r = await peer.search(query, user_id=user, limit=5)
            search_ms.append(r["ms"])
            hits = r["hits"]
            hit1 += hit_at(hits, expect, lambda h: key_by_id.get(h["id"]), 1)
            hit3 += hit_at(hits, expect, lambda h: key_by_id.get(h["id"]), 3)
            if verbose:
                show_hits(query, expect, hits, key_by_id)
            out.setdefault("hits", {})[query] = [
                (key_by_id.get(h["id"]), h["score"], h["semantic_score"], h["bm25_score"])
                for h in hits
            ]
        out["search_ms"] = search_ms
        out["hit@1"], out["hit@3"] = hit1 / len(QUERIES), hit3 / len(QUERIES)
        print(
            f"search x{len(QUERIES)}: {summary(search_ms)}; hit@1 {hit1}/{len(QUERIES)}, "
            f"hit@3 {hit3}/{len(QUERIES)}"
        )
        batch = await peer.search_many([{"query": q, "user_id": u} for u, q, _ in QUERIES], limit=5)
        print(f"search_many x{len(QUERIES)}: total {batch['total_ms']:.0f} ms")
        if hybrid:
            mid = ids_by_key["m07"]
            upd = await peer.update(mid, text="Alice sold her Civic and now drives a blue Mazda 3.")
            hist = (await peer.history(mid))["history"]
            after = await peer.search("What car does Alice drive?", user_id="alice", limit=1)
            dele = await peer.delete(ids_by_key["m08"])
            gone = await peer.get(ids_by_key["m08"])
            print(
                f"update {upd['ms']:.0f} ms -> history events {[h['event'] for h in hist]}; "
                f"top hit now {after['hits'][0]['text']!r}; delete {dele['ms']:.0f} ms, "
                f"get after delete -> {gone['memory']}"
            )
            if [h["event"] for h in hist] != ["ADD", "UPDATE"] or gone["memory"] is not None:
                raise SystemExit("mem0 update/history/delete round failed")
        stats = await peer.stats()
        out["stats"] = stats
        print(f"stats: {json.dumps(stats)}")
        if stats["llm_calls"] != 0:
            raise SystemExit("mem0 called an LLM")
        if hybrid:
            if not info["hybrid"]["active"]:
                raise SystemExit("mem0 hybrid BM25 is not active")
            if stats["keyword_search_returned_none"] or not stats["keyword_search_calls"]:
                raise SystemExit("mem0 BM25 keyword search did not run for every query")
            bm25_positive = sum(1 for q in out["hits"].values() for h in q if (h[3] or 0) > 0)
            print(f"hits with a BM25 contribution > 0: {bm25_positive}")
            if not bm25_positive:
                raise SystemExit("no hit got a BM25 score: hybrid is not doing anything")
    return out


async def run_qdrant_mcp(base: Path, *, verbose: bool) -> dict:
    print("\n=== mcp-server-qdrant ===")
    out: dict = {"label": "mcp-server-qdrant"}
    # The server has no user scoping: both users' memories share one collection.
    async with QdrantMCPPeer(base / "qdrant-mcp", search_limit=5) as peer:
        out["startup_ms"] = peer.startup_ms
        out["server"] = peer.server_info
        print(f"{peer.server_info}  spawn -> initialize {peer.startup_ms:.0f} ms")
        stored = await peer.store_many(
            [{"text": t, "metadata": {"key": k, "user": u}} for u, k, t in MEMORIES]
        )
        out["add_ms"] = stored["ms"]
        print(f"store x{len(MEMORIES)}: {summary(stored['ms'])}")
        search_ms, hit1, hit3 = [], 0, 0

        def key_of(h: dict) -> str | None:
            return (h.get("metadata") or {}).get("key")

        for _user, query, expect in QUERIES:
            r = await peer.find(query)
            search_ms.append(r["ms"])
            hit1 += hit_at(r["hits"], expect, key_of, 1)
            hit3 += hit_at(r["hits"], expect, key_of, 3)
            if verbose:
                show_hits(query, expect, r["hits"], {})
        out["search_ms"] = search_ms
        out["hit@1"], out["hit@3"] = hit1 / len(QUERIES), hit3 / len(QUERIES)
        print(
            f"find x{len(QUERIES)}: {summary(search_ms)}; hit@1 {hit1}/{len(QUERIES)}, "
            f"hit@3 {hit3}/{len(QUERIES)} (unscoped: both users in one collection)"
        )
    return out


async def main_async(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    report = peer_setup.ensure(check=args.check)
    print(f"setup: {time.perf_counter() - t0:.1f}s; versions {json.dumps(report['versions'])}")
    with tempfile.TemporaryDirectory(prefix="peers-smoke-") as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        results = [await run_mem0(base, hybrid=True, verbose=True)]
        if not args.no_ablation:
            results.append(await run_mem0(base, hybrid=False, verbose=False))
            dense, hyb = results[1]["hits"], results[0]["hits"]
            changed = [q for q in hyb if [h[0] for h in hyb[q]] != [h[0] for h in dense[q]]]
            print(f"BM25 changed the top-5 order for {len(changed)}/{len(hyb)} queries")
            for q in hyb:
                if hyb[q] and dense[q]:
                    print(
                        f"  top hit {q!r}: hybrid [{hyb[q][0][0]}] {hyb[q][0][1]:.3f} "
                        f"(sem {hyb[q][0][2]:.3f} + bm25 {hyb[q][0][3]:.3f}) / 2 vs dense "
                        f"[{dense[q][0][0]}] {dense[q][0][1]:.3f}"
                    )
        results.append(await run_qdrant_mcp(base, verbose=True))
    print("\n=== summary ===")
    for r in results:
        start = r.get("startup_ms") or r.get("start_ms")
        print(
            f"{r['label']:<28} start {start:6.0f} ms | add median "
            f"{statistics.median(r['add_ms']):6.1f} ms | search median "
            f"{statistics.median(r['search_ms']):6.1f} ms | hit@1 {r['hit@1']:.2f} "
            f"hit@3 {r['hit@3']:.2f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", help="put the peers' data here instead of a temp dir")
    ap.add_argument("--no-ablation", action="store_true", help="skip the dense-only mem0 run")
    ap.add_argument("--check", action="store_true", help="also run setup's offline model check")
    ap.add_argument("--json", help="write the raw results here")
    args = ap.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
