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

Import checks every line with the tools' own rules (``validation.stored_payload``,
``vector``, ``keyword_vector``, ``history_row``: text and metadata limits, scope ids, vector
dimension and finite values, history events and types) and is all or nothing, in two passes:

1. **Check**: the whole file is read and validated; nothing is written. A bad line stops the
   import with its line number and what is wrong; a line longer than ``max_line_bytes`` is
   refused without being read into memory.
2. **Stage and apply**: in one SQLite transaction of ``history.db`` (``HistoryStore.bulk``),
   the file's history rows are inserted and every memory the target should take becomes a
   journal entry; the vector store is not touched until that commits. The journal entries
   are then applied to the vector store a page at a time. A failure before the commit
   leaves both stores as they were; a crash after it is completed on the next open by the
   journal replay, as for any write (docs/architecture.md, "Crash safety"). The space the
   journal took is then given back (``HistoryStore.compact``).

Memory stays bounded whatever the file size: one line at a time when checking, batches of
at most ``_PAGE`` lines and ``_BATCH_BYTES`` when staging, pages of the journal when applying.

Import merges into the target store and is idempotent: memories are upserted by id and
history rows inserted by id (a row already present is skipped), so running it twice gives
the same store. A memory the target holds in the same or a later version (last change
time), or has deleted, is left as the target has it: re-running an import after the target
was used never reverts an update or revives a deleted memory. Memories already in the target
and absent from the file are kept (import into an empty data dir for an exact copy).

Embedding model: when the file's ``embedding_model`` or ``dim`` differs from the target's,
``reembed="auto"`` (the default) recomputes every dense vector from the memory text with
the target's model (keyword vectors are model-independent and kept); ``"never"`` refuses
with ``TransferError`` before anything is written; ``"always"`` recomputes dense and
keyword vectors whatever the header says.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import json
import logging
import os
import time
import zlib
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from . import validation
from .config import MemoryConfig
from .errors import InvalidInputError, Mem0MCPError
from .filters import Condition, all_of
from .history import BulkWrite
from .journal import JournalEntry
from .models import Reembed, TransferStats
from .payload import utc_now
from .vector_stores.base import Point, VectorStore

if TYPE_CHECKING:
    from .memory import AsyncMemory

log = logging.getLogger(__name__)

FORMAT = "mem0-mcp-export"
VERSION = 1

# Points per vector-store call and history rows per SQLite transaction (export), lines per
# staged batch and journal entries per applied page (import).
_PAGE = 512
# An import batch also ends once its lines hold this many bytes: 512 lines near the line cap
# would otherwise be ~600 MB.
_BATCH_BYTES = 8 << 20


class TransferError(Mem0MCPError):
    """The file cannot be exported to or imported from (bad format or line, truncated,
    unreadable or unwritable, model mismatch with ``reembed="never"``, a store that changed
    during export)."""


def max_line_bytes(config: MemoryConfig) -> int:
    """The longest line ``import`` reads (bytes, newline excluded); longer ones are refused
    unread. The largest valid line is a history row of two texts at the size limit, each at
    most 6× as JSON (``\\u0001``-style escapes of control characters), or a memory line:
    its text at most 6× counting its keyword vector (≤ 4.8 bytes per text byte, measured with
    distinct 2-letter words), metadata, and a float32 vector in base64 (5.4 bytes per
    dimension, up to Qdrant's 65536). 64 KiB more covers ids, times and keys. With the
    default limits: 1.2 MiB."""
    return (
        12 * config.max_text_bytes + config.max_metadata_bytes + 6 * validation.MAX_DIM + (64 << 10)
    )


# -- export ------------------------------------------------------------------------------------


async def export_store(
    memory: AsyncMemory, path: Path, *, progress: bool | None = None
) -> TransferStats:
    """Write every memory (vectors and payload) and every history row of ``memory`` to
    ``path`` (format in the module docstring). The file appears only when complete
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
        with _create_text(part) as out, _bar(n_memories + n_history, progress) as bar:
            # Each page is encoded and written (gzip included) off the event loop: an export
            # may run inside a server that goes on answering searches meanwhile.
            await _write(out, [header])
            async for points in iter_points(store):
                await _write(out, [_memory_line(p) for p in points])
                stats.memories += len(points)
                bar.update(len(points))
            async for rows in history.iter_rows(batch_size=_PAGE):
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
    ``None`` for ``None``. Raises ``InvalidInputError`` (field ``vector``) for anything else;
    the numbers themselves are checked by ``validation.vector``."""
    array = _float32s(obj)
    return array.astype(float).tolist() if isinstance(array, np.ndarray) else array


