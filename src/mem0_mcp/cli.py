"""Command line: ``mem0-mcp serve | doctor``.

Logs go to stderr: stdout belongs to the stdio transport.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .auth import check_exposure
from .config import MemoryConfig
from .errors import ConfigError

log = logging.getLogger("mem0_mcp")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="settings file (.toml, .yaml)")
    parser.add_argument("--data-dir", type=Path, help="store folder (MEM0_MCP_DATA_DIR)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mem0-mcp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the MCP server")
    _add_common(serve)
    serve.add_argument(
        "--transport",
        choices=["stdio", "sse", "streamable-http", "http"],
        help="stdio (default), sse, streamable-http, or http (SSE + streamable HTTP, one port)",
    )
    serve.add_argument("--host", help="bind address for HTTP transports (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port for HTTP transports (default 8765)")
    serve.add_argument("--default-user-id", help="user_id when a call gives no scope")
    serve.add_argument(
        "--print-client-config",
        action="store_true",
        help="print ready-to-paste client configs (to stderr) once serving",
    )

    doctor = sub.add_parser("doctor", help="check the setup: model, store, settings")
    _add_common(doctor)
    _add_transfer_parsers(sub)
    return parser


def _settings(args: argparse.Namespace) -> MemoryConfig:
    return MemoryConfig.load(
        args.config,
        data_dir=args.data_dir,
        log_level=args.log_level,
        transport=getattr(args, "transport", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        default_user_id=getattr(args, "default_user_id", None),
    )


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        config = _settings(args)
    except ConfigError as exc:
        sys.stderr.write(f"mem0-mcp: {exc}\n")
        raise SystemExit(2) from None
    logging.basicConfig(
        stream=sys.stderr,
        level=config.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "serve":
            asyncio.run(_serve(config, print_config=args.print_client_config))
        elif args.command == "doctor":
            asyncio.run(_doctor(config))
        elif args.command in ("export", "import"):
            _transfer(args)
    except ConfigError as exc:
        sys.stderr.write(f"mem0-mcp: {exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


async def _serve(config: MemoryConfig, *, print_config: bool) -> None:
    from .owner import SharedMemory
    from .server import build_server

    if config.transport != "stdio":
        check_exposure(config)
    memory = SharedMemory(config)
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
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _serve_http(
    server: Any, memory: Any, config: MemoryConfig, *, print_config: bool
) -> None:
    import uvicorn

    from .http_app import build_http_app

    app = build_http_app(server, memory, config)
    uv = _uvicorn_server()(
        uvicorn.Config(app, host=config.host, port=config.port, log_level="warning", lifespan="on")
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Graceful: uvicorn stops accepting and finishes requests in flight, then returns.
        loop.add_signal_handler(sig, setattr, uv, "should_exit", True)
    if print_config:
        loop.create_task(_announce(uv, config))
    await uv.serve()


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
    while not uv.started:
        await asyncio.sleep(0.05)
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
        f"  health:          {base}/health\n\n"
        "Claude Desktop (stdio, claude_desktop_config.json):\n"
        f"{json.dumps(stdio_cfg, indent=2)}\n\n"
        "Claude Code (this running server):\n"
        f"  claude mcp add --transport http memory {base}/mcp\n\n"
        "Any client speaking streamable HTTP (.mcp.json / Cursor / VS Code):\n"
        f"{json.dumps(remote_cfg, indent=2)}\n\n"
    )


async def _doctor(config: MemoryConfig) -> None:
    """Assemble and load the embedding model (what `make install` needs before first use)
    and report the settings; the store itself is left alone (a server may own it)."""
    import time

    from .embeddings import Embedder

    started = time.perf_counter()
    embedder = Embedder(config)
    await embedder.ready()
    sys.stderr.write(
        f"ok: embedding model {config.embedding_model} ({embedder.dim}-d) loaded in "
        f"{time.perf_counter() - started:.2f} s; data dir {config.data_dir}; vector store "
        f"{config.vector_store}; LLM provider {config.llm_provider}\n"
    )


# --- export / import ---------------------------------------------------------------------------


def _add_transfer_parsers(sub: Any) -> None:
    """``export FILE`` / ``import FILE``: move a store between backends (see transfer.py)."""
    export = sub.add_parser(
        "export",
        help="write every memory (with vectors) and all history to a JSON Lines file",
        description="Write the store to FILE (JSON Lines; gzip when FILE ends in .gz). Stop "
        "any server using an embedded store first: it holds the store's lock.",
    )
    imp = sub.add_parser(
        "import",
        help="merge an export file into the configured store (idempotent)",
        description="Merge FILE into the configured store: memories upserted by id, history "
        "rows inserted by id, so re-running adds nothing. Use MEM0_MCP_QDRANT_URL (and "
        "MEM0_MCP_QDRANT_API_KEY) to import into a Qdrant server.",
    )
    for command in (export, imp):
        _add_common(command)
        command.add_argument("file", type=Path, help="the export file (.jsonl or .jsonl.gz)")
        command.add_argument(
            "--vector-store", choices=["edge", "qdrant"], help="backend (MEM0_MCP_VECTOR_STORE)"
        )
        command.add_argument("--qdrant-url", help="Qdrant server URL (MEM0_MCP_QDRANT_URL)")
        command.add_argument("--collection", help="collection name (MEM0_MCP_COLLECTION)")
        command.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="progress bar on stderr (default: only on a terminal)",
        )
    imp.add_argument(
        "--reembed",
        choices=["auto", "always", "never"],
        default="auto",
        help="auto: recompute vectors when the file's embedding model or dimension differs "
        "from this store's (default); never: refuse such a file; always: recompute all",
    )


def _transfer(args: argparse.Namespace) -> None:
    from .errors import Mem0MCPError
    from .transfer import run_export, run_import

    try:
        config = MemoryConfig.load(
            args.config,
            data_dir=args.data_dir,
            log_level=args.log_level,
            vector_store=args.vector_store,
            qdrant_url=args.qdrant_url,
            collection=args.collection,
        )
        if args.command == "export":
            stats = asyncio.run(run_export(config, args.file, progress=args.progress))
            sys.stderr.write(
                f"exported {stats.memories} memories and {stats.history} history rows to "
                f"{args.file} in {stats.seconds:.1f} s\n"
            )
        else:
            stats = asyncio.run(
                run_import(config, args.file, reembed=args.reembed, progress=args.progress)
            )
            sys.stderr.write(
                f"imported {stats.memories} memories ({stats.reembedded} re-embedded, "
                f"{stats.kept} kept as the store had them) and "
                f"{stats.history} history rows ({stats.history_new} new) from {args.file} in "
                f"{stats.seconds:.1f} s\n"
            )
    except Exception as exc:  # one line, never a traceback (that is at --log-level DEBUG)
        log.debug("%s failed", args.command, exc_info=True)
        if isinstance(exc, Mem0MCPError):
            reason = str(exc)
        elif isinstance(exc, OSError):
            reason = f"{exc.filename or ''} {exc.strerror or exc}"
        else:
            reason = f"unexpected {type(exc).__name__}: {exc} (--log-level DEBUG shows where)"
        sys.stderr.write(f"mem0-mcp {args.command}: {' '.join(reason.split())}\n")
        raise SystemExit(2) from None
