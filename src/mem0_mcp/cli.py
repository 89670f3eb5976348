"""Command line: ``mem0-mcp serve | doctor``.

Logs go to stderr: stdout belongs to the stdio transport.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

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
    except ConfigError as exc:
        sys.stderr.write(f"mem0-mcp: {exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


async def _serve(config: MemoryConfig, *, print_config: bool) -> None:
    from .memory import AsyncMemory
    from .server import build_server

    memory = AsyncMemory(config)
    memory.start()  # the model loads while the client's `initialize` is answered
    server = build_server(memory)
    try:
        if config.transport == "stdio":
            await server.run_stdio_async()
        else:
            await _serve_http(server, memory, config, print_config=print_config)
    finally:
        await memory.close()


async def _serve_http(
    server: Any, memory: Any, config: MemoryConfig, *, print_config: bool
) -> None:
    import uvicorn

    from .http_app import build_http_app, transport_security

    if config.transport == "sse":
        app = server.sse_app(transport_security=transport_security(config.host), host=config.host)
    elif config.transport == "streamable-http":
        app = server.streamable_http_app(
            transport_security=transport_security(config.host), host=config.host
        )
    else:
        app = build_http_app(server, memory, host=config.host)
    uv = uvicorn.Server(
        uvicorn.Config(app, host=config.host, port=config.port, log_level="warning", lifespan="on")
    )
    if print_config:
        asyncio.get_running_loop().create_task(_announce(uv, config))
    await uv.serve()


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
