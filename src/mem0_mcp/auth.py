"""Who is calling: one identity per request, resolved once, from exactly one credential.

HTTP transports with ``auth_tokens`` configured: ``IdentityMiddleware`` reads the request's
``Authorization`` headers before anything else runs and

* answers **400** when there is more than one (a proxy or client that sends two cannot be
  told apart from an attacker hoping that two layers read different ones);
* answers **401** when there is none, when it is not ``Bearer <token>`` with a well-formed
  token (RFC 6750 ``b64token``), or when the token is unknown (compared in constant time);
* otherwise stores the caller in the ASGI scope as ``scope["user"]`` — a ``TokenUser``,
  the SDK's ``AuthenticatedUser`` carrying our ``Identity`` — and ``scope["auth"]``.

Everything after it reads that one resolved identity and never the headers again: the
tools (``identity_of``), and the SDK's session managers, which tie every streamable-HTTP
and SSE session to the principal that opened it and answer 404 to any other (the SDK
compares ``AccessToken.client_id``, here a digest of the token, never the token itself).

``/health`` is public. stdio, and HTTP without tokens (loopback only, see
``check_exposure``), have one caller: the local user, bound to no scope.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope

from .config import MemoryConfig
from .errors import ConfigError, PermissionDeniedError
from .scope import Scope

PUBLIC_PATHS = frozenset({"/health"})
# RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9\-._~+/]+=*)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller of one request.

    ``principal``: ``"local"`` (stdio, or HTTP without tokens) or ``"token:<digest>"``
    (the first 16 hex digits of the token's sha256: stable, unique in practice, and safe
    to log). ``bound``: the scope every call of this caller is confined to (``None``: any).
    """

    principal: str
    bound: Scope | None = None


LOCAL = Identity("local")


class TokenUser(AuthenticatedUser):
    """``scope["user"]`` for a request with a known token: the SDK's user type (so its
    transports bind sessions to it) plus our ``Identity``."""

    def __init__(self, identity: Identity) -> None:
        principal = identity.principal
        super().__init__(AccessToken(token=principal, client_id=principal, scopes=[]))
        self.caller = identity


def resolve_token(config: MemoryConfig, token: str) -> Identity | None:
    """The identity of a configured token, or ``None`` for an unknown one. Every configured
    token is compared (in constant time), so timing does not reveal which one matched."""
    found: Identity | None = None
    for known, binding in config.auth_tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            ids = binding.model_dump()
            digest = hashlib.sha256(known.encode()).hexdigest()[:16]
            found = Identity(f"token:{digest}", Scope(**ids) if any(ids.values()) else None)
    return found


def identity_of(request: Any, config: MemoryConfig) -> Identity:
    """The identity ``IdentityMiddleware`` resolved for ``request`` (a Starlette request, or
    ``None`` on stdio).

    Raises ``PermissionDeniedError`` for an HTTP request without a resolved identity while
    tokens are configured (a route the middleware does not cover): never "unbound".
    """
    scope = getattr(request, "scope", None)
    user = scope.get("user") if isinstance(scope, dict) else None
    if isinstance(user, TokenUser):
        return user.caller
    if request is None or not config.auth_tokens:
        return LOCAL
    raise PermissionDeniedError("Authorization", "this request carries no known bearer token")


class IdentityMiddleware:
    """ASGI middleware resolving the caller once per HTTP request (module docstring)."""

    def __init__(self, app: ASGIApp, config: MemoryConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope["headers"] if k.lower() == b"authorization"]
        if len(values) > 1:
            await _deny(send, 400, "invalid_request", "send exactly one Authorization header")
            return
        if not self.config.auth_tokens or scope.get("path") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        if not values:
            await _deny(send, 401, "invalid_request", "send Authorization: Bearer <token>")
            return
        match = _BEARER.match(values[0].decode("latin-1").strip())
        identity = resolve_token(self.config, match.group(1)) if match else None
        if identity is None:
            await _deny(send, 401, "invalid_token", "unknown or malformed bearer token")
            return
        scope["user"] = TokenUser(identity)
        scope["auth"] = AuthCredentials([])
        await self.app(scope, receive, send)


async def _deny(send: Send, status: int, error: str, description: str) -> None:
    body = f'{{"error":"{error}","error_description":"{description}"}}'.encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        challenge = f'Bearer realm="mem0-mcp", error="{error}"'
        headers.append((b"www-authenticate", challenge.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def check_exposure(config: MemoryConfig) -> None:
    """Refuse to serve HTTP beyond loopback without tokens, unless explicitly allowed.

    Raises ``ConfigError`` naming the settings that fix it.
    """
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
