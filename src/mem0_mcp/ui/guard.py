"""The dashboard's defences against other web sites.

A dashboard on loopback without tokens is exactly what a malicious page would aim a
cross-site request at: the browser of the person running it can reach 127.0.0.1, and a
plain HTML form may POST there from any site. So a request that changes something (every
``POST``) must pass both checks below, and every response forbids framing (no clickjacking
of the Delete button) and inline script (CSP):

* **Origin**: browsers send it with every POST. It must name this server (the request's own
  ``Host``) or one of ``allowed_origins``; a foreign or opaque (``null``) origin is refused,
  and so is ``Sec-Fetch-Site: cross-site`` / ``same-site`` where the browser sends it.
* **CSRF token**: every form carries ``csrf``, an HMAC of the caller's principal under a
  key made when the process starts. Another site cannot read it (same-origin policy; Host
  checks stop DNS rebinding), so it cannot forge a form that passes. It is bound to the
  caller, so one token holder's page cannot be replayed by another.

Host and Origin are first checked on every ``/ui`` request against DNS rebinding, with the
same settings as the MCP transports (``entrance.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

from ..auth import Identity
from ..config import MemoryConfig

# Every dashboard response: no framing, no inline or foreign script or style, no referrer,
# nothing cached (pages hold private memories).
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")


class Refused(Exception):
    """A request the guard refuses: ``status`` and a message saying why and what to do."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


class Guard:
    """CSRF tokens and the cross-site checks for one server process."""

    def __init__(self, config: MemoryConfig) -> None:
        self.allowed_origins = set(config.allowed_origins)
        self._key = secrets.token_bytes(32)

    def csrf_token(self, identity: Identity) -> str:
        """The token the caller's forms carry (hex, 32 characters)."""
        digest = hmac.new(self._key, identity.principal.encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def check_write(self, request: Request, identity: Identity, token: str | None) -> None:
        """Refuse a state-changing request that did not come from this dashboard's own page.

        Raises ``Refused`` (403) naming the header or field that failed."""
        origin = request.headers.get("origin")
        if origin is not None and not self._same_origin(origin, request):
            raise Refused(
                403,
                f"refused: this request came from another site (Origin {origin[:100]}); "
                "change memories from the dashboard's own page",
            )
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site not in (None, "same-origin", "none"):
            raise Refused(
                403,
                f"refused: the browser says this request came from a {fetch_site} page; "
                "change memories from the dashboard's own page",
            )
        if not token or not hmac.compare_digest(token, self.csrf_token(identity)):
            raise Refused(
                403,
                "refused: the form's csrf token is missing or out of date (the server may have "
                "restarted); reload the page and try again",
            )

    def _same_origin(self, origin: str, request: Request) -> bool:
        if origin in self.allowed_origins:
            return True
        parts = urlsplit(origin)
        host = request.headers.get("host", "")
        # Scheme is not compared: behind a TLS-terminating proxy the browser's https origin
        # reaches us as plain http on the same Host.
        return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host
