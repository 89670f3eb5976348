"""Small helpers shared by the ``bench/perf_*.py`` modules (stdlib only).

Times are milliseconds unless a name says otherwise; percentiles are nearest-rank.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache" / "perf"
PY = sys.executable


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0..100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary(values: Sequence[float]) -> dict[str, float]:
    """``{"n", "p50", "p95", "mean"}`` of a list of milliseconds."""
    if not values:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "mean": float("nan")}
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": pct(values, 95),
        "mean": statistics.fmean(values),
    }


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of ``pid`` (default: this process) in MiB, from /proc; NaN if gone."""
    try:
        text = Path(f"/proc/{pid or 'self'}/status").read_text()
    except OSError:
        return float("nan")
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def anon_mb(pid: int | None = None) -> float:
    """Anonymous resident memory (``RssAnon``: heap, not file-backed mmap) in MiB; NaN if gone.

    Qdrant Edge maps its vectors, payloads and WAL from files: those pages count in RSS but
    are page cache the kernel can reclaim, so both numbers are reported."""
    try:
        text = Path(f"/proc/{pid or 'self'}/status").read_text()
    except OSError:
        return float("nan")
    for line in text.splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int | None = None) -> list[int]:
    """Direct child process ids of ``pid`` (default: this process)."""
    parent = pid or os.getpid()
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == parent:
            out.append(int(entry.name))
    return out


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` plus its descendants (a launcher and the server it runs), MiB."""
    total = rss_mb(pid)
    for child in children(pid):
        total += tree_rss_mb(child)
    return total


class Timer:
    """``with Timer() as t: ...`` then ``t.ms``."""

    def __enter__(self) -> Timer:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ms = (time.perf_counter() - self._t0) * 1000


def run_json(args: list[str], *, timeout: float, env: dict[str, str] | None = None) -> Any:
    """Run ``python <args>`` and return the JSON object printed on its last stdout line.

    Raises ``RuntimeError`` with the stderr tail when it fails."""
    proc = subprocess.run(
        [PY, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def log(message: str) -> None:
    """Progress to stderr, timestamped."""
    sys.stderr.write(f"[perf {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def quiet_env(**extra: str) -> dict[str, str]:
    """Our environment without MEM0_MCP_* settings leaking in, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM0_MCP_")}
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra)
    return env
