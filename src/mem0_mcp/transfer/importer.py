"""``mem0-mcp import``: check the whole file, then stage it in one SQLite transaction of the
journal and apply it to the vector store (both passes described in the package docstring)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import MemoryConfig
from ..history import BulkWrite
from ..journal import JournalEntry
from ..models import Reembed, TransferStats
from ..vector_stores.base import Point
from . import format  # its page sizes are read at call time
from .format import TransferError, records
from .progress import progress_bar

if TYPE_CHECKING:
    from ..memory import AsyncMemory

log = logging.getLogger(__name__)


async def import_store(
    memory: AsyncMemory,
    path: Path,
    *,
    reembed: Reembed = "auto",
    progress: bool | None = None,
) -> TransferStats:
    """Merge the export at ``path`` into ``memory``'s stores, all or nothing (see the package
    docstring, also for ``reembed``). Raises ``TransferError``, with nothing written, for a
    file that is not an export, cannot be read, is truncated, holds a line that breaks the
    tools' rules (the message names the line and the field), or needs re-embedding with
    ``reembed="never"``. If the vector store fails after the import was committed to the
    history, ``TransferError`` says so; the next open of the store completes it."""
    started = time.perf_counter()
    if not path.is_file():
        raise TransferError(f"{path}: no such file")
    await memory.open()
    with closing(records(path, memory.config)) as lines:
        _, _, header = next(lines)
    dense_again = _must_reembed(header, memory, reembed, path)
    check = await asyncio.to_thread(_check, path, memory.config, header, progress)
    stats = TransferStats()
    # Every write of the store waits while the import stages and applies (none can slip in
    # between the "newer than the target" checks and the apply).
    async with memory.journal.lock:
        async with memory.history_store.bulk() as bulk:
            total = check.memories + check.history
            with (
                closing(_batches(path, memory.config)) as batches,
                progress_bar(total, progress, "importing") as bar,
            ):
                while batch := await asyncio.to_thread(next, batches, None):
                    memories = [r for r in batch if isinstance(r, Point)]
                    rows = [r for r in batch if not isinstance(r, Point)]
                    await _stage_memories(memory, bulk, memories, dense_again, reembed, stats)
                    stats.history_new += await bulk.insert_rows(rows)
                    stats.history += len(rows)
                    bar.update(len(batch))
            if orphans := await bulk.upserts_without_history(3):
                raise TransferError(
                    f"{path}: memories {', '.join(orphans)} have no history row, in the file "
                    "or in this store; nothing was imported. Export them again with their "
                    "history"
                )
        await _apply_staged(memory, bulk.after, _apply_page(check.largest_line), path)
        try:
            await memory.history_store.compact()
        except Exception:  # the import is complete; the space is reused by later writes
            log.warning("could not compact %s after the import", memory.config.history_path)
    stats.seconds = time.perf_counter() - started
    return stats


# -- pass 1: check -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Checked:
    memories: int = 0
    history: int = 0
    largest_line: int = 0  # bytes


def _check(
    path: Path, config: MemoryConfig, header: dict[str, Any], progress: bool | None
) -> _Checked:
    """Pass 1: read and validate every line of ``path``; raises ``TransferError``."""
    checked = _Checked()
    lines = records(path, config)
    next(lines)  # the header
    total = header.get("memories", 0) + header.get("history", 0)
    with progress_bar(total, progress, "checking") as bar:
        for _, size, record in lines:
            checked.largest_line = max(checked.largest_line, size)
            if isinstance(record, Point):
                checked.memories += 1
            else:
                checked.history += 1
            bar.update(1)
    return checked


def _must_reembed(
    header: dict[str, Any], memory: AsyncMemory, reembed: Reembed, path: Path
) -> bool:
    """Whether dense vectors are recomputed; raises ``TransferError`` for a mismatch with
    ``reembed="never"``."""
    ours = (memory.embedder.model_name, memory.embedder.dim)
    theirs = (header["embedding_model"], header["dim"])
    if reembed == "always":
        return True
    if theirs == ours:
        return False
    if reembed == "never":
        raise TransferError(
            f"{path} was embedded with {theirs[0]} ({theirs[1]}-d) and this store uses "
            f"{ours[0]} ({ours[1]}-d); nothing was imported. Import with re-embedding (the "
            "default, --reembed auto), or set MEM0_MCP_EMBEDDING_MODEL to the file's model"
        )
    log.warning(
        "%s was embedded with %s (%d-d); re-embedding every memory with %s (%d-d)",
        path,
        theirs[0],
        theirs[1],
        ours[0],
        ours[1],
    )
    return True


# -- pass 2: stage and apply -------------------------------------------------------------------


def _batches(path: Path, config: MemoryConfig) -> Generator[list[Point | dict[str, Any]]]:
    """Pass 2: the validated records of ``path`` (memories as ``Point``, history rows as
    dicts) in file order, in lists of at most ``format.PAGE`` records and about
    ``format.BATCH_BYTES`` bytes."""
    lines = records(path, config)
    next(lines)  # the header
    batch: list[Point | dict[str, Any]] = []
    size = 0
    for _, line_size, record in lines:
        batch.append(record)
        size += line_size
        if len(batch) >= format.PAGE or size >= format.BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


async def _stage_memories(
    memory: AsyncMemory,
    bulk: BulkWrite,
    points: list[Point],
    dense_again: bool,
    reembed: Reembed,
    stats: TransferStats,
) -> None:
    """Journal an upsert for each of ``points`` the target should take (nothing is applied)."""
    stats.memories += len(points)
    taken = await _newer_than_target(memory, points)
    stats.kept += len(points) - len(taken)
    for p in taken:
        if dense_again:
            p.vector = None
        if p.sparse is None or reembed == "always":
            p.sparse = memory.keywords.document(p.payload["data"])
    missing = [p for p in taken if p.vector is None]
    if missing:
        vectors = await memory.embedder.embed([p.payload["data"] for p in missing])
        for p, v in zip(missing, vectors, strict=True):
            p.vector = v
        stats.reembedded += len(missing)
    await bulk.journal([JournalEntry(op="upsert", memory_id=p.id, point=p) for p in taken])


async def _newer_than_target(memory: AsyncMemory, points: list[Point]) -> list[Point]:
    """The points the target should take: not ones it deleted, and not ones it holds in
    the same or a later version (last change time), so re-running an import after the
    target was used never reverts an update or revives a deleted memory."""
    ids = [p.id for p in points]
    deleted = await memory.history_store.deleted_among(ids)
    held = {p.id: _changed_ts(p.payload) for p in await memory.vector_store.retrieve(ids)}
    return [
        p
        for p in points
        if p.id not in deleted and (p.id not in held or _changed_ts(p.payload) > held[p.id])
    ]


def _changed_ts(payload: dict[str, Any]) -> float:
    return float(payload.get("updated_ts") or payload.get("created_ts") or 0.0)


def _apply_page(largest_line: int) -> int:
    # A journal entry holds its point's vector as base64 float32 (as the file does) next to
    # the payload, and its keyword vector: at most ~4× the line it came from.
    return max(1, min(format.PAGE, format.BATCH_BYTES // max(1, 4 * largest_line)))


async def _apply_staged(memory: AsyncMemory, after: int, page: int, path: Path) -> None:
    """Apply the journal entries of a committed import (``seq`` > ``after``) to the vector
    store, a page at a time (``Journal.apply_staged``)."""
    try:
        await memory.journal.apply_staged(after, page)
    except Exception as exc:
        raise TransferError(
            f"{path} was imported into the history, but the vector store failed while taking "
            f"its memories ({type(exc).__name__}: {exc}). The rest is kept in the journal and "
            "applied before the next write, or when the store opens again"
        ) from exc
