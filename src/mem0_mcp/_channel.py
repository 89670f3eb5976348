"""The owner channel: how a forwarding process reaches the process that owns a data dir.

Two kinds carry the same calls (one connection per call, JSON lines: ``_wire.py``):

* ``unix``: a Unix socket, ``<data_dir>/owner.sock`` (or a short path in the runtime /
  temp dir when that would be too long for the OS). The socket file's permissions decide
  who may connect.
* ``tcp``: 127.0.0.1 on a port the OS picks, for Windows, whose asyncio has no Unix
  sockets. Any local user may connect to a loopback port, so the owner writes the port and
  a random secret to ``<data_dir>/owner.tcp.json`` (readable by the user only, written
  whole through ``os.replace``), and every connection opens with that secret.

On both, the owner greets each connection it admits before the call is sent:

    client → owner   {"secret": "..."}                      (tcp only)
    owner  → client  {"hello": VERSION}  |  {"error": {...}} and the connection closes

So a call is only sent to an owner process that has accepted its connection. Without the
greeting, a connection the kernel had queued for an owner being killed looked delivered,
and its write was reported as possibly applied although it never ran: with two CPU burners
running, ``test_owner_killed_mid_traffic...`` saw such a third failed write from two
writers in 4 of 12 runs without the greeting, 0 of 18 with it. The greeting costs one
round trip: a forwarded ``get`` takes 0.71 ms instead of 0.54 ms (median) over the Unix
socket, 0.92 ms over TCP (``bench/owner_channel.py``), against tens of milliseconds for a
tool call. ``VERSION`` numbers the protocol, so a forwarder started from another release
than the owner's is told to restart rather than misreading the owner's answers.

The ``owner_channel`` setting picks the kind a process offers while it owns the store
(``auto``: ``unix`` where asyncio has Unix sockets and the platform is not Windows, else
``tcp``). A forwarding process uses whichever kind the owner published, so processes with
different settings still meet. The new owner holds the owner lock, so anything a killed
owner left behind (socket, port file) is stale: ``listen`` removes both first.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

from . import _wire
from .config import MemoryConfig
from .errors import StoreUnavailableError

log = logging.getLogger(__name__)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]

# Unix socket paths are limited to 107 bytes on Linux (103 on macOS).
_MAX_SOCKET_PATH = 100
# How long either side waits for the other's handshake line. The owner answers it from its
# event loop at once; a silent peer is not a working owner (or a port reused since the file
# was written), and the forwarder then treats the owner as gone.
HANDSHAKE_TIMEOUT = 10.0
# The owner channel's protocol (this module's handshake and ``_wire.py``); raise it whenever
# either changes incompatibly.
VERSION = 1


class Unreachable(Exception):
    """No owner took the call: nothing was delivered, so it is safe to retry anywhere."""


def kind(config: MemoryConfig) -> Literal["unix", "tcp"]:
    """The channel this process offers when it owns the store."""
    if config.owner_channel != "auto":
        return config.owner_channel
    has_unix = hasattr(asyncio, "start_unix_server") and sys.platform != "win32"
    return "unix" if has_unix else "tcp"


def socket_path(data_dir: Path) -> Path:
    """``<data_dir>/owner.sock``, or a short path in the runtime / temp dir named after the
    data dir's hash when that would exceed the OS limit."""
    path = data_dir.resolve() / "owner.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    return base / f"mem0-mcp-{digest}.sock"


def address_path(data_dir: Path) -> Path:
    """Where a ``tcp`` owner publishes ``{"port", "secret"}``."""
    return data_dir / "owner.tcp.json"


def published(config: MemoryConfig) -> bool:
    """An owner (live, or killed and not yet replaced) has published a channel."""
    return address_path(config.data_dir).exists() or socket_path(config.data_dir).exists()


class Listener:
    """An owner's open channel."""

    def __init__(self, server: asyncio.AbstractServer, path: Path) -> None:
        self._server = server
        self._path = path

    def close(self) -> None:
        """Stop accepting connections (calls already accepted go on) and unpublish."""
        self._server.close()
        self._path.unlink(missing_ok=True)


