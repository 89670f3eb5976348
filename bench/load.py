"""Load: N concurrent MCP clients × M mixed calls over streamable HTTP against one server.

    python bench/load.py [--clients 8] [--calls 200]

Each client works in its own user scope and mixes add (40%), search (35%), get (10%),
update (10%) and history (5%). Afterwards every acknowledged memory is checked to exist
with its latest text. Prints throughput, per-tool p50 / p95 and the error count; the test
suite runs a shorter version (tests/test_load.py).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from mcp_harness import ToolFailed, call, connect, http_server, server_env  # noqa: E402

from mem0_mcp.model_bundle import ensure_default_model  # noqa: E402


@dataclass
class LoadResult:
    calls: int
    errors: list[str]
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.calls / self.seconds

    def p(self, tool: str | None, q: float) -> float:
        values = sorted(v for t, vs in self.latencies.items() if tool in (None, t) for v in vs)
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def _client(url: str, env: dict, who: int, calls: int, result: LoadResult) -> dict[str, str]:
    rng = random.Random(who)
    latest: dict[str, str] = {}
    user = f"load-user-{who}"
    async with connect("streamable-http", env, url=url) as session:
        for i in range(calls):
            roll = rng.random()
            if roll < 0.4 or not latest:
                tool, args = (
                    "add_memory",
                    {
                        "text": f"user {who} fact {i}: code {rng.randrange(10**8)}",
                        "user_id": user,
                        "infer": False,
                    },
                )
            elif roll < 0.75:
                tool, args = (
                    "search_memories",
                    {"query": f"fact {rng.randrange(i + 1)}", "user_id": user, "limit": 5},
                )
            elif roll < 0.85:
                tool, args = "get_memory", {"memory_id": rng.choice(list(latest))}
            elif roll < 0.95:
                mid = rng.choice(list(latest))
                tool, args = (
                    "update_memory",
                    {"memory_id": mid, "text": f"user {who} revised {i}: {rng.random()}"},
                )
            else:
                tool, args = "memory_history", {"memory_id": rng.choice(list(latest))}
            started = time.perf_counter()
            try:
                out = await call(session, tool, **args)
            except ToolFailed as exc:
                result.errors.append(f"{tool}: {exc}")
                continue
            result.latencies.setdefault(tool, []).append((time.perf_counter() - started) * 1000)
            if tool == "add_memory":
                latest[out["results"][0]["id"]] = out["results"][0]["memory"]
            elif tool == "update_memory":
                latest[out["id"]] = out["memory"]
        for mid, text in latest.items():
            got = await call(session, "get_memory", memory_id=mid)
            if got["memory"] != text:
                result.lost.append(mid)
    return latest


async def run_load(url: str, env: dict, clients: int, calls: int) -> LoadResult:
    result = LoadResult(calls=clients * calls, errors=[], seconds=0.0)
    started = time.perf_counter()
    await asyncio.gather(*(_client(url, env, who, calls, result) for who in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = ensure_default_model(Path(tmp) / "models")
        env = server_env(Path(tmp) / "data", model_dir)
        with http_server(env, transport="streamable-http") as url:
            result = asyncio.run(run_load(url, env, args.clients, args.calls))
    print(
        f"{args.clients} clients x {args.calls} calls over streamable HTTP: "
        f"{result.calls} calls in {result.seconds:.1f} s = {result.throughput:.0f} calls/s; "
        f"errors {len(result.errors)}; lost {len(result.lost)}"
    )
    print(f"all calls p50 {result.p(None, 0.5):.1f} ms, p95 {result.p(None, 0.95):.1f} ms")
    for tool in sorted(result.latencies):
        n = len(result.latencies[tool])
        print(
            f"  {tool:16s} n={n:4d} p50 {statistics.median(result.latencies[tool]):6.1f} ms "
            f"p95 {result.p(tool, 0.95):6.1f} ms"
        )
    if result.errors or result.lost:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
