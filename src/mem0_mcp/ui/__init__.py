"""The memory dashboard: see, search, correct and audit memories in a browser, at ``/ui``.

Server-rendered pages (Jinja2 templates) made interactive with htmx, vendored in
``static/`` with its license (no CDN, no build step, works offline). Served by the HTTP
transports' app (``http_app.build_http_app``: same process, same tokens, same Host/Origin
checks) and by ``mem0-mcp ui`` for a data dir used by stdio clients (``cli/ui.py``).

One job per module:

* ``views``: the routes and handlers; every read and write an engine call (``MemoryAPI``)
  as the request's caller.
* ``params``: what a URL or form asks for → engine arguments.
* ``guard``: CSRF tokens, cross-site refusal, security headers.
* ``entrance``: what is served before the caller is known (static files, sign-in page),
  Host/Origin checks, body cap.
* ``render``: templates, whole page or fragment.
* ``export``: a scope as JSON Lines.

Pages are laid out in sections (scopes, memories) so that a section for graph memory
(entities and relations) can be added beside them.
"""

from __future__ import annotations

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.types import ASGIApp

from ..api import MemoryAPI
from ..auth import IdentityMiddleware
from ..config import MemoryConfig
from .entrance import Entrance
from .guard import Guard
from .views import Dashboard

__all__ = ["with_dashboard"]


def with_dashboard(
    app: Starlette, memory: MemoryAPI, config: MemoryConfig, security: TransportSecuritySettings
) -> ASGIApp:
    """``app`` with the dashboard's routes added, behind ``IdentityMiddleware`` (every
    request's caller resolved once) and the ``Entrance`` (module ``entrance``).

    ``memory``: the engine API the pages call; ``security``: the Host/Origin settings of
    the MCP transports, applied to the dashboard too.
    """
    app.router.routes.extend(Dashboard(memory, config, Guard(config)).routes())
    return Entrance(IdentityMiddleware(app, config), config, security)
