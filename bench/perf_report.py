"""Markdown tables and target checks for ``bench/perf.py`` results (stdlib only).

``render(results)`` accepts the dict ``perf.py`` builds, or the same loaded back from its
``--json`` file (size keys as strings).
"""

from __future__ import annotations

import math
import os
import platform
from typing import Any


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_1min_at_start": load,
    }


def _ints(d: dict | None) -> dict[int, Any]:
    return {int(k): v for k, v in (d or {}).items()}


def _f(x: Any, digits: int | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if digits is None:
        digits = 1 if abs(x) < 100 else 0
    return f"{x:,.{digits}f}"


def _pp(s: dict | None) -> str:
    """``p50 / p95`` of a summary dict."""
    if not s or not s.get("n"):
        return "–"
    return f"{_f(s['p50'])} / {_f(s['p95'])}"


def _get(d: dict | None, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def engine_table(results: dict[str, Any]) -> str:
    ours = _ints(results.get("engine"))
    mem0 = {n: v for n, v in _ints(_get(results, "peers", "mem0")).items() if "error" not in v}
    cols = [f"ours {n:,}" for n in ours] + [f"mem0 {n:,}" for n in mem0]

    def row(label: str, f_ours: Any, f_mem0: Any) -> list[str]:
        return [label] + [f_ours(v) for v in ours.values()] + [f_mem0(v) for v in mem0.values()]

    def b(v: dict, *p: str) -> Any:
        return _get(v, "build", *p)

    rows = [
        row("memories stored", lambda v: _f(v.get("count"), 0), lambda v: _f(v["n"], 0)),
        row(
            "bulk ingest, memories/s",
            lambda v: _f(b(v, "per_s"), 0) + (" (prebuilt)" if b(v, "prebuilt") else ""),
            lambda v: _f(_get(v, "ingest", "per_s"), 0),
        ),
        row(
            "raw fastembed on the same texts, texts/s",
            lambda v: _f(b(v, "raw_fastembed", "per_s"), 0),
            lambda v: "–",
        ),
        row(
            "bulk ingest ÷ raw fastembed",
            lambda v: _f(100 * (b(v, "fraction_of_raw") or math.nan), 0) + " %",
            lambda v: "–",
        ),
        row("add (single), ms p50 / p95", lambda v: _pp(v.get("add")), lambda v: _pp(v.get("add"))),
        row(
            "search, user filter, hybrid (default), ms p50 / p95",
            lambda v: _pp(v.get("search_hybrid")),
            lambda v: _pp(v.get("search_hybrid")),
        ),
        row(
            "search, user filter, dense, ms p50 / p95",
            lambda v: _pp(v.get("search_dense")),
            lambda v: "–",
        ),
        row("· query embedding, ms p50 / p95", lambda v: _pp(v.get("embed_query")), lambda v: "–"),
        row(
            "· store: one dense / one keyword query (the ranker's depth), ms p50",
            lambda v: (
                f"{_f(_get(v, 'store_dense_top', 'p50'), 2)} / "
                f"{_f(_get(v, 'store_sparse_top', 'p50'), 2)} (top-{v.get('store_depth', '?')})"
            ),
            lambda v: "–",
        ),
        row("update, ms p50 / p95", lambda v: _pp(v.get("update")), lambda v: _pp(v.get("update"))),
        row("delete, ms p50 / p95", lambda v: _pp(v.get("delete")), lambda v: _pp(v.get("delete"))),
        row(
            "history, ms p50 / p95",
            lambda v: _pp(v.get("history")),
            lambda v: _pp(v.get("history")),
        ),
        row(
            "open store + first search, ms",
            lambda v: _f(v.get("open_first_search_ms"), 0),
            lambda v: _f(v.get("open_first_search_ms"), 0),
        ),
        row(
            "process start → first search answered, ms",
            lambda v: _f(v.get("process_start_to_first_search_ms"), 0),
            lambda v: _f(v.get("spawn_to_first_search_ms"), 0),
        ),
        row(
            "RSS after open / after the run, MB",
            lambda v: f"{_f(v.get('rss_open_mb'), 0)} / {_f(v.get('rss_end_mb'), 0)}",
            lambda v: f"– / {_f(v.get('rss_mb'), 0)}",
        ),
        row(
            "· of which anonymous (not file-backed mmap), MB",
            lambda v: f"{_f(v.get('anon_open_mb'), 0)} / {_f(v.get('anon_end_mb'), 0)}",
            lambda v: "–",
        ),
    ]
    return _table(["engine (in-process)", *cols], rows)


def open_table(results: dict[str, Any]) -> str:
    parts = _ints(results.get("openparts"))
    keys = [
        ("import the engine", "import_engine_ms"),
        ("import fastembed", "import_fastembed_ms"),
        ("open history.db", "history_open_ms"),
        ("load the embedding model", "model_load_ms"),
        ("open the vector store", "vector_store_open_ms"),
        ("first query embedding", "first_embed_ms"),
    ]
    rows = [[label] + [_f(parts[n].get(k), 0) for n in parts] for label, k in keys]
    return _table(["opening, part by part (ms)", *[f"{n:,}" for n in parts]], rows)


def mcp_table(results: dict[str, Any]) -> str:
    mcp = _ints(results.get("mcp"))
    peer = {
        n: v for n, v in _ints(_get(results, "peers", "qdrant_mcp")).items() if "error" not in v
    }
    cols: list[tuple[str, dict]] = []
    for transport in ("stdio", "streamable-http"):
        for n, v in mcp.items():
            if transport in v:
                cols.append((f"ours {transport} {n:,}", v[transport]))
    rows = [
        ["spawn → initialize answered, ms"]
        + [_f(v.get("initialize_ms"), 0) for _, v in cols]
        + [_f(v.get("initialize_ms"), 0) for v in peer.values()],
        ["spawn → first search answered, ms"]
        + [_f(v.get("first_search_ms"), 0) for _, v in cols]
        + [_f(v.get("first_search_ms"), 0) for v in peer.values()],
        ["search (search_memories / qdrant-find), ms p50 / p95"]
        + [_pp(v.get("search_memories")) for _, v in cols]
        + [_pp(v.get("find")) for v in peer.values()],
        ["add (add_memory / qdrant-store), ms p50 / p95"]
        + [_pp(v.get("add_memory")) for _, v in cols]
        + [_pp(v.get("store_last100")) for v in peer.values()],
        ["update_memory, ms p50 / p95"]
        + [_pp(v.get("update_memory")) for _, v in cols]
        + ["n/a" for _ in peer],
        ["memory_history, ms p50 / p95"]
        + [_pp(v.get("memory_history")) for _, v in cols]
        + ["n/a" for _ in peer],
        ["delete_memory, ms p50 / p95"]
        + [_pp(v.get("delete_memory")) for _, v in cols]
        + ["n/a" for _ in peer],
        ["server RSS after the run (anonymous), MB"]
        + [f"{_f(v.get('rss_mb'), 0)} ({_f(v.get('anon_mb'), 0)})" for _, v in cols]
        + [_f(v.get("rss_mb"), 0) for v in peer.values()],
    ]
    theirs = [f"mcp-server-qdrant stdio {n:,}" for n in peer]
    header = ["MCP round trips", *[c for c, _ in cols], *theirs]
    return _table(header, rows)


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """``(target, measured, met)``; ``met`` is ``None`` when this run cannot tell."""
    ours = _ints(results.get("engine"))
    mcp = _ints(results.get("mcp"))
    mem0 = {n: v for n, v in _ints(_get(results, "peers", "mem0")).items() if "error" not in v}
    qm = {n: v for n, v in _ints(_get(results, "peers", "qdrant_mcp")).items() if "error" not in v}
    out: list[tuple[str, str, bool | None]] = []
    big = max(ours) if ours else None

    def p50(d: Any, *p: str) -> float:
        v = _get(d, *p, "p50")
        return float(v) if v is not None else math.nan

    if big:
        s = p50(ours[big], "search_hybrid")
        out.append((f"search, user filter, at {big:,}: p50 ≤ 10 ms", f"{_f(s)} ms", s <= 10))
    if mem0:
        m = max(mem0)
        theirs = p50(mem0[m], "search_hybrid")
        same = p50(ours.get(m), "search_hybrid")
        top = p50(ours.get(big), "search_hybrid") if big else math.nan
        ratio_same = theirs / same if same else math.nan
        out.append(
            (
                f"search ≥ 20× faster than mem0 at {m:,} (mem0's largest N)",
                f"mem0 {_f(theirs)} ms vs ours {_f(same)} ms at {m:,}: {_f(ratio_same)}×; "
                f"vs ours at {big:,}: {_f(theirs / top if top else math.nan)}×",
                ratio_same >= 20 if not math.isnan(ratio_same) else None,
            )
        )
    if ours:
        adds = {n: p50(v, "add") for n, v in ours.items()}
        worst = max(adds.values())
        out.append(
            (
                "single add p50 ≤ 15 ms",
                ", ".join(f"{_f(a)} ms at {n:,}" for n, a in adds.items()),
                worst <= 15,
            )
        )
        fr = {n: _get(v, "build", "fraction_of_raw") for n, v in ours.items()}
        fr = {n: f for n, f in fr.items() if f is not None}
        if fr:
            out.append(
                (
                    "bulk ingest ≥ 70 % of raw embedding throughput",
                    ", ".join(f"{_f(100 * f, 0)} % at {n:,}" for n, f in fr.items()),
                    min(fr.values()) >= 0.70,
                )
            )
    if 10_000 in mcp and "stdio" in mcp[10_000]:
        s = p50(mcp[10_000]["stdio"], "search_memories")
        out.append(("MCP stdio search p50 ≤ 20 ms at 10k", f"{_f(s)} ms", s <= 20))
    common = sorted(set(qm) & {n for n, v in mcp.items() if "stdio" in v})
    if common:
        n = common[-1]
        ours_s, ours_a = p50(mcp[n]["stdio"], "search_memories"), p50(mcp[n]["stdio"], "add_memory")
        th_s, th_a = p50(qm[n], "find"), p50(qm[n], "store_last100")
        out.append(
            (
                f"MCP stdio ahead of mcp-server-qdrant on both tools (at {n:,})",
                f"search {_f(ours_s)} vs {_f(th_s)} ms; add {_f(ours_a)} vs {_f(th_a)} ms",
                ours_s < th_s and ours_a < th_a,
            )
        )
    if big:
        o = ours[big].get("open_first_search_ms") or math.nan
        out.append((f"open the {big:,} store + first search ≤ 1 s", f"{_f(o, 0)} ms", o <= 1000))
        rss = max(ours[big].get("rss_end_mb") or math.nan, ours[big].get("rss_open_mb") or 0)
        anon = ours[big].get("anon_end_mb")
        srv = _get(mcp.get(big), "stdio", "rss_mb")
        measured = f"engine {_f(rss, 0)} MB (anonymous {_f(anon, 0)} MB)" + (
            f", MCP server {_f(srv, 0)} MB" if srv else ""
        )
        out.append((f"RSS ≤ 600 MB at {big:,}", measured, max(rss, srv or 0) <= 600))
    inits = [
        (n, t, v[t]["initialize_ms"]) for n, v in mcp.items() for t in v if "initialize_ms" in v[t]
    ]
    if inits:
        worst = max(i for _, _, i in inits)
        out.append(
            (
                "initialize ≤ 1 s whatever the store size",
                ", ".join(f"{_f(i, 0)} ms ({t}, {n:,})" for n, t, i in inits),
                worst <= 1000,
            )
        )
    return out


def targets_table(results: dict[str, Any]) -> str:
    rows = [
        [t, m, "met" if ok else ("not met" if ok is False else "?")]
        for t, m, ok in targets(results)
    ]
    return _table(["target", "measured", ""], rows)


def hnsw_table(results: dict[str, Any]) -> str:
    h = results.get("hnsw")
    if not h:
        return ""
    rows = [
        [
            f"{r['scope']:,}" + ("" if r.get("filtered", True) else " (no filter)"),
            _pp(r.get("exact")),
            _pp(r.get("hnsw")) if r.get("hnsw") else "–",
            _f(r.get("recall_at_10"), 3) if r.get("recall_at_10") is not None else "–",
        ]
        for r in h.get("scopes", [])
    ]
    header = ["points in scope", "exact, ms p50 / p95", "HNSW, ms p50 / p95", "HNSW recall@10"]
    table = _table(header, rows)
    if h.get("build_s") is not None:
        table += f"\n\nHNSW build (`optimize()`, holds the GIL): {_f(h['build_s'])} s."
    return table


def render(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    head = (
        f"Run {results.get('started')} · {m.get('cpus')} CPUs ({m.get('cpu')}) · Python "
        f"{m.get('python')} · load average at start {_f(m.get('load_1min_at_start'))} · "
        f"{_f((results.get('seconds') or 0) / 60)} min · "
        f"`bench/perf.py {' '.join(results.get('argv', []))}`"
    )
    parts = [head, engine_table(results), open_table(results)]
    if results.get("mcp"):
        parts.append(mcp_table(results))
    if results.get("hnsw"):
        parts.append(hnsw_table(results))
    parts.append(targets_table(results))
    return "\n\n".join(parts) + "\n"
