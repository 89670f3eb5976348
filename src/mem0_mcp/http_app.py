"""The ASGI app of the HTTP transports.

Paths follow the ``mcp`` SDK defaults: streamable HTTP at ``/mcp``; SSE at ``/sse`` with
messages posted to ``/messages/``. ``transport="http"`` serves both on one port.
``/health`` answers without credentials and says only whether the server is up and its
store ready. ``auth.IdentityMiddleware`` resolves the caller of every other request (and
with ``auth_tokens`` set, refuses anything but exactly one known bearer token). Request
bodies are capped at ``max_request_bytes``, the same cap as a stdio line. ``/ui`` is the
memory dashboard (``ui/``), under the same tokens and Host/Origin checks.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .auth import is_loopback
from .config import MemoryConfig
from .ui import with_dashboard


def transport_security(config: MemoryConfig) -> TransportSecuritySettings:
    """Host / Origin checks against DNS rebinding (the SDK's transport security): the
    loopback names on a loopback bind, ``allowed_hosts`` / ``allowed_origins`` elsewhere
    (no check when those are empty)."""
    if is_loopback(config.host):
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=bool(config.allowed_hosts),
        allowed_hosts=config.allowed_hosts,
        allowed_origins=config.allowed_origins,
    )


def build_http_app(server: MCPServer, memory: Any, config: MemoryConfig) -> Any:
    """The ASGI app for ``config.transport`` (``sse``, ``streamable-http`` or ``http``)."""
    options: dict[str, Any] = {
        "transport_security": transport_security(config),
        "host": config.host,
        "max_request_body_size": config.max_request_bytes,
    }
    if config.transport == "sse":
        app: Starlette = server.sse_app(**options)
    else:
        app = server.streamable_http_app(**options)
        if config.transport == "http":
            sse = server.sse_app(**options)
            known = {getattr(r, "path", None) for r in app.routes}
            app.router.routes.extend(r for r in sse.routes if getattr(r, "path", None) not in known)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "ready": memory.is_ready})

    app.router.routes.append(Route("/health", health, methods=["GET"]))
    return with_dashboard(app, memory, config, options["transport_security"])
