"""The owner channel's cost: one forwarded engine call, per channel kind.

For each channel (``unix``, ``tcp``) a real owner (``mem0-mcp serve --transport http``) runs
on its own temporary data dir; this process becomes a forwarder on each (``SharedMemory``
without the lock), stores one memory, then times forwarded ``get`` calls — the cheapest
engine call, so what is measured is mostly the channel: connect, greeting (and secret),
request, reply. Blocks of calls alternate between the channels so both see the same noise.

    .venv/bin/python bench/owner_channel.py [--calls 2000] [--channels unix tcp]

Prints one JSON line: per channel, ``{"n", "p50", "p95", "mean"}`` in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from perf_util import Timer, quiet_env, summary

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from mcp_harness import free_port  # noqa: E402

from mem0_mcp.config import MemoryConfig  # noqa: E402
from mem0_mcp.model_bundle import ensure_default_model  # noqa: E402
from mem0_mcp.owner import SharedMemory  # noqa: E402

BLOCK = 100


def _start_owner(data_dir: Path, model_dir: Path, channel: str) -> subprocess.Popen[bytes]:
    env = quiet_env(
        MEM0_MCP_DATA_DIR=str(data_dir),
        MEM0_MCP_EMBEDDING_MODEL_PATH=str(model_dir),
        MEM0_MCP_LOG_LEVEL="WARNING",
        MEM0_MCP_OWNER_CHANNEL=channel,
    )
    port = free_port()
    cmd = [sys.executable, "-m", "mem0_mcp", "serve", "--transport", "http", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()["ready"]:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the {channel} owner did not get ready")


async def _measure(channels: list[str], calls: int, root: Path) -> dict[str, dict[str, float]]:
    model_dir = ensure_default_model(root / "models")
    owners, forwarders, ids = [], {}, {}
    try:
        for channel in channels:
            data_dir = root / channel
            owners.append(_start_owner(data_dir, model_dir, channel))
            memory = SharedMemory(MemoryConfig(data_dir=data_dir, embedding_model_path=model_dir))
            memory.start()
            added = await memory.add("a memory to read back", user_id="bench", infer=False)
            assert not memory.is_owner, "this process must forward, not own"
            forwarders[channel], ids[channel] = memory, added.results[0].id
        times: dict[str, list[float]] = {c: [] for c in channels}
        for _ in range(calls // BLOCK):
            for channel in channels:
                for _ in range(BLOCK):
                    with Timer() as t:
                        await forwarders[channel].get(ids[channel])
                    times[channel].append(t.ms)
        return {c: summary(v) for c, v in times.items()}
    finally:
        for memory in forwarders.values():
            await memory.close()
        for proc in owners:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per channel")
    parser.add_argument("--channels", nargs="+", default=["unix", "tcp"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(_measure(args.channels, args.calls, Path(tmp)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
