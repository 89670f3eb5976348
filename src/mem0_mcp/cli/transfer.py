"""``mem0-mcp export`` / ``import``: move a store between backends or machines (format and
semantics in ``mem0_mcp.transfer``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_parsers(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    export = commands.add_parser(
        "export",
        help="write every memory (with vectors) and all history to a JSON Lines file",
        description="Write the store to FILE (JSON Lines; gzip when FILE ends in .gz): every "
        "memory with its vectors, and the full history, deleted memories' included. Works "
        "while a server runs (writes wait until the file is complete).",
    )
    imp = commands.add_parser(
        "import",
        help="merge an export file into the store (idempotent)",
        description="Merge FILE into the configured store: memories upserted by id, history "
        "rows inserted by id, so re-running adds nothing. Every line is checked with the "
        "tools' own rules first; a file that fails leaves the store as it was. Use "
        "MEM0_MCP_QDRANT_URL (and MEM0_MCP_QDRANT_API_KEY) to import into a Qdrant server.",
    )
    for command in (export, imp):
        common(command)
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
        command.set_defaults(run=run)
    imp.add_argument(
        "--reembed",
        choices=["auto", "always", "never"],
        default="auto",
        help="auto: recompute vectors when the file's embedding model or dimension differs "
        "from this store's (default); never: refuse such a file; always: recompute all",
    )


def run(args: argparse.Namespace) -> None:
    from . import settings, with_memory

    config = settings(
        args,
        quiet=True,
        vector_store=args.vector_store,
        qdrant_url=args.qdrant_url,
        collection=args.collection,
    )
    path = str(args.file)
    if args.command == "export":
        stats = asyncio.run(
            with_memory(config, "export", lambda m: m.export_to(path, progress=args.progress))
        )
        sys.stderr.write(
            f"exported {stats.memories} memories and {stats.history} history rows to "
            f"{args.file} in {stats.seconds:.1f} s\n"
        )
        return

    async def work(memory: Any) -> Any:
        return await memory.import_from(path, reembed=args.reembed, progress=args.progress)

    stats = asyncio.run(with_memory(config, "import", work))
    sys.stderr.write(
        f"imported {stats.memories} memories ({stats.reembedded} re-embedded, "
        f"{stats.kept} kept as the store had them) and "
        f"{stats.history} history rows ({stats.history_new} new) from {args.file} in "
        f"{stats.seconds:.1f} s\n"
    )
