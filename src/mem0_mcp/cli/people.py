"""Commands for people: ``list``, ``search``, ``get``, ``history``, ``delete``.

They take the tools' arguments as flags (``--user-id``, ``--filters '{"topic": "food"}'``,
``--limit``...) and go through the same engine calls, so the same validation and the same
history apply. They work whether or not a server owns the data dir: through the running
owner when there is one, else by opening the store for the command's duration (any server
started meanwhile forwards to this process, and takes over when it exits).

Output: a table for people (rich), or ``--json`` — the complete result as JSON, for scripts.
``delete`` shows the memory and asks first; ``--yes`` skips the question, and without a
terminal to ask on it is required.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from ..api import MemoryAPI
from ..errors import InvalidInputError
from ..scope import ScopeIds


def add_parsers(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    def command(name: str, help: str, description: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(
            name, help=help, description=description
        )
        common(parser)
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.set_defaults(run=run)
        return parser

    def scoped(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--user-id", help="whose memories (default: the default user)")
        parser.add_argument("--agent-id", help="an agent's memories")
        parser.add_argument("--run-id", help="one run's memories")
        parser.add_argument(
            "--filters", type=_json_object, metavar="JSON", help='e.g. \'{"topic": "food"}\''
        )

    listing = command(
        "list", "list memories, newest first", "List the memories of a scope, newest first."
    )
    scoped(listing)
    listing.add_argument("--limit", type=int, default=50, help="page size (default 50)")
    listing.add_argument("--offset", type=int, default=0, help="skip this many")

    search = command(
        "search",
        "search memories",
        "Find the memories most relevant to a query, best first (the search_memories tool).",
    )
    search.add_argument("query", help="what to look for")
    scoped(search)
    search.add_argument("--limit", type=int, default=10, help="most results (default 10)")
    search.add_argument("--threshold", type=float, help="minimum score, 0-1")

    get = command("get", "show one memory", "Show one memory by id.")
    get.add_argument("memory_id")

    history = command(
        "history",
        "show a memory's history",
        "Every change to a memory, oldest first (kept after it is deleted).",
    )
    history.add_argument("memory_id")

    delete = command(
        "delete",
        "delete one memory (asks first)",
        "Delete one memory after showing it and asking. Its history is kept.",
    )
    delete.add_argument("memory_id")
    delete.add_argument("--yes", action="store_true", help="do not ask")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, e.g. {"topic": "food"}')
    return value


def run(args: argparse.Namespace) -> None:
    from . import settings, with_memory

    config = settings(args, quiet=True)
    result = asyncio.run(with_memory(config, args.command, lambda memory: _call(args, memory)))
    if result is None:
        return
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        _show(args.command, result)


async def _call(args: argparse.Namespace, memory: MemoryAPI) -> BaseModel | None:
    scope = ScopeIds(
        user_id=getattr(args, "user_id", None),
        agent_id=getattr(args, "agent_id", None),
        run_id=getattr(args, "run_id", None),
    )
    if args.command == "list":
        return await memory.get_all(
            filters=args.filters, limit=args.limit, offset=args.offset, **scope
        )
    if args.command == "search":
        return await memory.search(
            args.query, filters=args.filters, limit=args.limit, threshold=args.threshold, **scope
        )
    if args.command == "get":
        return await memory.get(args.memory_id)
    if args.command == "history":
        return await memory.history(args.memory_id)
    item = await memory.get(args.memory_id)  # delete: show it, then ask
    if not args.yes and not await asyncio.to_thread(_confirm, item.memory):
        sys.stderr.write("nothing deleted\n")
        return None
    return await memory.delete(args.memory_id)


def _confirm(text: str) -> bool:
    from rich.prompt import Confirm

    if not sys.stdin.isatty():
        raise InvalidInputError(
            "--yes", "there is no terminal to ask on; pass --yes to delete without asking"
        )
    return Confirm.ask(f"Delete this memory?\n  {text}\n", default=False)


def _show(command: str, result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    # On a terminal, its width; piped (less, grep, a file), wide enough not to fold rows.
    console = Console(width=None if sys.stdout.isatty() else 200)
    if command in ("list", "search"):
        table = Table(show_lines=False)
        for column in ("id", "memory", "scope", "created"):
            table.add_column(column, overflow="fold")
        if command == "search":
            table.add_column("score", justify="right")
        for item in result.results:
            row = [item.id, item.memory, _scope(item), item.created_at[:19].replace("T", " ")]
            table.add_row(*row, *([f"{item.score:.3f}"] if command == "search" else []))
        console.print(table)
        more = getattr(result, "next_offset", None)
        console.print(
            f"{len(result.results)} memories" + (f"; next: --offset {more}" if more else "")
        )
    elif command == "history":
        table = Table()
        for column in ("when", "event", "old", "new", "actor", "role"):
            table.add_column(column, overflow="fold")
        for e in result.results:
            when = e.created_at[:19].replace("T", " ")
            table.add_row(
                when,
                e.event,
                e.old_memory or "",
                e.new_memory or "",
                e.actor_id or "",
                e.role or "",
            )
        console.print(table)
    else:  # get, delete
        data = result.model_dump(exclude_none=True)
        for key, value in data.items():
            console.print(f"[bold]{key}[/bold]: {value}", highlight=False)


def _scope(item: Any) -> str:
    parts = [
        f"{k}={getattr(item, k)}" for k in ("user_id", "agent_id", "run_id") if getattr(item, k)
    ]
    return " ".join(parts)
