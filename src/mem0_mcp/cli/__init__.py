"""The ``mem0-mcp`` command: the server, and commands for people.

Each command lives in its own module and imports what it needs when it runs, so
``mem0-mcp serve`` pays for no table rendering and ``mem0-mcp list`` for no HTTP server.
Any error ends the command with one line on stderr and exit status 2 (our own errors say
how to fix them; a traceback is logged at ``--log-level DEBUG`` only); Ctrl-C exits with
130. Logs go to stderr: stdout belongs to the stdio transport (``serve``) or to the
command's output.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import MemoryConfig, unknown_env_settings
from ..errors import Mem0MCPError

log = logging.getLogger("mem0_mcp")

DESCRIPTION = """\
Persistent, scoped memory for AI agents, as an MCP server.

  mem0-mcp serve                      run the server over stdio (what MCP clients launch)
  mem0-mcp serve --transport http     serve streamable HTTP (/mcp) and SSE (/sse)
  mem0-mcp list --user-id alice       look at what is remembered
  mem0-mcp ui --open                  ...or browse, search and correct it in the browser
  mem0-mcp doctor                     check the setup

Every command reads the settings from --config, MEM0_MCP_* variables and its flags, and
works whether or not a server is running on the same data dir (it goes through it)."""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="settings file (.toml, .yaml)")
    parser.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="store folder (MEM0_MCP_DATA_DIR)"
    )
    parser.add_argument(
        "--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level"
    )


def _parser() -> argparse.ArgumentParser:
    from . import doctor, people, serve, transfer, ui

    parser = argparse.ArgumentParser(
        prog="mem0-mcp",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mem0-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve, people, ui, transfer, doctor):
        module.add_parsers(commands, _common)
    return parser


def settings(args: argparse.Namespace, *, quiet: bool = False, **flags: Any) -> MemoryConfig:
    """The settings for a command: ``--config`` file, environment, then ``flags`` (CLI
    values; ``None`` = not given). Sets the log level: the settings' (``serve``), or with
    ``quiet`` warnings only unless ``--log-level`` says otherwise (commands whose output a
    person reads)."""
    config = MemoryConfig.load(
        args.config, data_dir=args.data_dir, log_level=args.log_level, **flags
    )
    level = (args.log_level or "WARNING") if quiet else config.log_level
    logging.getLogger().setLevel(level)
    return config


async def with_memory(
    config: MemoryConfig, label: str, work: Callable[[Any], Awaitable[Any]]
) -> Any:
    """``await work(memory)`` with the store's API: through the process that owns the data
    dir when one runs, else opening the store for the duration (``owner.SharedMemory``)."""
    from ..owner import SharedMemory

    memory = SharedMemory(config, label=label)
    memory.start()
    try:
        return await work(memory)
    finally:
        await memory.close()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], None] = args.run
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command != "doctor":  # doctor reports them as problems of its own
        for problem in unknown_env_settings():
            log.warning("%s", problem)
    try:
        run(args)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except SystemExit:
        raise
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
