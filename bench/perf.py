"""Speed at scale, side by side in one run: our engine and MCP server against mem0 and
mcp-server-qdrant, on the same machine, texts, queries and embedding model.

    .venv/bin/python bench/perf.py                     # 1k, 10k, 100k; peers at 1k and 10k
    .venv/bin/python bench/perf.py --quick             # 1k only, fewer samples (~3 min)
    .venv/bin/python bench/perf.py --sizes 1000,10000 --skip-peers
    .venv/bin/python bench/perf.py --markdown docs/perf-run.md --json run.json

What is measured (medians and p95 in ms; ratios computed from this run only):

* engine (``AsyncMemory`` in a fresh process per store size, ``bench/perf_engine.py``):
  bulk ingest (memories/s, and as a fraction of raw fastembed throughput on a sample of
  the same texts), open + first search, user-filtered search (hybrid, the default, and
  dense; distinct questions so the query cache never answers), its parts (query embedding,
  dense and keyword store queries), single add, update, delete, history, RSS;
* MCP (``bench/perf_mcp.py``): ``mem0-mcp serve`` over stdio and streamable HTTP on the
  same store: spawn → ``initialize``, spawn → first search, tool round trips, RSS;
* peers (``bench/perf_peers.py``): mem0 ``AsyncMemory`` (infer off) and mcp-server-qdrant
  over stdio, at the sizes given by ``--peer-sizes``;
* optionally (``--hnsw``) ``bench/perf_hnsw.py``: exact scoped search by scope size, and
  whether an HNSW index would pay off.

Stores of ``--prebuilt-from`` memories or more (default 100,000) are built once through
the engine's own bulk path (``perf_engine.py build``, the same path as smaller sizes) and
cached under ``bench/.cache/perf/store-<N>``; each run copies the cached store and measures
the copy. ``--rebuild`` builds it again. The peers' virtual environments are installed by
``bench/peers/setup.py`` on first use (from PyPI; idempotent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import perf_report  # noqa: E402
from perf_util import CACHE, PY, ROOT, log, quiet_env, run_json  # noqa: E402

ENGINE = str(ROOT / "bench" / "perf_engine.py")


def _model_dir() -> Path:
    from mem0_mcp.model_bundle import ensure_default_model

    return ensure_default_model(CACHE / "models")


def _engine_args(cmd: str, data_dir: Path, model_dir: Path, *extra: str) -> list[str]:
    return [ENGINE, cmd, "--data-dir", str(data_dir), "--model-dir", str(model_dir), *extra]


def _build(n: int, data_dir: Path, model_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    log(f"engine: building a store of {n} memories (bulk adds of {args.chunk})")
    return run_json(
        _engine_args(
            "build",
            data_dir,
            model_dir,
            "--n",
            str(n),
            "--chunk",
            str(args.chunk),
            "--sample",
            str(min(n, args.ceiling_sample)),
        ),
        timeout=6 * 3600,
        env=quiet_env(),
    )


def _store_for(n: int, work: Path, model_dir: Path, args: argparse.Namespace) -> tuple[Path, dict]:
    """A store of ``n`` memories in ``work`` and its build record."""
    data_dir = work / f"engine-{n}" / "data"
    if n < args.prebuilt_from:
        return data_dir, {**_build(n, data_dir, model_dir, args), "prebuilt": False}
    cached = CACHE / f"store-{n}"
    record_path = CACHE / f"store-{n}.build.json"
    if args.rebuild or not record_path.is_file():
        shutil.rmtree(cached, ignore_errors=True)
        record = _build(n, cached, model_dir, args)
        record_path.write_text(json.dumps(record, indent=2))
    record = json.loads(record_path.read_text())
    log(f"engine: copying the prebuilt {n} store ({record['built_at']})")
    shutil.copytree(cached, data_dir)
    return data_dir, {**record, "prebuilt": True}


def _measure(data_dir: Path, model_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``perf_engine.py measure`` in a fresh process; adds the process start → first
    search time seen from outside."""
    cmd = [
        PY,
        *_engine_args(
            "measure", data_dir, model_dir, "--samples", str(args.samples), "--ops", str(args.ops)
        ),
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=quiet_env(), cwd=ROOT
    )
    assert proc.stdout is not None
    first_ms = None
    lines = []
    for line in proc.stdout:
        if line.strip() == "FIRST" and first_ms is None:
            first_ms = (time.perf_counter() - t0) * 1000
        lines.append(line)
    proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"perf_engine measure failed:\n{err[-3000:]}")
    result = json.loads([ln for ln in lines if ln.startswith("{")][-1])
    result["process_start_to_first_search_ms"] = first_ms
    return result


