"""Real images made with Pillow, and a small HTTP server on a loopback address that serves
them (and misbehaves on request) for the image-fetching tests.

Routes of ``ImageServer``: ``/img.png`` (a PNG), ``/page.html`` (HTML), ``/big`` (a body
over any small limit, with its ``Content-Length``), ``/big-chunked`` (the same without
one), ``/slow`` (answers after ``slow`` seconds), ``/loop`` (redirects to itself),
``/to?url=U`` (redirects to ``U``); anything else is a 404. ``hits`` records each path
requested, so a test can show a server was never contacted.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (16, 16), color: str = "red") -> bytes:
    """An image of one colour (a few hundred bytes at most), or of random pixels with
    ``color="noise"`` (about 3 bytes a pixel, whatever the format)."""
    if color == "noise":
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, color)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


class ImageServer:
    def __init__(self, host: str = "127.0.0.1", *, slow: float = 3.0) -> None:
        self.png = image_bytes()
        self.slow = slow
        self.hits: list[str] = []
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @classmethod
    @contextmanager
    def running(cls, host: str = "127.0.0.1", **kwargs: Any) -> Iterator[ImageServer]:
        server = cls(host, **kwargs)
        server._thread.start()
        try:
            yield server
        finally:
            server._stopping.set()
            server._server.shutdown()
            server._server.server_close()
            server._thread.join(timeout=5)


def _handler(server: ImageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            server.hits.append(parts.path)
            if parts.path == "/img.png":
                self._send(200, server.png, "image/png")
            elif parts.path == "/page.html":
                self._send(200, b"<html><body>not an image</body></html>", "image/png")
            elif parts.path == "/big":
                self._send(200, b"\0" * 100_000, "image/png")
            elif parts.path == "/big-chunked":
                self.send_response(200)
                self.send_header("content-type", "image/png")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                chunk = b"\0" * 10_000
                for _ in range(10):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            elif parts.path == "/slow":
                if not server._stopping.wait(server.slow):
                    self._send(200, server.png, "image/png")
            elif parts.path == "/loop":
                self._redirect("/loop")
            elif parts.path == "/to":
                self._redirect(parse_qs(parts.query)["url"][0])
            else:
                self._send(404, b"not found", "text/plain")

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("location", location)
            self.send_header("content-length", "0")
            self.end_headers()

        def _send(self, status: int, body: bytes, kind: str) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (size cap, timeout)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler
