#!/usr/bin/env python
"""LoCoMo retrieval benchmark: our dense mode, our default mode and mem0, in one run.

    .venv/bin/python bench/locomo.py                      # everything (~45 min on 2 cores)
    .venv/bin/python bench/locomo.py --skip-mem0          # ours only (~6 min)
    .venv/bin/python bench/locomo.py --conversations 2    # the first two conversations
    .venv/bin/python bench/locomo.py --conversations conv-26,conv-30 --markdown
    .venv/bin/python bench/locomo.py --skip-mem0 --skip-changes   # two modes only

Protocol (docs/benchmarks.md, "LoCoMo retrieval"): every dialogue turn of a conversation is
stored verbatim as one memory, ``"[<session date_time>] <speaker>: <text>"`` plus
``" [shared a photo: <caption>]"`` when present, with one ``run_id`` per conversation; every
category 1–4 question is asked as a search scoped to its conversation (``limit`` 10). A hit
is a returned memory that is one of the question's evidence turns. Reported per category
and overall: hit@1/5/10 (an evidence turn among the first k), all@10 (every evidence turn in
the top 10), MRR (reciprocal rank of the first evidence turn, 0 beyond ``limit``), ingest
rate and search latency p50/p95.

* ours: ``AsyncMemory`` (Qdrant Edge, the bundled MiniLM model) on a temporary folder, infer
  off, near-duplicate detection off (no turn may be dropped), one ``add`` per session (one
  memory per message, ``name`` = speaker → ``actor_id``), sessions added concurrently. Both
  modes search the same store; the query-embedding cache is off so each mode pays for its
  own query embedding.
* ranking changes: the hybrid ranking as it was before each change and after it, one change
  added per row (``CHANGES``), each on the same store through ``retrieval.rank`` with its
  ``Ranking`` settings. Reported for all conversations, for the five the settings were
  tuned on (``TUNED_ON``) and for the five held out, with each row's search latency.
* mem0: PyPI ``mem0ai`` in its own venv (``bench/peers``, installed by ``peers/setup.py``),
  the same model through fastembed, local Qdrant, ``infer=False``, BM25 hybrid verified
  active; ``add_many`` (sequential: mem0's history store races under concurrency) and
  ``search_many``. Its latencies are timed inside its process around mem0's own call, ours
  around ``AsyncMemory.search``: neither includes any IPC.

Data: ``--data``, else ``$LOCOMO_PATH``, else ``../shared/data/locomo10.json``; when absent
the benchmark prints why and exits 0 without running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

import _locomo_data as data  # noqa: E402

from mem0_mcp import AsyncMemory, MemoryConfig  # noqa: E402
from mem0_mcp.filters import Condition  # noqa: E402
from mem0_mcp.retrieval import Ranking, rank  # noqa: E402

# Concurrent ``add`` calls (one session each) while ingesting into our engine.
INGEST_CONCURRENCY = 4

# The ranking's settings were chosen on these five conversations (the file's first five);
# the other five are held out, so their figures are honest ones.
TUNED_ON = ("conv-26", "conv-30", "conv-41", "conv-42", "conv-43")

# Each row adds one change to the row before; the last is the default ``Ranking()``.
BEFORE = Ranking(proper_nouns_embedded=True, saturation=25.0, actor_weight=0.0, date_weight=0.0)
CHANGES = (
    ("hybrid before (2026-11-30)", BEFORE),
    (
        "+ query embedded without proper nouns",
        Ranking(saturation=25.0, actor_weight=0.0, date_weight=0.0),
    ),
    ("+ actor named in the query", Ranking(saturation=25.0, date_weight=0.0)),
    ("+ date named in the query", Ranking(saturation=25.0)),
    ("+ saturation 40 (the default)", Ranking()),
)


@dataclass
class Run:
    """One system's results on the questions asked."""

    name: str
    total: data.Scores = field(default_factory=data.Scores)
    per_category: dict[int, data.Scores] = field(
        default_factory=lambda: {c: data.Scores() for c in data.CATEGORIES}
    )
    latencies_ms: list[float] = field(default_factory=list)
    ingest_s: float = 0.0
    ingested: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    # conversation → category → scores, to report any subset of the conversations
    per_conversation: dict[str, dict[int, data.Scores]] = field(default_factory=dict)

    def score(
        self, conversation: str, category: int, ranked: list[str], evidence: frozenset[str]
    ) -> None:
        self.total.add(ranked, evidence)
        self.per_category[category].add(ranked, evidence)
        by_cat = self.per_conversation.setdefault(conversation, {})
        by_cat.setdefault(category, data.Scores()).add(ranked, evidence)

    def subset(self, conversations: Sequence[str]) -> tuple[data.Scores, dict[int, data.Scores]]:
        """Overall and per-category scores over ``conversations`` only."""
        total = data.Scores()
        per = {c: data.Scores() for c in data.CATEGORIES}
        for conv in conversations:
            for cat, scores in self.per_conversation.get(conv, {}).items():
                total.merge(scores)
                per[cat].merge(scores)
        return total, per

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "name": self.name,
            "overall": self.total.as_dict(),
            "per_category": {data.CATEGORIES[c]: s.as_dict() for c, s in self.per_category.items()},
            "ingest_turns_per_s": self.ingested / self.ingest_s if self.ingest_s else None,
            "ingest_s": self.ingest_s,
            "search_ms_p50": _pct(lat, 50),
            "search_ms_p95": _pct(lat, 95),
            "notes": self.notes,
            "per_conversation": {
                conv: {data.CATEGORIES[c]: s.as_dict() for c, s in by_cat.items()}
                for conv, by_cat in self.per_conversation.items()
            },
        }


