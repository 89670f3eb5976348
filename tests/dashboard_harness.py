"""What the dashboard's tests share: a running server with memories put in (and checked)
through the real MCP tools, the page's csrf token, and Debian's Chromium for Playwright."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_harness import ToolFailed, call, http_server, server_env

CHROMIUM = "/usr/bin/chromium"  # Debian's package, installed by `make browser`
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "ui"
TOKENS = {"alice-token": {"user_id": "alice"}, "admin-token": {}}


@dataclass
class Server:
    """A ``mem0-mcp serve --transport http`` process: its URL, settings and an admin token
    (``None`` without tokens) for the MCP calls that check what the dashboard did."""

    url: str
    env: dict[str, str]
    token: str | None = None
    ids: dict[str, str] = field(default_factory=dict)

    def headers(self, token: str | None = None) -> dict[str, str]:
        token = token or self.token
        return {"Authorization": f"Bearer {token}"} if token else {}

    @asynccontextmanager
    async def mcp(self) -> AsyncIterator[ClientSession]:
        http = httpx.AsyncClient(headers=self.headers(), timeout=30)
        async with (
            streamable_http_client(f"{self.url}/mcp", http_client=http) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session

    async def tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        """One MCP tool call in its own session; raises ``ToolFailed`` on a tool error,
        once the session is closed (inside it, the SDK's task groups would wrap it in an
        ``ExceptionGroup``)."""
        async with self.mcp() as session:
            try:
                result: dict[str, Any] | ToolFailed = await call(session, name, **arguments)
            except ToolFailed as exc:
                result = exc
        if isinstance(result, ToolFailed):
            raise result
        return result

    async def add(self, text: str, **arguments: Any) -> str:
        result = await self.tool("add_memory", text=text, infer=False, **arguments)
        return result["results"][0]["id"]

    async def memory_text(self, memory_id: str) -> str:
        return (await self.tool("get_memory", memory_id=memory_id))["memory"]


@contextmanager
def running_server(data_dir: Path, model_dir: Path, **settings: str) -> Iterator[Server]:
    """A server on a fresh data dir with ``settings`` (``MEM0_MCP_*`` names); with
    ``MEM0_MCP_AUTH_TOKENS`` set to ``TOKENS``, its admin token is used for MCP calls."""
    env = server_env(data_dir, model_dir, **settings)
    token = "admin-token" if "MEM0_MCP_AUTH_TOKENS" in settings else None
    with http_server(env) as url:
        yield Server(url, env, token)


def token_settings() -> dict[str, str]:
    return {"MEM0_MCP_AUTH_TOKENS": json.dumps(TOKENS)}


def csrf_of(html: str) -> str:
    """The csrf token of the first form in ``html``."""
    found = re.search(r'name="csrf" value="([0-9a-f]{32})"', html)
    assert found, "no csrf field in the page"
    return found.group(1)
