"""The stdio transport, with the limits the HTTP transports have.

The SDK's stdio reader takes any line whole (a 320 MB line took the server to 712 MB of
RSS) and decodes it with ``errors="replace"`` (invalid UTF-8 was stored as U+FFFD), where
HTTP caps a request body at ``max_request_bytes`` and refuses invalid UTF-8. Here each line
is read with that cap: a longer one is skipped without being held in memory, and it and a
line that is not UTF-8 are answered with a JSON-RPC error (for the request's id when its
first bytes show it, else ``null``) instead of being processed; the server keeps serving.

While serving, fd 0 reads from the null device and fd 1 writes to stderr, as with the
SDK's own transport, so a stray ``print`` or a child process cannot corrupt the wire.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Any

import anyio
import anyio.to_thread

log = logging.getLogger(__name__)

# JSON-RPC 2.0 error codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
# Bytes of an over-long line kept to find its id in: ids come first in practice, and
# the SDK clients write {"jsonrpc":"2.0","id":N,...} or {"method":...,"id":N}.
_HEAD_BYTES = 512
_DISCARD_CHUNK = 1 << 16
_ID = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")')


class _Wire:
    """The transport's private stdin / stdout: bounded line reads, serialised writes."""

    def __init__(self, stdin: IO[bytes], stdout: IO[bytes], limit: int) -> None:
        self._in = stdin
        self._out = stdout
        self._limit = limit
        self._lock = anyio.Lock()

    # -- reading: what the SDK iterates with `async for line in stdin` ---------------------

    def __aiter__(self) -> _Wire:
        return self

    async def __anext__(self) -> str:
        while True:
            read = await anyio.to_thread.run_sync(self._read_line, abandon_on_cancel=True)
            if read is None:
                raise StopAsyncIteration
            line, size = read
            if size > self._limit:
                log.warning("refused a %d-byte stdio message (limit %d)", size, self._limit)
                await self._error(
                    line,
                    INVALID_REQUEST,
                    f"message of {size} bytes is over the {self._limit}-byte limit "
                    "(MEM0_MCP_MAX_REQUEST_BYTES); nothing was processed",
                )
                continue
            try:
                return line.decode("utf-8")
            except UnicodeDecodeError as exc:
                await self._error(
                    line, PARSE_ERROR, f"message is not valid UTF-8 (byte {exc.start})"
                )

    def _read_line(self) -> tuple[bytes, int] | None:
        """The next line and its size in bytes, or ``None`` at end of input. An over-long
        line is read to its end in chunks and only its first bytes are kept."""
        line = self._in.readline(self._limit + 1)
        if not line:
            return None
        if len(line) <= self._limit or line.endswith(b"\n"):
            return line, len(line.rstrip(b"\r\n"))
        size = len(line)
        head = line[:_HEAD_BYTES]
        while True:
            more = self._in.readline(_DISCARD_CHUNK)
            size += len(more)
            if not more or more.endswith(b"\n"):
                return head, size

    async def _error(self, line: bytes, code: int, message: str) -> None:
        found = _ID.search(line[:_HEAD_BYTES])
        request_id: Any = json.loads(found.group(1)) if found else None
        reply = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
        await self.write(json.dumps(reply) + "\n")

    # -- writing: what the SDK calls as `await stdout.write(...)` / `flush()` -------------

    async def write(self, text: str) -> None:
        async with self._lock:
            await anyio.to_thread.run_sync(self._write, text.encode("utf-8"))

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()

    async def flush(self) -> None:
        """Every ``write`` is flushed already."""


@asynccontextmanager
async def claimed_stdio(limit: int) -> AsyncIterator[_Wire]:
    """The process's stdin / stdout as a ``_Wire``, with fd 0 and fd 1 diverted (module
    docstring) until the block ends."""
    wire_in = os.dup(0)
    wire_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    # closefd=False and never closed: a reader thread abandoned at shutdown may still be
    # blocked in readline on stdin.
    stdin = os.fdopen(wire_in, "rb", closefd=False)
    stdout = os.fdopen(wire_out, "wb", closefd=False)
    try:
        yield _Wire(stdin, stdout, limit)
    finally:
        os.dup2(wire_in, 0)
        os.dup2(wire_out, 1)
        # wire_in stays open for that thread: closing it could hand its number to another
        # file under the thread's feet.
        os.close(wire_out)