async def listen(config: MemoryConfig, handler: Handler) -> Listener:
    """Offer ``kind(config)`` for ``config.data_dir``; ``handler`` serves each admitted
    connection. The caller must hold the owner lock."""
    data_dir = config.data_dir
    for stale in (socket_path(data_dir), address_path(data_dir)):
        stale.unlink(missing_ok=True)
    if kind(config) == "unix":
        path = socket_path(data_dir)
        server = await asyncio.start_unix_server(
            functools.partial(_admit, None, handler), path=str(path), limit=_wire.MAX_LINE
        )
        return Listener(server, path)
    secret = secrets.token_urlsafe(32)
    server = await asyncio.start_server(
        functools.partial(_admit, secret.encode(), handler),
        host="127.0.0.1",
        port=0,
        limit=_wire.MAX_LINE,
    )
    path = address_path(data_dir)
    _write_private(path, {"port": server.sockets[0].getsockname()[1], "secret": secret})
    return Listener(server, path)


async def connect(config: MemoryConfig) -> Streams:
    """A connection to the owner of ``config.data_dir``, admitted and ready for one call.

    Raises:
        Unreachable: no owner answers (none published, a stale address, nobody listening).
        StoreUnavailableError: the owner refused this process's secret.
    """
    path = address_path(config.data_dir)
    address: dict[str, Any] | None = None
    if path.exists():
        address = _read_address(path)
        opening = asyncio.open_connection("127.0.0.1", address["port"], limit=_wire.MAX_LINE)
    elif hasattr(asyncio, "open_unix_connection"):
        sock = str(socket_path(config.data_dir))
        opening = asyncio.open_unix_connection(sock, limit=_wire.MAX_LINE)
    else:
        raise Unreachable(f"no owner has published {path}")
    reader, writer = await _open(opening)
    try:
        admitted = await _handshake(reader, writer, address["secret"] if address else None)
    except BaseException:
        writer.close()
        raise
    if admitted:
        return reader, writer
    writer.close()
    if address is None or _read_address(path) != address:  # a new owner meanwhile
        raise Unreachable("the owner changed while connecting")
    raise StoreUnavailableError(
        f"the process that owns the store in {config.data_dir} refused the secret in "
        f"{path}; stop every mem0-mcp process using this data dir and start them again"
    )


async def _open(opening: Awaitable[Streams]) -> Streams:
    try:
        return await opening
    except OSError as exc:  # no socket, nobody listening, a stale port
        raise Unreachable(exc.strerror or str(exc)) from None


async def _handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, secret: str | None
) -> bool:
    """Send the secret (if any) and wait for the greeting; False when refused."""
    try:
        if secret is not None:
            writer.write(_wire.dumps({"secret": secret}))
            await writer.drain()
        reply = await _read_object(reader)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
        raise Unreachable(f"the owner did not greet this connection ({exc!r})") from None
    if "error" in reply:
        return False
    version = reply.get("hello")
    if not isinstance(version, int):
        raise Unreachable("something other than a mem0-mcp owner answered on its channel")
    if version != VERSION:
        raise StoreUnavailableError(
            f"the process that owns the store speaks owner-channel version {version}, this "
            f"one {VERSION}: they come from different mem0-mcp releases; restart every "
            "mem0-mcp process using this data dir (quit and reopen their clients)"
        )
    return True


async def _admit(
    secret: bytes | None,
    handler: Handler,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Owner side: greet and serve a connection, if it opens with ``secret`` when one is set."""
    if secret is None or await _has_secret(reader, secret):
        writer.write(_wire.dumps({"hello": VERSION}))
        await handler(reader, writer)
        return
    log.warning("refused an owner-channel connection without the right secret")
    refusal = StoreUnavailableError("wrong or missing owner-channel secret")
    with contextlib.suppress(OSError):
        writer.write(_wire.dumps({"error": _wire.encode_error(refusal)}))
        await writer.drain()
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _has_secret(reader: asyncio.StreamReader, secret: bytes) -> bool:
    try:
        given = (await _read_object(reader)).get("secret")
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
        return False
    return isinstance(given, str) and hmac.compare_digest(given.encode(), secret)


async def _read_object(reader: asyncio.StreamReader) -> dict[str, Any]:
    """One JSON object line; ``ValueError`` for anything else, ``TimeoutError`` if none."""
    line = await asyncio.wait_for(reader.readline(), HANDSHAKE_TIMEOUT)
    if not line:
        raise ValueError("connection closed")
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    return obj


def _read_address(path: Path) -> dict[str, Any]:
    try:
        address = json.loads(path.read_bytes())
        if not isinstance(address["port"], int) or not isinstance(address["secret"], str):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        raise Unreachable(f"{path} is missing or unreadable") from None
    return {"port": address["port"], "secret": address["secret"]}


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON readable by this user only (mkstemp creates 0600), all at once:
    a reader sees the old file or the new one, never a part."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
