"""The export file's lines (format in the package docstring): the header checks, a memory
line written from a ``Point`` and read back into one, float32 vectors in base64, and the
bounded reading of a file into validated records."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from .. import validation
from ..config import MemoryConfig
from ..errors import InvalidInputError, Mem0MCPError
from ..vector_stores.base import Point

# Points per vector-store call and history rows per SQLite transaction (export), lines per
# staged batch and journal entries per applied page (import). Read at call time
# (``format.PAGE``), so one setting reaches export and import alike, tests' included.
PAGE = 512
# An import batch also ends once its lines hold this many bytes: 512 lines near the line cap
# would otherwise be ~600 MB.
BATCH_BYTES = 8 << 20

FORMAT = "mem0-mcp-export"
VERSION = 1


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


# -- writing -----------------------------------------------------------------------------------


def memory_line(p: Point) -> dict[str, Any]:
    """The memory line of ``p`` (its vector encoded by ``encode_vector``)."""
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


# -- reading -----------------------------------------------------------------------------------


def records(path: Path, config: MemoryConfig) -> Generator[tuple[int, int, Any]]:
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