def _float32s(obj: Any) -> np.ndarray | list[Any] | None:
    if obj is None or isinstance(obj, list):
        return obj
    if isinstance(obj, dict) and obj.get("dtype") == "float32" and isinstance(obj.get("b64"), str):
        try:
            return np.frombuffer(base64.b64decode(obj["b64"], validate=True), dtype="<f4")
        except (binascii.Error, ValueError):
            pass  # not base64, or not a whole number of float32s
    raise InvalidInputError(
        "vector", 'must be {"dtype": "float32", "b64": <base64 of little-endian float32s>}'
    )


# -- import ------------------------------------------------------------------------------------


async def import_store(
    memory: AsyncMemory,
    path: Path,
    *,
    reembed: Reembed = "auto",
    progress: bool | None = None,
) -> TransferStats:
    """Merge the export at ``path`` into ``memory``'s stores, all or nothing (see the module
    docstring, also for ``reembed``). Raises ``TransferError``, with nothing written, for a
    file that is not an export, cannot be read, is truncated, holds a line that breaks the
    tools' rules (the message names the line and the field), or needs re-embedding with
    ``reembed="never"``. If the vector store fails after the import was committed to the
    history, ``TransferError`` says so; the next open of the store completes it."""
    started = time.perf_counter()
    if not path.is_file():
        raise TransferError(f"{path}: no such file")
    await memory.open()
    with closing(_records(path, memory.config)) as records:
        _, _, header = next(records)
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
                _bar(total, progress, "importing") as bar,
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
    records = _records(path, config)
    next(records)  # the header
    with _bar(header.get("memories", 0) + header.get("history", 0), progress, "checking") as bar:
        for _, size, record in records:
            checked.largest_line = max(checked.largest_line, size)
            if isinstance(record, Point):
                checked.memories += 1
            else:
                checked.history += 1
            bar.update(1)
    return checked


def _batches(path: Path, config: MemoryConfig) -> Generator[list[Point | dict[str, Any]]]:
    """Pass 2: the validated records of ``path`` (memories as ``Point``, history rows as
    dicts) in file order, in lists of at most ``_PAGE`` records and about ``_BATCH_BYTES``."""
    records = _records(path, config)
    next(records)  # the header
    batch: list[Point | dict[str, Any]] = []
    size = 0
    for _, line_size, record in records:
        batch.append(record)
        size += line_size
        if len(batch) >= _PAGE or size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _records(path: Path, config: MemoryConfig) -> Generator[tuple[int, int, Any]]:
    """``(line number, bytes, record)`` for each line of ``path``: first the header (a
    dict), then each memory as a ``Point`` (vector ``None`` when the file has none; sparse
    ``None`` likewise) and each history row as a dict of ``HISTORY_COLUMNS``, all validated.
    Checks the end line last. Raises ``TransferError`` naming the line."""
    lines = _read_lines(path, max_line_bytes(config))
    number, size, first = next(lines, (1, 0, None))
    header = _header(first, path)
    yield number, size, header
    counts = {"memory": 0, "history": 0}
    end: tuple[int, dict[str, Any]] | None = None
    for number, size, obj in lines:
        kind = obj.get("type")
        if end is not None:
            raise _refused(path, number, f"data after the end line (line {end[0]})")
        if kind == "end":
            end = (number, obj)
            continue
        if kind not in ("memory", "history"):  # a tuple: `kind` may be unhashable
            raise _refused(
                path,
                number,
                f"unexpected line type {str(kind)[:40]!r}; after the header come memory, "
                "history and end lines",
            )
        try:
            record = (
                _memory_record(obj, header["dim"], config)
                if kind == "memory"
                else validation.history_row({k: v for k, v in obj.items() if k != "type"}, config)
            )
        except InvalidInputError as exc:
            what = f"memory {str(obj.get('id'))[:40]}" if kind == "memory" else "history"
            raise _refused(
                path,
                number,
                f"({what}) {exc}. Correct or remove that line (size limits are this store's "
                "settings, e.g. MEM0_MCP_MAX_TEXT_BYTES)",
            ) from None
        counts[kind] += 1
        yield number, size, record
    if end is None:
        raise TransferError(
            f"{path} is truncated (no end line after {counts['memory']} memories and "
            f"{counts['history']} history rows); nothing was imported. Export it again"
        )
    promised = (end[1].get("memories"), end[1].get("history"))
    if promised != (counts["memory"], counts["history"]):
        raise _refused(
            path,
            end[0],
            f"the end line promises {promised[0]} memories and {promised[1]} history rows, "
            f"the file holds {counts['memory']} and {counts['history']}",
        )


