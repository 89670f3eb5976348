"""A scripted LLM HTTP server on 127.0.0.1 for tests.

``LLMStub`` speaks the OpenAI Chat Completions wire format (``POST /v1/chat/completions``)
and the Anthropic Messages wire format (``POST /v1/messages``). Each request takes the
next ``Reply`` from the script (``stub.script(...)``); an unscripted request gets a 500
that the SDKs do not retry. ``stub.reject(mode)`` refuses every request in a structured
output mode without consuming the script, like llama.cpp answering 500 to
``json_schema``. Every request is recorded (``stub.requests``, ``stub.modes``).

Error replies carry ``retry-after-ms: 1`` so the SDKs' own retries do not slow tests down.

Usage::

    from llm_stub import LLMStub, Reply

    with LLMStub.running() as stub:
        stub.script(Reply(json={"facts": ["a"]}))
        OpenAILLM(config(llm_base_url=stub.openai_url))...

or the ``llm_server`` fixture (import it into a test module, or wrap ``running()``).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Reply:
    """One scripted answer.

    ``json``: an object returned where the request's mode puts output (tool-call
    arguments / ``tool_use`` input for tool requests, message text otherwise).
    ``text``: raw text instead (OpenAI tool mode: the raw arguments string; Anthropic:
    a text block). ``as_content``: answer a tool request with text content, as servers
    that ignore tools do. ``status`` >= 400 sends an error with ``error`` as message.
    ``delay``: seconds to wait before answering (for timeouts).
    """

    json: Any = None
    text: str | None = None
    status: int = 200
    error: str = "stub error"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    as_content: bool = False
    finish_reason: str | None = None


@dataclass
class Recorded:
    """A request the stub received. ``mode``: json_schema | tool | json_object | text
    (OpenAI) or anthropic_tool | anthropic_text."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    mode: str

    @property
    def system(self) -> str:
        if "system" in self.body:
            return str(self.body["system"])
        return next((m["content"] for m in self.body["messages"] if m["role"] == "system"), "")

    @property
    def prompt(self) -> str:
        user = [m for m in self.body["messages"] if m["role"] == "user"]
        content = user[-1]["content"] if user else ""
        return content if isinstance(content, str) else json.dumps(content)


class LLMStub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: deque[Reply] = deque()
        self._rejected: dict[str, tuple[int, str]] = {}
        self._responder: Callable[[Recorded], Reply] | None = None
        self._stopping = threading.Event()
        self.requests: list[Recorded] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # delayed handlers must not hold up teardown
        # A short poll interval keeps shutdown (every test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- scripting ---------------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def respond(self, responder: Callable[[Recorded], Reply]) -> None:
        """Answer requests the script does not cover with ``responder(request)``."""
        self._responder = responder

    def reject(self, mode: str, status: int = 500, message: str | None = None) -> None:
        """Refuse every request in ``mode`` with ``status`` (not consuming the script)."""
        self._rejected[mode] = (status, message or f"stub: {mode} is not supported")

    @property
    def modes(self) -> list[str]:
        return [r.mode for r in self.requests]

    @property
    def remaining(self) -> int:
        return len(self._script)

    # --- lifecycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_url(self) -> str:
        return self.url

    def start(self) -> LLMStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[LLMStub]:
        stub = cls().start()
        try:
            yield stub
        finally:
            stub.stop()

    # --- request handling (handler threads) --------------------------------------------
    def _answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple:
        anthropic = path.rstrip("/").endswith("/messages")
        mode = _anthropic_mode(body) if anthropic else _openai_mode(body)
        with self._lock:
            recorded = Recorded(path, headers, body, mode)
            self.requests.append(recorded)
            rejected = self._rejected.get(mode)
            reply = None
            if not rejected:
                if self._script:
                    reply = self._script.popleft()
                elif self._responder is not None:
                    reply = self._responder(recorded)
        if rejected:
            return _error(anthropic, rejected[0], rejected[1], {})
        if reply is None:
            no_retry = {"x-should-retry": "false"}
            return _error(anthropic, 500, "llm_stub: no scripted reply left", no_retry)
        if reply.delay and self._stopping.wait(reply.delay):
            return 503, {}, {}
        if reply.status >= 400:
            return _error(anthropic, reply.status, reply.error, reply.headers)
        payload = _anthropic_body(body, reply) if anthropic else _openai_body(body, reply)
        return 200, reply.headers, payload


def _handler_for(stub: LLMStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = stub._answer(self.path, headers, body)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test)

        def do_GET(self) -> None:  # noqa: N802 - GET /v1/models, what `doctor` calls
            if not self.path.rstrip("/").endswith("/models"):
                self.send_error(404)
                return
            model = {"id": "stub-model", "object": "model", "created": 0, "owned_by": "stub"}
            model.update(type="model", display_name="stub", created_at="2026-01-01T00:00:00Z")
            page = {"object": "list", "data": [model], "has_more": False}
            page.update(first_id="stub-model", last_id="stub-model")
            data = json.dumps(page).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


def _openai_mode(body: dict[str, Any]) -> str:
    rf = body.get("response_format") or {}
    if rf.get("type") in ("json_schema", "json_object"):
        return str(rf["type"])
    return "tool" if body.get("tools") else "text"


def _anthropic_mode(body: dict[str, Any]) -> str:
    return "anthropic_tool" if body.get("tools") else "anthropic_text"


def _error(anthropic: bool, status: int, message: str, headers: dict[str, str]) -> tuple:
    headers = {"retry-after-ms": "1", **headers}
    if anthropic:
        kind = "rate_limit_error" if status == 429 else "api_error"
        return status, headers, {"type": "error", "error": {"type": kind, "message": message}}
    return status, headers, {"error": {"message": message, "type": "stub_error", "code": status}}


def _reply_text(reply: Reply) -> str:
    return reply.text if reply.text is not None else json.dumps(reply.json)


def _openai_body(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish = "stop"
    tools = request.get("tools") or []
    if tools and not reply.as_content:
        name = tools[0]["function"]["name"]
        function = {"name": name, "arguments": _reply_text(reply)}
        message["tool_calls"] = [{"id": "call_1", "type": "function", "function": function}]
        finish = "tool_calls"
    else:
        message["content"] = _reply_text(reply)
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "stub"),
        "choices": [
            {"index": 0, "message": message, "finish_reason": reply.finish_reason or finish}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _anthropic_body(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    tools = request.get("tools") or []
    if tools and reply.text is None and not reply.as_content:
        content: list[dict[str, Any]] = [
            {"type": "tool_use", "id": "toolu_1", "name": tools[0]["name"], "input": reply.json}
        ]
        stop = "tool_use"
    else:
        content = [{"type": "text", "text": _reply_text(reply)}]
        stop = "end_turn"
    return {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "stub"),
        "content": content,
        "stop_reason": reply.finish_reason or stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


@pytest.fixture
def llm_server() -> Iterator[LLMStub]:
    """A running ``LLMStub``, stopped after the test."""
    with LLMStub.running() as stub:
        yield stub
