"""Moving a store between backends: ``mem0-mcp export`` and ``mem0-mcp import``.

    mem0-mcp export store.jsonl.gz                          # the configured store → file
    MEM0_MCP_QDRANT_URL=http://qdrant:6333 mem0-mcp import store.jsonl.gz   # file → server

The file is JSON Lines (UTF-8; gzip-compressed when the name ends in ``.gz``), one object
per line, told apart by ``type``:

1. ``{"type": "header", "format": "mem0-mcp-export", "version": 1, "embedding_model": str,
   "dim": int, "exported_at": ISO 8601, "source": {"vector_store", "collection"},
   "memories": int, "history": int}`` — the counts as the export began.
2. One ``{"type": "memory", "id": UUID, "payload": {...}, "vector": {"dtype": "float32",
   "b64": str}, "sparse": {"indices": [int], "values": [float]} | null}`` per memory.
   ``vector`` is the dense embedding as little-endian float32 bytes in base64 (exact, and
   2.6× smaller than decimal text): ``numpy.frombuffer(base64.b64decode(b64), "<f4")``.
   ``payload`` is the stored payload (``mem0_mcp.payload``), without the store-owned
   ``_lc`` mirror, which the target store rebuilds.
3. One ``{"type": "history", "id", "memory_id", "old_memory", "new_memory", "event",
   "created_at", "updated_at", "is_deleted": bool, "actor_id", "role", "user_id",
   "agent_id", "run_id"}`` per history row, oldest first — deleted memories' trails too.
4. ``{"type": "end", "memories": int, "history": int}`` — what was written; a file
   without it is truncated and ``import`` says so.

Import merges into the target store and is idempotent: memories are upserted by id and
history rows inserted by id (a row already present is skipped), so running it twice gives
the same store, and re-running after an interruption completes it. A memory the target
holds in the same or a later version (last change time), or has deleted, is left as the
target has it: re-running an import after the target was used never reverts an update or
revives a deleted memory. Memories already in
the target and absent from the file are kept (import into an empty data dir for an exact
copy).

Embedding model: when the file's ``embedding_model`` or ``dim`` differs from the target's,
``reembed="auto"`` (the default) recomputes every dense vector from the memory text with
the target's model (keyword vectors are model-independent and kept); ``"never"`` refuses
with ``TransferError`` before anything is written; ``"always"`` recomputes dense and
keyword vectors whatever the header says.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
from tqdm import tqdm

from .config import MemoryConfig
from .errors import Mem0MCPError
from .filters import Condition, all_of
from .memory import AsyncMemory
from .owner import exclusive
from .payload import utc_now
from .vector_stores.base import Point, SparseVector, VectorStore

log = logging.getLogger(__name__)

FORMAT = "mem0-mcp-export"
VERSION = 1
Reembed = Literal["auto", "always", "never"]

# Points per vector-store call and history rows per SQLite transaction.
_PAGE = 512


class TransferError(Mem0MCPError):
    """The file cannot be exported to or imported from (bad format, truncated, model
    mismatch with ``reembed="never"``, a store that changed during export)."""


@dataclass(slots=True)
class TransferStats:
    """What one export or import moved. ``seconds`` is wall time."""

    memories: int = 0
    history: int = 0
    history_new: int = 0  # import only: rows that were not in the target yet
    reembedded: int = 0  # import only: memories whose dense vector was recomputed
    kept: int = 0  # import only: left as the target has them (same or later version, or deleted)
    seconds: float = 0.0


# -- export ------------------------------------------------------------------------------------


async def export_store(
    memory: AsyncMemory, path: Path, *, progress: bool | None = None
) -> TransferStats:
    """Write every memory (vectors and payload) and every history row of ``memory`` to
    ``path`` (format in the module docstring). The file appears only when complete
    (written to ``<path>.part``, then renamed). ``progress``: a tqdm bar on stderr (``None``:
    only on a terminal). Raises ``TransferError`` if the store changes while exporting."""
    started = time.perf_counter()
    await memory.open()
    store, history = memory.vector_store, memory.history_store
    n_memories = await store.count(filter=None)
    n_history = await history.count_rows()
    stats = TransferStats()
    part = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
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
        with _open_text(part, "w") as out, _bar(n_memories + n_history, progress) as bar:
            _write(out, header)
            async for points in iter_points(store):
                for p in points:
                    _write(out, _memory_line(p))
                stats.memories += len(points)
                bar.update(len(points))
            async for rows in history.iter_rows(batch_size=_PAGE):
                for row in rows:
                    _write(out, {"type": "history", **row})
                stats.history += len(rows)
                bar.update(len(rows))
            _write(out, {"type": "end", "memories": stats.memories, "history": stats.history})
        if stats.memories != n_memories:
            raise TransferError(
                f"the store held {n_memories} memories when the export began and "
                f"{stats.memories} were read: it changed during the export (or holds points "
                "without created_ts). Stop any server using this store and export again"
            )
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    stats.seconds = time.perf_counter() - started
    return stats


async def iter_points(store: VectorStore, *, page: int | None = None) -> AsyncIterator[list[Point]]:
    """Every point of ``store`` with its vectors, newest ``created_ts`` first, in lists of
    at most ``page``. Keyset pagination: each page asks for ``created_ts`` ≤ the last one
    seen, minus the ids already read at exactly that instant (one ``add`` call stamps all
    its memories with one time), so ties never skip or repeat a point and each page costs
    the same however deep the export is."""
    size = page or _PAGE
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


def _memory_line(p: Point) -> dict[str, Any]:
    return {
        "type": "memory",
        "id": p.id,
        "payload": p.payload,
        "vector": None if p.vector is None else encode_vector(p.vector),
        "sparse": None
        if p.sparse is None
        else {"indices": list(p.sparse.indices), "values": list(p.sparse.values)},
    }


def encode_vector(vector: list[float]) -> dict[str, str]:
    """``{"dtype": "float32", "b64": ...}``: little-endian float32 bytes, base64."""
    raw = np.asarray(vector, dtype="<f4").tobytes()
    return {"dtype": "float32", "b64": base64.b64encode(raw).decode("ascii")}


def decode_vector(obj: Any) -> list[float] | None:
    """The inverse of ``encode_vector`` (a plain JSON list of numbers is accepted too);
    ``None`` for ``None``. Raises ``TransferError`` for anything else."""
    if obj is None:
        return None
    if isinstance(obj, list):
        return [float(x) for x in obj]
    if isinstance(obj, dict) and obj.get("dtype") == "float32" and isinstance(obj.get("b64"), str):
        return np.frombuffer(base64.b64decode(obj["b64"]), dtype="<f4").astype(float).tolist()
    raise TransferError(f"unreadable vector {str(obj)[:80]!r}: expected a float32/base64 object")


# -- import ------------------------------------------------------------------------------------


async def import_store(
    memory: AsyncMemory,
    path: Path,
    *,
    reembed: Reembed = "auto",
    progress: bool | None = None,
) -> TransferStats:
    """Merge the export at ``path`` into ``memory``'s stores (idempotent; see the module
    docstring for ``reembed``). Raises ``TransferError`` for a file that is not an export,
    is truncated, or needs re-embedding with ``reembed="never"`` (checked before writing)."""
    started = time.perf_counter()
    stats = TransferStats()
    with _open_text(path, "r") as src:
        lines = _lines(src, path)
        header = _header(next(lines, None), path)
        await memory.open()
        dense_again = _must_reembed(header, memory, reembed, path)
        batch: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        end: dict[str, Any] | None = None
        total = int(header.get("memories") or 0) + int(header.get("history") or 0)
        with _bar(total, progress) as bar:
            for obj in lines:
                kind = obj.get("type")
                if end is not None:
                    raise TransferError(f"{path}: data after the end line")
                if kind == "memory":
                    batch.append(obj)
                    if len(batch) >= _PAGE:
                        await _import_memories(memory, batch, header, dense_again, reembed, stats)
                        bar.update(len(batch))
                        batch = []
                elif kind == "history":
                    rows.append(obj)
                    if len(rows) >= _PAGE:
                        await _import_history(memory, rows, stats)
                        bar.update(len(rows))
                        rows = []
                elif kind == "end":
                    end = obj
                else:
                    raise TransferError(f"{path}: unknown line type {kind!r}")
            await _import_memories(memory, batch, header, dense_again, reembed, stats)
            await _import_history(memory, rows, stats)
            bar.update(len(batch) + len(rows))
    if end is None:
        raise TransferError(
            f"{path} is truncated (no end line): {stats.memories} memories and {stats.history} "
            "history rows were imported. Export again and re-run the import (it is idempotent)"
        )
    if (end.get("memories"), end.get("history")) != (stats.memories, stats.history):
        raise TransferError(
            f"{path}: the end line promises {end.get('memories')} memories and "
            f"{end.get('history')} history rows, the file holds {stats.memories} and "
            f"{stats.history}"
        )
    stats.seconds = time.perf_counter() - started
    return stats


def _header(obj: dict[str, Any] | None, path: Path) -> dict[str, Any]:
    if obj is None or obj.get("type") != "header" or obj.get("format") != FORMAT:
        raise TransferError(f"{path} is not a mem0-mcp export (its first line is no header)")
    if obj.get("version") != VERSION:
        raise TransferError(
            f"{path} is export format version {obj.get('version')}; this mem0-mcp reads "
            f"version {VERSION}. Import it with the mem0-mcp release that wrote it, or upgrade"
        )
    if not isinstance(obj.get("dim"), int) or not isinstance(obj.get("embedding_model"), str):
        raise TransferError(f"{path}: the header lacks embedding_model / dim")
    return obj


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


async def _import_memories(
    memory: AsyncMemory,
    batch: list[dict[str, Any]],
    header: dict[str, Any],
    dense_again: bool,
    reembed: Reembed,
    stats: TransferStats,
) -> None:
    if not batch:
        return
    points: list[Point] = []
    for obj in batch:
        payload = obj.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), str):
            raise TransferError(f"memory {obj.get('id')!r}: the payload lacks its text (data)")
        vector = None if dense_again else decode_vector(obj.get("vector"))
        if vector is not None and len(vector) != header["dim"]:
            raise TransferError(
                f"memory {obj['id']}: vector has {len(vector)} dimensions, "
                f"the header says {header['dim']}"
            )
        raw_sparse = obj.get("sparse")
        sparse = (
            SparseVector(
                [int(i) for i in raw_sparse["indices"]], [float(v) for v in raw_sparse["values"]]
            )
            if raw_sparse and reembed != "always"
            else memory.keywords.document(payload["data"])
        )
        points.append(Point(id=str(obj["id"]), vector=vector, payload=payload, sparse=sparse))
    points = await _newer_than_target(memory, points)
    stats.kept += len(batch) - len(points)
    missing = [p for p in points if p.vector is None]
    if missing:
        vectors = await memory.embedder.embed([p.payload["data"] for p in missing])
        for p, v in zip(missing, vectors, strict=True):
            p.vector = v
        stats.reembedded += len(missing)
    await memory.vector_store.upsert(points)
    stats.memories += len(batch)


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


async def _import_history(
    memory: AsyncMemory, rows: list[dict[str, Any]], stats: TransferStats
) -> None:
    if not rows:
        return
    try:
        stats.history_new += await memory.history_store.insert_rows(rows)
    except KeyError as exc:
        raise TransferError(f"a history row lacks the column {exc}") from None
    stats.history += len(rows)


# -- entry points for the CLI ------------------------------------------------------------------


async def run_export(
    config: MemoryConfig, path: Path, *, progress: bool | None = None
) -> TransferStats:
    """Open the store ``config`` names, export it to ``path``, close it. Raises
    ``StoreUnavailableError`` when a running server owns the store."""
    with exclusive(config):
        async with AsyncMemory(_offline(config)) as memory:
            return await export_store(memory, path, progress=progress)


async def run_import(
    config: MemoryConfig, path: Path, *, reembed: Reembed = "auto", progress: bool | None = None
) -> TransferStats:
    """Open (or create) the store ``config`` names, import ``path`` into it, close it."""
    if not path.is_file():
        raise TransferError(f"{path}: no such file")
    with exclusive(config):
        async with AsyncMemory(_offline(config)) as memory:
            return await import_store(memory, path, reembed=reembed, progress=progress)


def _offline(config: MemoryConfig) -> MemoryConfig:
    # Moving stored memories never needs the LLM; do not build a client for it.
    return config.model_copy(update={"llm_provider": "none"})


# -- helpers -----------------------------------------------------------------------------------


@contextmanager
def _open_text(path: Path, mode: Literal["r", "w"]) -> Iterator[IO[str]]:
    if path.name.endswith(".gz") or (mode == "w" and path.name.endswith(".gz.part")):
        fh: IO[str] = gzip.open(path, mode + "t", encoding="utf-8", compresslevel=6)
    else:
        fh = open(path, mode, encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        yield fh
    finally:
        fh.close()


def _write(out: IO[str], obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    out.write("\n")


def _lines(src: IO[str], path: Path) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(src, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise TransferError(f"{path}, line {number}: not JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise TransferError(f"{path}, line {number}: not a JSON object")
        yield obj


@contextmanager
def _bar(total: int, progress: bool | None) -> Iterator[tqdm]:
    disable = None if progress is None else not progress
    bar = tqdm(total=total, unit="rows", unit_scale=True, disable=disable, leave=False)
    try:
        yield bar
    finally:
        bar.close()


def _backend_name(config: MemoryConfig) -> str:
    return "qdrant-server" if config.qdrant_url else config.vector_store


def _collection(memory: AsyncMemory) -> str:
    return memory.config.collection