def _refused(path: Path, number: int, reason: str) -> TransferError:
    return TransferError(f"{path}, line {number}: {reason}; nothing was imported")


_MEMORY_KEYS = ("type", "id", "payload", "vector", "sparse")


def _memory_record(obj: dict[str, Any], dim: int, config: MemoryConfig) -> Point:
    unknown = sorted(str(k) for k in obj if k not in _MEMORY_KEYS)
    if unknown:
        raise InvalidInputError(
            unknown[0][:40], f"is not a field of a memory line ({', '.join(_MEMORY_KEYS)})"
        )
    vector = _float32s(obj.get("vector"))
    sparse = obj.get("sparse")
    return Point(
        id=validation.canonical_uuid(obj.get("id"), "id"),
        payload=validation.stored_payload(obj.get("payload"), config),
        vector=None if vector is None else validation.vector(vector, dim),
        sparse=None if sparse is None else validation.keyword_vector(sparse),
    )


def _header(obj: dict[str, Any] | None, path: Path) -> dict[str, Any]:
    if obj is None or obj.get("type") != "header" or obj.get("format") != FORMAT:
        raise TransferError(f"{path} is not a mem0-mcp export (its first line is no header)")
    dim, model = obj.get("dim"), obj.get("embedding_model")
    if obj.get("version") != VERSION:
        reason = (
            f"export format version {str(obj.get('version'))[:20]}; this mem0-mcp reads "
            f"version {VERSION}. Import it with the mem0-mcp release that wrote it, or upgrade"
        )
    elif type(dim) is not int or not 1 <= dim <= validation.MAX_DIM:
        reason = f"the header's dim must be an integer from 1 to {validation.MAX_DIM}"
    elif not isinstance(model, str) or not model:
        reason = "the header lacks embedding_model (a model name)"
    elif any(type(obj.get(k, 0)) is not int or obj.get(k, 0) < 0 for k in ("memories", "history")):
        reason = "the header's memories and history must be counts"
    else:
        return obj
    raise _refused(path, 1, reason)


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
    return max(1, min(_PAGE, _BATCH_BYTES // max(1, 4 * largest_line)))


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


# -- helpers -----------------------------------------------------------------------------------


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


def _read_lines(path: Path, cap: int) -> Generator[tuple[int, int, dict[str, Any]]]:
    """``(line number, bytes, object)`` for each non-blank line; never reads more than
    ``cap`` + 1 bytes of a line (nor decompresses more of a gzip stream). Raises
    ``TransferError`` naming the line."""
    number = 0
    try:
        with gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb") as src:
            while raw := src.readline(cap + 1):
                number += 1
                if len(raw) > cap and not raw.endswith(b"\n"):
                    raise _refused(
                        path,
                        number,
                        f"longer than {cap} bytes, more than any line of an export can hold "
                        "under this store's limits (MEM0_MCP_MAX_TEXT_BYTES, "
                        "MEM0_MCP_MAX_METADATA_BYTES)",
                    )
                if raw.strip():
                    yield number, len(raw), _parse(raw, path, number)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _refused(path, number + 1, f"cannot read it ({reason})") from None


def _parse(raw: bytes, path: Path, number: int) -> dict[str, Any]:
    try:
        obj = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start + 1})"
    except RecursionError:
        reason = "JSON nested too deeply"
    except ValueError as exc:
        reason = f"not JSON ({exc})"
    else:
        if isinstance(obj, dict):
            return obj
        reason = "not a JSON object"
    raise _refused(path, number, reason)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


@contextmanager
def _bar(total: int, progress: bool | None, desc: str | None = None) -> Iterator[tqdm[Any]]:
    disable = None if progress is None else not progress
    bar = tqdm(total=total, desc=desc, unit="rows", unit_scale=True, disable=disable, leave=False)
    try:
        yield bar
    finally:
        bar.close()


def _backend_name(config: MemoryConfig) -> str:
    return "qdrant-server" if config.qdrant_url else config.vector_store


def _collection(memory: AsyncMemory) -> str:
    return memory.config.collection
