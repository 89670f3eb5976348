"""Start ``mem0-mcp serve`` as a real subprocess and talk to it with the ``mcp`` SDK client
over a real transport (stdio, SSE or streamable HTTP) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from mem0_mcp.output import compact

MEM0_MCP = shutil.which("mem0-mcp", path=str(Path(sys.executable).parent)) or "mem0-mcp"
SERVE = (MEM0_MCP, "serve")
TRANSPORTS = ("stdio", "sse", "streamable-http")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, model_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEM0_MCP_")}
    env.update(
        MEM0_MCP_DATA_DIR=str(data_dir),
        MEM0_MCP_EMBEDDING_MODEL_PATH=str(model_dir),
        MEM0_MCP_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@contextmanager
def http_server(
    env: dict[str, str],
    transport: str = "http",
    port: int | None = None,
    server: Sequence[str] = SERVE,
):
    """Run ``mem0-mcp serve`` (or the command line ``server``) on an HTTP transport; yields
    its base URL once it listens. ``transport=""`` passes no ``--transport`` (``mem0-mcp
    ui``).

    The server's stderr goes to a temporary file (a pipe nobody reads would fill and stall
    the server) and is echoed to this process's stderr afterwards, where pytest shows it
    for a failing test."""
    port = port or free_port()
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        [*server, *(["--transport", transport] if transport else []), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("server did not start listening") from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        sys.stderr.write(log.read())
        log.close()


@asynccontextmanager
async def connect(
    transport: str,
    env: dict[str, str],
    *,
    url: str | None = None,
    terminate_on_close: bool = True,
    server: Sequence[str] = SERVE,
    **session_kwargs: Any,
) -> AsyncIterator[ClientSession]:
    """An initialised client session to a server on ``transport``.

    For stdio a server process is spawned with ``env`` from the command line ``server``
    (default: this environment's ``mem0-mcp serve``); for HTTP transports ``url`` is the
    base URL of a running server (see ``http_server``). ``terminate_on_close=False`` skips
    the streamable-HTTP session's closing DELETE, for a server that has already exited.
    """
    if transport == "stdio":
        params = StdioServerParameters(command=server[0], args=list(server[1:]), env=env)
        streams_cm = stdio_client(params)
    elif transport == "sse":
        streams_cm = sse_client(f"{url}/sse")
    else:
        streams_cm = streamable_http_client(f"{url}/mcp", terminate_on_close=terminate_on_close)
    async with streams_cm as (read, write):
        async with ClientSession(read, write, **session_kwargs) as session:
            await session.initialize()
            yield session


class ToolFailed(Exception):
    """A tool call answered with ``isError: true``; the message is the tool's text."""


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool; returns its structured JSON, raising ``ToolFailed`` on a tool error.

    Also checks the text content carries the same result in its compact form (for
    clients reading only text; see ``mem0_mcp.output``).
    """
    result = await session.call_tool(tool, arguments)
    text = "".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        raise ToolFailed(text)
    assert json.loads(text) == compact(result.structured_content)
    return result.structured_content


def health(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/health", timeout=5).json()
