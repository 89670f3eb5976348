"""MCP measurements: ``mem0-mcp serve`` spawned on an existing store, driven by the ``mcp``
SDK client over stdio or streamable HTTP (127.0.0.1), timed as a client sees it.

``measure(transport, data_dir, model_dir)`` returns (times in ms):

* ``initialize_ms`` — process spawn until ``initialize`` is answered (HTTP: spawn, wait for
  the port, connect, initialize);
* ``first_search_ms`` — process spawn until the first ``search_memories`` is answered
  (the model loads in the background meanwhile, so this is when the server is useful);
* per tool (``search_memories``, ``add_memory``, ``update_memory``, ``memory_history``,
  ``delete_memory``): ``{"n", "p50", "p95", "mean"}`` of ``tools/call`` round trips;
* ``rss_mb`` — the server process' RSS after the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import perf_data
from perf_util import Timer, anon_mb, children, quiet_env, rss_mb, summary

MEM0_MCP = shutil.which("mem0-mcp", path=str(Path(sys.executable).parent)) or "mem0-mcp"


def _env(data_dir: Path, model_dir: Path) -> dict[str, str]:
    return quiet_env(
        MEM0_MCP_DATA_DIR=str(data_dir),
        MEM0_MCP_EMBEDDING_MODEL_PATH=str(model_dir),
        MEM0_MCP_LOG_LEVEL="WARNING",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def _session(
    transport: str, data_dir: Path, model_dir: Path, log: Any
) -> AsyncIterator[tuple[Any, float, float, int]]:
    """Yields ``(session, t0, initialize_ms, server_pid)``; ``t0`` is the spawn instant."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    env = _env(data_dir, model_dir)
    if transport == "stdio":
        before = set(children())
        t0 = time.perf_counter()
        params = StdioServerParameters(command=MEM0_MCP, args=["serve"], env=env)
        async with stdio_client(params, errlog=log) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=300) as session:
                await session.initialize()
                init_ms = (time.perf_counter() - t0) * 1000
                pid = next(iter(set(children()) - before), 0)
                yield session, t0, init_ms, pid
        return
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [MEM0_MCP, "serve", "--transport", "streamable-http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mem0-mcp serve exited with {proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                    break
            except OSError:
                await asyncio.sleep(0.005)
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=300) as session:
                await session.initialize()
                init_ms = (time.perf_counter() - t0) * 1000
                yield session, t0, init_ms, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _call(session: Any, tool: str, **arguments: Any) -> tuple[dict[str, Any], float]:
    with Timer() as t:
        result = await session.call_tool(tool, arguments)
    if result.is_error:
        text = "".join(getattr(b, "text", "") for b in result.content)
        raise RuntimeError(f"{tool} failed: {text}")
    return result.structured_content, t.ms


async def measure(
    transport: str,
    data_dir: Path,
    model_dir: Path,
    *,
    samples: int = 300,
    ops: int = 100,
    log_path: Path | None = None,
) -> dict[str, Any]:
    """Spawn a server on ``data_dir`` and time it (see the module docstring)."""
    qs = perf_data.queries(1 + 20 + samples, seed=23 if transport == "stdio" else 29)
    fresh = perf_data.memories(ops, salt=f"mcp-{transport}")
    log = open(log_path or data_dir.parent / f"mcp-{transport}.log", "a")  # noqa: SIM115
    try:
        async with _session(transport, data_dir, model_dir, log) as (session, t0, init_ms, pid):
            await _call(session, "search_memories", query=qs[0][0], user_id=qs[0][1])
            first_ms = (time.perf_counter() - t0) * 1000
            for q, u in qs[1:21]:
                await _call(session, "search_memories", query=q, user_id=u)
            times: dict[str, list[float]] = {
                k: []
                for k in (
                    "search_memories",
                    "add_memory",
                    "update_memory",
                    "memory_history",
                    "delete_memory",
                )
            }
            for q, u in qs[21:]:
                times["search_memories"].append(
                    (await _call(session, "search_memories", query=q, user_id=u, limit=10))[1]
                )
            ids = []
            for m in fresh:
                out, ms = await _call(session, "add_memory", text=m.text, user_id=m.user_id)
                times["add_memory"].append(ms)
                ids.append(out["results"][0]["id"])
            for mid, m in zip(ids, fresh, strict=True):
                times["update_memory"].append(
                    (await _call(session, "update_memory", memory_id=mid, text=m.text + " (v2)"))[1]
                )
            for mid in ids:
                times["memory_history"].append(
                    (await _call(session, "memory_history", memory_id=mid))[1]
                )
            for mid in ids:
                times["delete_memory"].append(
                    (await _call(session, "delete_memory", memory_id=mid))[1]
                )
            rss = _server_rss(pid)
            anon = anon_mb(pid) if pid else float("nan")
    finally:
        with contextlib.suppress(Exception):
            log.close()
    return {
        "transport": transport,
        "initialize_ms": init_ms,
        "first_search_ms": first_ms,
        "rss_mb": rss,
        "anon_mb": anon,
        **{k: summary(v) for k, v in times.items()},
    }


def _server_rss(pid: int) -> float:
    """RSS of the server: ``pid`` is the ``mem0-mcp`` console script's process."""
    return rss_mb(pid) if pid else float("nan")
