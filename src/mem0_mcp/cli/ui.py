"""``mem0-mcp ui``: the memory dashboard for a data dir, in the browser.

For memories that stdio clients keep (Claude Desktop, Cursor, Claude Code run no HTTP
server): serves the dashboard alone, on 127.0.0.1 by default, until Ctrl-C. Like every
command it goes through the process that owns the data dir when one runs, and otherwise
owns it itself while it runs (stdio servers started meanwhile forward to it). A server on
an HTTP transport serves the same dashboard at its own ``/ui``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import webbrowser
from collections.abc import Callable
from typing import Any

from ..config import MemoryConfig

DEFAULT_PORT = 8766  # beside serve's 8765, so both can run


def add_parsers(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    ui = commands.add_parser(
        "ui",
        help="serve the memory dashboard (browser)",
        description="Serve the memory dashboard at http://127.0.0.1:PORT/ui: see, search, "
        "correct, delete and export memories. Works beside running servers (it goes through "
        "the one that owns the data dir).",
    )
    common(ui)
    ui.add_argument("--host", help="bind address (default 127.0.0.1; others need tokens)")
    ui.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    ui.add_argument("--open", action="store_true", help="open the dashboard in the web browser")
    ui.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from . import settings

    config = settings(args, quiet=True, host=args.host)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_dashboard(config, args.port, open_browser=args.open))


async def serve_dashboard(config: MemoryConfig, port: int, *, open_browser: bool) -> None:
    """Serve ``/ui`` on ``config.host``:``port`` until SIGTERM / SIGINT; announce the URL
    on stderr (and open it with ``open_browser``) once it listens."""
    from starlette.applications import Starlette

    from ..auth import check_exposure
    from ..http_app import transport_security
    from ..owner import SharedMemory
    from ..ui import with_dashboard
    from .serve import serve_asgi

    check_exposure(config)
    memory = SharedMemory(config, label="ui")
    memory.start()
    app = with_dashboard(Starlette(), memory, config, transport_security(config))

    async def started(uv: Any) -> None:
        bound_port = uv.servers[0].sockets[0].getsockname()[1]
        host = f"[{config.host}]" if ":" in config.host else config.host
        url = f"http://{host}:{bound_port}/ui"
        sys.stderr.write(f"mem0-mcp dashboard: {url}  (data dir {config.data_dir}; Ctrl-C stops)\n")
        if open_browser:
            await asyncio.to_thread(webbrowser.open, url)

    try:
        await serve_asgi(app, config.host, port, started=started)
    finally:
        await memory.close()
