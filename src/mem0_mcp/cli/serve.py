"""``mem0-mcp serve``: the MCP server over stdio or HTTP, until its client leaves or a
signal arrives; then calls in flight finish and the store is closed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from ..config import MemoryConfig


def add_parsers(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the MCP server",
        description="Run the MCP server: over stdio (what Claude Desktop, Cursor and Claude "
        "Code launch), or over HTTP for remote agents. Several serve processes may share one "
        "data dir: the first owns the store, the others forward to it.",
    )
    common(serve)
    serve.add_argument(
        "--transport",
        choices=["stdio", "sse", "streamable-http", "http"],
        help="stdio (default); sse; streamable-http; http = SSE and streamable HTTP on one port",
    )
    serve.add_argument("--host", help="bind address for HTTP transports (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port for HTTP transports (default 8765)")
    serve.add_argument("--default-user-id", help="user_id for calls that name no scope")
    serve.add_argument(
        "--read-only", action="store_true", default=None, help="offer only the tools that read"
    )
    serve.add_argument(
        "--print-client-config",
        action="store_true",
        help="print ready-to-paste client configs (to stderr) once serving",
    )
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from . import settings

    config = settings(
        args,
        transport=args.transport,
        host=args.host,
        port=args.port,
        default_user_id=args.default_user_id,
        read_only=args.read_only,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, print_config=args.print_client_config))


async def serve(config: MemoryConfig, *, print_config: bool = False) -> None:
    from ..auth import check_exposure
    from ..owner import SharedMemory
    from ..server import build_server

    if config.transport != "stdio":
        check_exposure(config)
    memory = SharedMemory(config, label=f"serve --transport {config.transport}")
    memory.start()  # the store opens (model load included) while `initialize` is answered
    server = build_server(memory)
    try:
        if config.transport == "stdio":
            await _until_signalled(server.run_stdio_async())
        else:
            await _serve_http(server, memory, config, print_config=print_config)
    finally:
        await memory.close()  # finishes calls in flight, closes the store, frees the lock


async def _until_signalled(coro: Any) -> None:
    """Run ``coro`` until it ends or SIGTERM / SIGINT arrives (then cancel it and return)."""
    task = asyncio.ensure_future(coro)
    handled = _on_signals(task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        loop = asyncio.get_running_loop()
        for sig in handled:
            loop.remove_signal_handler(sig)


def _on_signals(callback: Callable[[], object]) -> list[signal.Signals]:
    """Call ``callback`` on SIGTERM / SIGINT, where the event loop can (Unix); returns the
    signals handled. Windows' event loop has no signal handlers: there Ctrl-C raises
    KeyboardInterrupt and the ``finally`` blocks still close the store."""
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, callback)
        except (NotImplementedError, RuntimeError):
            continue
        handled.append(sig)
    return handled


async def _serve_http(
    server: Any, memory: Any, config: MemoryConfig, *, print_config: bool
) -> None:
    from ..http_app import build_http_app

    app = build_http_app(server, memory, config)
    started = (lambda uv: _announce(uv, config)) if print_config else None
    await serve_asgi(app, config.host, config.port, started=started)


async def serve_asgi(
    app: Any, host: str, port: int, *, started: Callable[[Any], Awaitable[None]] | None = None
) -> None:
    """Serve ``app`` with uvicorn until SIGTERM / SIGINT, then finish the requests in flight.
    ``started(server)`` runs once it listens (``server.servers[0].sockets`` has the port)."""
    import uvicorn

    uv = _uvicorn_server()(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    loop = asyncio.get_running_loop()
    # Graceful: uvicorn stops accepting and finishes requests in flight, then returns.
    _on_signals(lambda: setattr(uv, "should_exit", True))
    if started is not None:
        loop.create_task(_when_started(uv, started))
    await uv.serve()


async def _when_started(uv: Any, started: Callable[[Any], Awaitable[None]]) -> None:
    while not uv.started:
        await asyncio.sleep(0.05)
    await started(uv)


def _uvicorn_server() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the signal after its shutdown, which would kill the process
            # before the store is closed; our handlers (above) ask it to exit instead.
            yield

    return Server


async def _announce(uv: Any, config: MemoryConfig) -> None:
    base = f"http://{config.host}:{config.port}"
    stdio_cfg = {
        "mcpServers": {
            "memory": {
                "command": str(Path(sys.executable).with_name("mem0-mcp")),
                "args": ["serve"],
                "env": {"MEM0_MCP_DATA_DIR": str(config.data_dir)},
            }
        }
    }
    remote_cfg = {"mcpServers": {"memory": {"type": "http", "url": f"{base}/mcp"}}}
    sys.stderr.write(
        f"\nmem0-mcp is serving (data dir {config.data_dir})\n"
        f"  streamable HTTP: {base}/mcp\n  SSE:             {base}/sse\n"
        f"  health:          {base}/health\n"
        f"  dashboard:       {base}/ui\n\n"
        "Claude Desktop (stdio, claude_desktop_config.json):\n"
        f"{json.dumps(stdio_cfg, indent=2)}\n\n"
        "Claude Code (this running server):\n"
        f"  claude mcp add --transport http memory {base}/mcp\n\n"
        "Any client speaking streamable HTTP (.mcp.json / Cursor / VS Code):\n"
        f"{json.dumps(remote_cfg, indent=2)}\n\n"
    )
