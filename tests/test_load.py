"""Several concurrent clients over streamable HTTP: zero errors, nothing lost.
(The full 8 × 200 run with throughput and p95 is `python bench/load.py`.)"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from load import run_load  # noqa: E402
from mcp_harness import http_server, server_env  # noqa: E402


async def test_eight_concurrent_clients_mixed_calls_no_errors_nothing_lost(
    tmp_path: Path, model_dir: Path
) -> None:
    env = server_env(tmp_path / "data", model_dir)
    with http_server(env, transport="streamable-http") as url:
        result = await run_load(url, env, clients=8, calls=40)
    assert result.errors == [] and result.lost == []
    assert sum(len(v) for v in result.latencies.values()) == 8 * 40
