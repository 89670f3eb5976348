"""One Starlette app serving both HTTP transports on one port.

Paths follow the ``mcp`` SDK defaults: streamable HTTP at ``/mcp``; SSE at ``/sse`` with
messages posted to ``/messages/``. ``/health`` answers without credentials and says only
whether the server is up and its store ready.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .memory import AsyncMemory


def transport_security(host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding protection (Host / Origin checks) for loopback binds; ``None`` lets
    the SDK decide for other hosts."""
    if host in ("127.0.0.1", "localhost", "::1"):
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    return None


def build_http_app(server: MCPServer, memory: AsyncMemory, *, host: str) -> Starlette:
    """Streamable HTTP + SSE + ``/health`` in one ASGI app (lifespan included)."""
    security = transport_security(host)
    app = server.streamable_http_app(transport_security=security, host=host)
    sse = server.sse_app(transport_security=security, host=host)
    known = {getattr(r, "path", None) for r in app.routes}
    app.router.routes.extend(r for r in sse.routes if getattr(r, "path", None) not in known)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "ready": memory.is_ready})

    app.router.routes.append(Route("/health", health, methods=["GET"]))
    return app