def _pct(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


# --- ours ----------------------------------------------------------------------------------


async def ingest_ours(
    memory: AsyncMemory, conversations: Sequence[data.Conversation]
) -> tuple[dict[str, str], float]:
    """Store every turn; returns memory id → dia_id and the wall time in seconds."""
    sem = asyncio.Semaphore(INGEST_CONCURRENCY)
    id_to_dia: dict[str, str] = {}

    async def add_session(conv: data.Conversation, turns: list[data.Turn]) -> None:
        messages = [{"role": "user", "content": t.text, "name": t.speaker} for t in turns]
        async with sem:
            result = await memory.add(messages, run_id=conv.sample_id, infer=False, dedup=False)
        for turn, event in zip(turns, result.results, strict=True):
            if event.event != "ADD":
                raise RuntimeError(f"{conv.sample_id} {turn.dia_id}: stored as {event.event}")
            id_to_dia[event.id] = turn.dia_id

    jobs = []
    for conv in conversations:
        sessions: dict[str, list[data.Turn]] = {}
        for turn in conv.turns:
            sessions.setdefault(turn.dia_id.split(":")[0], []).append(turn)
        jobs += [add_session(conv, turns) for turns in sessions.values()]
    t0 = time.perf_counter()
    await asyncio.gather(*jobs)
    return id_to_dia, time.perf_counter() - t0


async def search_ours(
    memory: AsyncMemory,
    conversations: Sequence[data.Conversation],
    id_to_dia: dict[str, str],
    run: Run,
    *,
    mode: str | None,
    limit: int,
) -> None:
    for conv in conversations:
        for q in conv.questions:
            t0 = time.perf_counter()
            result = await memory.search(
                q.question, run_id=conv.sample_id, limit=limit, search_mode=mode
            )
            run.latencies_ms.append((time.perf_counter() - t0) * 1000)
            ranked = [id_to_dia.get(h.id, "") for h in result.results]
            run.score(conv.sample_id, q.category, ranked, q.evidence)


async def search_changes(
    memory: AsyncMemory,
    conversations: Sequence[data.Conversation],
    id_to_dia: dict[str, str],
    runs: Sequence[tuple[Run, Ranking]],
    *,
    limit: int,
) -> None:
    """Every question asked with each ranking in turn (the first ranking rotates, so no
    setting always runs first), called as ``AsyncMemory.search`` calls it (the scope filter
    of a ``run_id`` search). Interleaved, the rankings share whatever else the machine is
    doing, so their latencies compare."""
    asked = 0
    for conv in conversations:
        scope = Condition("run_id", "eq", conv.sample_id)
        for q in conv.questions:
            asked += 1
            turn = asked % len(runs)
            for run, ranking in [*runs[turn:], *runs[:turn]]:
                t0 = time.perf_counter()
                hits = await rank(
                    memory.vector_store,
                    memory.keywords,
                    mode="hybrid",
                    query=q.question,
                    embed=memory.embedder.embed_query,
                    filter=scope,
                    limit=limit,
                    ranking=ranking,
                )
                run.latencies_ms.append((time.perf_counter() - t0) * 1000)
                ranked = [id_to_dia.get(h.id, "") for h in hits]
                run.score(conv.sample_id, q.category, ranked, q.evidence)


async def run_ours(
    conversations: Sequence[data.Conversation],
    workdir: Path,
    *,
    limit: int,
    changes: bool,
    log: Callable,
) -> tuple[list[Run], list[Run]]:
    """Our two modes, then (``changes``) one run per row of ``CHANGES``."""
    config = MemoryConfig(data_dir=workdir / "ours", embedding_cache_size=0)
    default_mode = config.search_mode
    async with AsyncMemory(config) as memory:
        log(f"ours: ingesting {sum(len(c.turns) for c in conversations)} turns")
        id_to_dia, ingest_s = await ingest_ours(memory, conversations)
        log(f"ours: ingested in {ingest_s:.1f} s")
        runs = []
        for name, mode in (("ours dense", "dense"), (f"ours {default_mode}", None)):
            run = Run(name, ingest_s=ingest_s, ingested=len(id_to_dia))
            run.notes["search_mode"] = mode or default_mode
            # One untimed search first: the first query of a mode pays one-off warm-ups.
            await memory.search("warm up", run_id=conversations[0].sample_id, search_mode=mode)
            await search_ours(memory, conversations, id_to_dia, run, mode=mode, limit=limit)
            log(f"ours: {name} searched ({run.total.as_dict()['hit@10']:.3f} hit@10)")
            runs.append(run)
        pairs = [(Run(name), ranking) for name, ranking in CHANGES] if changes else []
        if pairs:
            await search_changes(memory, conversations, id_to_dia, pairs, limit=limit)
            for run, _ in pairs:
                log(f"ours: {run.name} ({run.total.as_dict()['hit@10']:.3f} hit@10)")
    return runs, [run for run, _ in pairs]


# --- mem0 ----------------------------------------------------------------------------------


async def run_mem0(
    conversations: Sequence[data.Conversation], workdir: Path, *, limit: int, log: Callable
) -> Run:
    from peers import setup as peer_setup
    from peers.mem0_client import Mem0Peer

    log("mem0: checking its venv (bench/peers/setup.py; a few minutes the first time)")
    versions = await asyncio.to_thread(peer_setup.ensure, ("mem0",), check=False)
    async with Mem0Peer(workdir / "mem0", collection="locomo", timeout=3600) as peer:
        hybrid = peer.info.get("hybrid", {})
        run = Run(f"mem0 {peer.info.get('mem0_version')}")
        run.notes.update(
            versions=versions["versions"].get("mem0"),
            hybrid_active=hybrid.get("active"),
            lemmatizer=hybrid.get("lemmatizer"),
        )
        items = [
            {"text": t.text, "run_id": c.sample_id, "metadata": {"dia_id": t.dia_id}}
            for c in conversations
            for t in c.turns
        ]
        log(f"mem0: ingesting {len(items)} turns (sequential)")
        t0 = time.perf_counter()
        added = await peer.add_many(items, timeout=max(3600.0, 2.0 * len(items)))
        run.ingest_s = time.perf_counter() - t0
        if added["errors"]:
            raise RuntimeError(
                f"mem0 add_many failed for {len(added['errors'])} items: {added['errors'][:3]}"
            )
        run.ingested = len(items)
        log(f"mem0: ingested in {run.ingest_s:.1f} s")
        queries = [
            {"query": q.question, "run_id": c.sample_id} for c in conversations for q in c.questions
        ]
        await peer.search("warm up", run_id=conversations[0].sample_id, limit=limit)
        out = await peer.search_many(queries, limit=limit, timeout=max(3600.0, 2.0 * len(queries)))
        asked = [(c, q) for c in conversations for q in c.questions]
        for (c, q), res in zip(asked, out["results"], strict=True):
            if "error" in res:
                raise RuntimeError(f"mem0 search failed: {res['error']}")
            run.latencies_ms.append(res["ms"])
            ranked = [(h.get("metadata") or {}).get("dia_id", "") for h in res["hits"]]
            run.score(c.sample_id, q.category, ranked, q.evidence)
        stats = await peer.stats()
        run.notes.update(
            llm_calls=stats["llm_calls"], keyword_searches=stats["keyword_search_calls"]
        )
        if stats["llm_calls"]:
            raise RuntimeError("mem0 called an LLM; the comparison is void")
        log(f"mem0: searched ({run.total.as_dict()['hit@10']:.3f} hit@10)")
    return run


# --- report --------------------------------------------------------------------------------

METRICS = ("hit@1", "hit@5", "hit@10", "all@10", "mrr")


def render(
    runs: list[Run], conversations: Sequence[data.Conversation], *, limit: int, markdown: bool
) -> str:
    """The table: one row per system and category, then ratios of our default mode."""
    ours_default = next(
        (r for r in runs if r.name.startswith("ours") and "dense" not in r.name), None
    )
    others = [r for r in runs if r is not ours_default]
    cats = [("overall", None)] + [(f"{c} {n}", c) for c, n in data.CATEGORIES.items()]
    head = ["category", "system", "n", *METRICS]
    rows: list[list[str]] = []
    for label, cat in cats:
        for run in runs:
            s = (run.total if cat is None else run.per_category[cat]).as_dict()
            rows.append([label, run.name, str(s["n"]), *(f"{s[m]:.3f}" for m in METRICS)])
        if ours_default is not None:
            base = (ours_default.total if cat is None else ours_default.per_category[cat]).as_dict()
            for other in others:
                o = (other.total if cat is None else other.per_category[cat]).as_dict()
                rows.append(
                    [
                        label,
                        f"{ours_default.name} ÷ {other.name}",
                        "",
                        *(f"{base[m] / o[m]:.2f}×" if o[m] else "–" for m in METRICS),
                    ]
                )
    perf_head = ["system", "turns", "ingest s", "turns/s", "search p50 ms", "search p95 ms"]
    perf = []
    for run in runs:
        s = run.summary()
        perf.append(
            [
                run.name,
                str(run.ingested),
                f"{run.ingest_s:.1f}",
                f"{s['ingest_turns_per_s']:.1f}" if s["ingest_turns_per_s"] else "–",
                f"{s['search_ms_p50']:.1f}",
                f"{s['search_ms_p95']:.1f}",
            ]
        )
    n_turns = sum(len(c.turns) for c in conversations)
    n_q = sum(len(c.questions) for c in conversations)
    title = (
        f"LoCoMo retrieval: {len(conversations)} conversation(s), {n_turns} turns, "
        f"{n_q} questions (categories 1-4), limit {limit}"
    )
    return "\n".join(
        [title, "", _table(head, rows, markdown, group=True), "", _table(perf_head, perf, markdown)]
    )


def render_changes(
    runs: list[Run], conversations: Sequence[data.Conversation], *, markdown: bool
) -> str:
    """One row per ranking change and split: hit@10 and MRR overall and per category."""
    asked = [c.sample_id for c in conversations]
    splits = [
        ("all", asked),
        ("tuned on", [c for c in asked if c in TUNED_ON]),
        ("held out", [c for c in asked if c not in TUNED_ON]),
    ]
    head = ["questions", "ranking", "n", "hit@10", "MRR"]
    head += [f"{c} {n} hit@10 / MRR" for c, n in data.CATEGORIES.items()]
    head += ["p50 ms", "p95 ms"]
    rows = []
    for split, convs in splits:
        if not convs or (split != "all" and len(convs) == len(asked)):
            continue
        for run in runs:
            total, per = run.subset(convs)
            t = total.as_dict()
            row = [split, run.name, str(t["n"]), f"{t['hit@10']:.3f}", f"{t['mrr']:.3f}"]
            for cat in data.CATEGORIES:
                d = per[cat].as_dict()
                row.append(f"{d['hit@10']:.3f} / {d['mrr']:.3f}")
            timing = run.summary() if split == "all" else None
            row += [
                f"{timing[k]:.1f}" if timing else "" for k in ("search_ms_p50", "search_ms_p95")
            ]
            rows.append(row)
    tuned = ", ".join(TUNED_ON)
    title = f"Ranking changes, one added per row (settings tuned on {tuned}; the rest held out)"
    return "\n".join([title, "", _table(head, rows, markdown, group=True)])


def _table(head: list[str], rows: list[list[str]], markdown: bool, group: bool = False) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    prev = None
    for r in rows:
        if group and prev is not None and r[0] != prev:
            out.append("")
        out.append(fmt.format(*r))
        prev = r[0]
    return "\n".join(out)


# --- main ----------------------------------------------------------------------------------


def select(conversations: list[data.Conversation], spec: str | None) -> list[data.Conversation]:
    """``spec``: a count (the first N) or comma-separated sample ids; None = all."""
    if not spec:
        return conversations
    if spec.isdigit():
        return conversations[: int(spec)]
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    by_id = {c.sample_id: c for c in conversations}
    missing = [s for s in wanted if s not in by_id]
    if missing:
        raise SystemExit(f"unknown conversation(s) {missing}; known: {sorted(by_id)}")
    return [by_id[s] for s in wanted]


async def main_async(args: argparse.Namespace) -> int:
    def log(msg: str) -> None:
        print(f"[locomo {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    path = data.data_path(args.data)
    if not path.is_file():
        print(
            f"LoCoMo data not found at {path}: nothing to run. Put locomo10.json there, "
            f"pass --data PATH or set ${data.ENV_PATH}."
        )
        return 0
    conversations = select(data.load(path), args.conversations)
    unresolved = [e for c in conversations for e in c.unresolved_evidence]
    log(f"{len(conversations)} conversation(s); evidence ids that name no turn: {unresolved}")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="locomo-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        runs, change_runs = (
            ([], [])
            if args.skip_ours
            else await run_ours(
                conversations,
                workdir,
                limit=args.limit,
                changes=not args.skip_changes,
                log=log,
            )
        )
        if not args.skip_mem0:
            runs.append(await run_mem0(conversations, workdir, limit=args.limit, log=log))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(runs, conversations, limit=args.limit, markdown=args.markdown))
    if change_runs:
        print()
        print(render_changes(change_runs, conversations, markdown=args.markdown))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "data": str(path),
                    "limit": args.limit,
                    "conversations": [c.sample_id for c in conversations],
                    "unresolved_evidence": unresolved,
                    "runs": [r.summary() for r in runs],
                    "tuned_on": list(TUNED_ON),
                    "ranking_changes": [r.summary() for r in change_runs],
                },
                indent=2,
            )
            + "\n"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", help=f"locomo10.json (default ${data.ENV_PATH} or {data.DEFAULT_PATH})"
    )
    ap.add_argument("--conversations", help="how many (the first N) or which (conv-26,conv-30)")
    ap.add_argument("--limit", type=int, default=10, help="results per search (default 10)")
    ap.add_argument("--skip-mem0", action="store_true", help="only our two modes")
    ap.add_argument("--skip-ours", action="store_true", help="only mem0")
    ap.add_argument(
        "--skip-changes", action="store_true", help="not the ranking changes one by one"
    )
    ap.add_argument("--markdown", action="store_true", help="print markdown tables")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--workdir", help="where the stores go (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # SIGTERM unwinds like Ctrl-C, so the mem0 runner is closed and the stores removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
