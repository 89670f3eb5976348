"""Bearer-token authentication for the HTTP transports, and the scope a token is bound to.

Tokens come from ``auth_tokens`` (token → ``TokenScope``). ``BearerAuthMiddleware`` answers
401 to any request without a known token, except ``/health``. Tools then read the token
again from the request headers (``bound_scope``): a token bound to ``user_id=alice`` makes
every call act as alice, whatever ``user_id`` the call names, and operations by
``memory_id`` see only alice's memories. stdio has no tokens: its user is the local user.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope

from .config import MemoryConfig
from .models import Scope

PUBLIC_PATHS = frozenset({"/health"})


def _bearer(headers: Mapping[str, str] | None) -> str | None:
    if not headers:
        return None
    value = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def lookup(config: MemoryConfig, token: str | None) -> Scope | None | bool:
    """The bound ``Scope`` for a known token (``None`` when it is bound to nothing), or
    ``False`` for a missing or unknown one. Compared in constant time."""
    if token is None:
        return False
    found: Scope | None | bool = False
    for known, bound in config.auth_tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            ids = bound.model_dump()
            found = Scope(**ids) if any(ids.values()) else None
    return found


def bound_scope(config: MemoryConfig, headers: Mapping[str, str] | None) -> Scope | None:
    """The scope the current request's token is bound to; ``None`` for no binding (no
    tokens configured, stdio, or an unbound token)."""
    if not config.auth_tokens or headers is None:
        return None
    found = lookup(config, _bearer(headers))
    return found if isinstance(found, Scope) else None


def apply_scope(bound: Scope | None, **ids: str | None) -> dict[str, str | None]:
    """Scope arguments with the bound ids overriding the caller's."""
    if bound is None:
        return ids
    return {key: getattr(bound, key) or value for key, value in ids.items()}


class BearerAuthMiddleware:
    """ASGI middleware: 401 unless ``Authorization: Bearer <known token>`` (``/health``
    is public)."""

    def __init__(self, app: ASGIApp, config: MemoryConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if lookup(self.config, _bearer(headers)) is False:
            await _unauthorized(send)
            return
        await self.app(scope, receive, send)


async def _unauthorized(send: Send) -> None:
    body = b'{"error":"unauthorized","error_description":"send Authorization: Bearer <token>"}'
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"www-authenticate", b'Bearer realm="mem0-mcp"'),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def check_exposure(config: MemoryConfig) -> None:
    """Refuse to serve HTTP beyond loopback without tokens, unless explicitly allowed.

    Raises ``ConfigError`` naming the settings that fix it.
    """
    from .errors import ConfigError

    if is_loopback(config.host) or config.auth_tokens or config.allow_unauthenticated:
        return
    raise ConfigError(
        f"refusing to serve on {config.host} without authentication: anyone who can reach "
        "it could read and change every memory. Set MEM0_MCP_AUTH_TOKENS (e.g. "
        '\'{"<token>": {"user_id": "alice"}}\'), bind to 127.0.0.1, or set '
        "MEM0_MCP_ALLOW_UNAUTHENTICATED=true if something in front of it authenticates."
    )


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
