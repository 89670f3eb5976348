"""``mem0-mcp export``: the whole store (every point with its vectors, then every history
row) written to one file, which appears only when complete."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..config import MemoryConfig
from ..filters import Condition, all_of
from ..models import TransferStats
from ..payload import utc_now
from ..vector_stores.base import Point, VectorStore
from . import format  # its page sizes are read at call time
from .format import FORMAT, VERSION, TransferError, memory_line
from .progress import progress_bar

if TYPE_CHECKING:
    from ..memory import AsyncMemory


async def export_store(
    memory: AsyncMemory, path: Path, *, progress: bool | None = None
) -> TransferStats:
    """Write every memory (vectors and payload) and every history row of ``memory`` to
    ``path`` (format in the package docstring). The file appears only when complete
    (written to ``<path>.part``, then renamed). ``progress``: a tqdm bar on stderr (``None``:
    only on a terminal). Raises ``TransferError`` if ``path`` cannot be written or the store
    changes while exporting."""
    started = time.perf_counter()
    await memory.open()
    store, history = memory.vector_store, memory.history_store
    n_memories = await store.count(filter=None)
    n_history = await history.count_rows()
    stats = TransferStats()
    part = path.with_name(path.name + ".part")
    header = {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "embedding_model": memory.embedder.model_name,
        "dim": memory.embedder.dim,
        "exported_at": utc_now().isoformat(),
        "source": {"vector_store": _backend_name(memory.config), "collection": _collection(memory)},
        "memories": n_memories,
        "history": n_history,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _create_text(part) as out, progress_bar(n_memories + n_history, progress) as bar:
            # Each page is encoded and written (gzip included) off the event loop: an export
            # may run inside a server that goes on answering searches meanwhile.
            await _write(out, [header])
            async for points in iter_points(store):
                await _write(out, [memory_line(p) for p in points])
                stats.memories += len(points)
                bar.update(len(points))
            async for rows in history.iter_rows(batch_size=format.PAGE):
                await _write(out, [{"type": "history", **row} for row in rows])
                stats.history += len(rows)
                bar.update(len(rows))
            end = {"type": "end", "memories": stats.memories, "history": stats.history}
            await _write(out, [end])
        if stats.memories != n_memories:
            raise TransferError(
                f"the store held {n_memories} memories when the export began and "
                f"{stats.memories} were read: it changed during the export (or holds points "
                "without created_ts). Stop any server using this store and export again"
            )
        os.replace(part, path)
    except OSError as exc:
        raise TransferError(
            f"cannot write {path}: {exc.strerror or exc}; choose a writable path"
        ) from None
    finally:
        with suppress(OSError):  # nothing to remove where nothing could be written
            part.unlink(missing_ok=True)
    stats.seconds = time.perf_counter() - started
    return stats


async def iter_points(store: VectorStore, *, page: int | None = None) -> AsyncIterator[list[Point]]:
    """Every point of ``store`` with its vectors, newest ``created_ts`` first, in lists of
    at most ``page``. Keyset pagination: each page asks for ``created_ts`` ≤ the last one
    seen, minus the ids already read at exactly that instant (one ``add`` call stamps all
    its memories with one time), so ties never skip or repeat a point and each page costs
    the same however deep the export is."""
    size = page or format.PAGE
    last_ts: float | None = None
    seen_at_last: set[str] = set()
    while True:
        flt = None
        if last_ts is not None:
            flt = all_of(
                Condition("created_ts", "lte", last_ts),
                Condition("id", "nin", sorted(seen_at_last)) if seen_at_last else None,
            )
        points = await store.scroll(filter=flt, limit=size, with_vectors=True)
        if not points:
            return
        yield points
        for p in points:
            ts = float(p.payload["created_ts"])
            if last_ts is None or ts < last_ts:
                last_ts, seen_at_last = ts, set()
            if ts == last_ts:
                seen_at_last.add(p.id)


@contextmanager
def _create_text(path: Path) -> Iterator[IO[str]]:
    if path.name.endswith(".gz.part"):
        fh: IO[str] = gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    else:
        fh = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        yield fh
    finally:
        fh.close()


async def _write(out: IO[str], objs: list[dict[str, Any]]) -> None:
    """One JSON line per object, encoded and written in a worker thread."""

    def write() -> None:
        lines = (json.dumps(o, ensure_ascii=False, separators=(",", ":")) for o in objs)
        out.write("".join(line + "\n" for line in lines))

    await asyncio.to_thread(write)


def _backend_name(config: MemoryConfig) -> str:
    return "qdrant-server" if config.qdrant_url else config.vector_store


def _collection(memory: AsyncMemory) -> str:
    return memory.config.collection