async def _mcp(data_dir: Path, model_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    import perf_mcp

    out = {}
    for transport in ("stdio", "streamable-http"):
        log(f"mcp: {transport}")
        out[transport] = await perf_mcp.measure(
            transport, data_dir, model_dir, samples=args.samples, ops=args.ops
        )
    return out


async def _peers(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    import perf_peers
    from peers import _common as C

    out: dict[str, Any] = {"mem0": {}, "qdrant_mcp": {}}
    if C.missing_setup("mem0") or C.missing_setup("qdrant-mcp"):
        log("peers: installing mem0 and mcp-server-qdrant (bench/peers/setup.py)")
        subprocess.run([PY, str(ROOT / "bench" / "peers" / "setup.py")], check=False)
    for n in args.peer_sizes:
        if (problem := C.missing_setup("mem0")) is None:
            try:
                out["mem0"][n] = await perf_peers.mem0(
                    work / f"mem0-{n}", n, samples=args.peer_samples, ops=args.ops
                )
            except Exception as exc:  # a peer failing must not lose our numbers
                log(f"mem0 at {n} failed: {exc}")
                out["mem0"][n] = {"n": n, "error": str(exc)[:500]}
        else:
            out["mem0"][n] = {"n": n, "error": problem}
        if (problem := C.missing_setup("qdrant-mcp")) is None:
            try:
                out["qdrant_mcp"][n] = await perf_peers.qdrant_mcp(
                    work / f"qdrant-mcp-{n}", n, samples=args.peer_samples
                )
            except Exception as exc:
                log(f"mcp-server-qdrant at {n} failed: {exc}")
                out["qdrant_mcp"][n] = {"n": n, "error": str(exc)[:500]}
        else:
            out["qdrant_mcp"][n] = {"n": n, "error": problem}
    return out


def _sizes(text: str) -> list[int]:
    return [int(s.replace("_", "").replace("k", "000")) for s in text.split(",") if s]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10_000, 100_000])
    parser.add_argument("--peer-sizes", type=_sizes, default=[1000, 10_000])
    parser.add_argument("--mcp-sizes", type=_sizes, default=None, help="default: --sizes")
    parser.add_argument("--samples", type=int, default=300, help="searches per kind")
    parser.add_argument("--peer-samples", type=int, default=200, help="peer searches")
    parser.add_argument("--ops", type=int, default=100, help="adds/updates/deletes/histories")
    parser.add_argument("--chunk", type=int, default=100, help="memories per bulk add() call")
    parser.add_argument("--ceiling-sample", type=int, default=2000, help="texts for raw fastembed")
    parser.add_argument("--prebuilt-from", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached stores")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-mcp", action="store_true")
    parser.add_argument("--hnsw", action="store_true", help="also run bench/perf_hnsw.py")
    parser.add_argument("--hnsw-build", action="store_true", help="... and build an index (slow)")
    parser.add_argument("--quick", action="store_true", help="1k only, fewer samples")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--json", type=Path, help="write all results here")
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.peer_sizes = [1000], [1000]
        args.samples, args.peer_samples, args.ops = 100, 60, 30
    mcp_sizes = set(args.mcp_sizes if args.mcp_sizes is not None else args.sizes)

    CACHE.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="mem0-perf-", dir=CACHE))
    work.mkdir(parents=True, exist_ok=True)
    model_dir = _model_dir()
    started = time.time()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "argv": sys.argv[1:],
        "machine": perf_report.machine(),
        "engine": {},
        "openparts": {},
        "mcp": {},
    }
    try:
        for n in args.sizes:
            data_dir, build = _store_for(n, work, model_dir, args)
            log(f"engine: measuring the {n} store")
            results["openparts"][n] = run_json(
                _engine_args("openparts", data_dir, model_dir), timeout=600, env=quiet_env()
            )
            results["engine"][n] = {"build": build, **_measure(data_dir, model_dir, args)}
            if not args.skip_mcp and n in mcp_sizes:
                results["mcp"][n] = asyncio.run(_mcp(data_dir, model_dir, args))
            if args.hnsw and n == max(args.sizes):
                log("hnsw: scoped exact search by scope size")
                extra = ["--build"] if args.hnsw_build else []
                results["hnsw"] = run_json(
                    [str(ROOT / "bench" / "perf_hnsw.py"), "--data-dir", str(data_dir), *extra],
                    timeout=3 * 3600,
                    env=quiet_env(),
                )
        if not args.skip_peers:
            results["peers"] = asyncio.run(_peers(work, args))
    finally:
        results["seconds"] = time.time() - started
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    text = perf_report.render(results)
    if args.markdown:
        args.markdown.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
