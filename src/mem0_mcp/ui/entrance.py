"""What stands in front of the dashboard, before the caller is known.

``Entrance`` wraps the whole HTTP app (``auth.IdentityMiddleware`` and everything inside)
and handles ``/ui`` requests first; every other path passes through untouched:

1. Host and Origin are checked against DNS rebinding with the MCP transports' settings
   (``http_app.transport_security``): loopback names on a loopback bind.
2. Every response gets the guard's security headers (``guard.SECURITY_HEADERS``).
3. ``/ui/static/...`` (htmx, the stylesheet, the script, the icon) is served to anyone:
   it holds no data, and a browser loads it without the token.
4. With ``auth_tokens`` set, a page opened in the browser (a ``GET`` without an
   ``Authorization`` header, not an htmx request) gets the sign-in page: it holds no data,
   asks for the token, keeps it in the tab's ``sessionStorage`` and loads the page asked
   for again with ``Authorization: Bearer`` — from then on every request carries it
   (``static/dashboard.js``) and ``IdentityMiddleware`` resolves it like any other.
5. Request bodies are capped at ``max_request_bytes``, as on the MCP transports.

``GET /`` redirects to ``/ui`` (nothing else is served there).
"""

from __future__ import annotations

from mcp.server.transport_security import (
    RequestBodyLimitMiddleware,
    TransportSecurityMiddleware,
    TransportSecuritySettings,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import MemoryConfig
from .guard import NO_STORE, SECURITY_HEADERS
from .render import render

STATIC = "/ui/static/"


class Entrance:
    """ASGI app: ``/ui`` requests as the module docstring says, the rest to ``app``."""

    def __init__(
        self, app: ASGIApp, config: MemoryConfig, security: TransportSecuritySettings
    ) -> None:
        self.app = app
        self.tokens = bool(config.auth_tokens)
        self.hosts = TransportSecurityMiddleware(security)
        self.limited = RequestBodyLimitMiddleware(app, config.max_request_bytes)
        self.static = Starlette(
            routes=[Mount("/ui/static", StaticFiles(packages=[("mem0_mcp.ui", "static")]))]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/" and scope["method"] == "GET":  # a person typing the address
            await RedirectResponse("/ui", status_code=307)(scope, receive, send)
            return
        if path != "/ui" and not path.startswith("/ui/"):
            await self.app(scope, receive, send)
            return
        send = _with_headers(send, static=path.startswith(STATIC))
        request = Request(scope)
        refused = await self.hosts.validate_request(request)
        if refused is not None:
            await _refusal(request, refused.status_code)(scope, receive, send)
        elif path.startswith(STATIC):
            await self.static(scope, receive, send)
        elif self.tokens and _opened_in_browser(request):
            page = render(request, "signin.html", {"tokens": True})
            await page(scope, receive, send)
        else:
            await self.limited(scope, receive, send)


def _refusal(request: Request, status: int) -> PlainTextResponse:
    """The transport security's refusal (421 Host, 403 Origin) in words that say the fix."""
    if status == 421:
        host = request.headers.get("host", "")[:100]
        text = (
            f"refused: this server does not answer to the name {host!r} (Host header); open "
            "the dashboard at the address it was started on, or add the name to "
            "MEM0_MCP_ALLOWED_HOSTS"
        )
    else:
        origin = request.headers.get("origin", "")[:100]
        text = (
            f"refused: requests from {origin!r} (Origin header) are not accepted; use the "
            "dashboard's own page, or add the origin to MEM0_MCP_ALLOWED_ORIGINS"
        )
    return PlainTextResponse(text, status_code=status)


def _opened_in_browser(request: Request) -> bool:
    headers = request.headers
    return (
        request.method == "GET"
        and "authorization" not in headers
        and headers.get("hx-request") != "true"
    )


def _with_headers(send: Send, *, static: bool) -> Send:
    extra = SECURITY_HEADERS if static else [*SECURITY_HEADERS, NO_STORE]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending
