"""Templates (``templates/``, Jinja2) and how a response is rendered.

Every fragment template (history, edit form, one memory...) extends ``layout``, which is
``fragment.html`` for an htmx request that swaps a part of the page and ``standalone.html``
for anything else (a link opened in a new tab, a browser without JavaScript), so each view
works both ways from one template. Autoescaping is on for every template.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

ENV = Environment(
    loader=PackageLoader("mem0_mcp.ui", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(value: str | None) -> str:
    """An ISO 8601 time as ``2026-11-22 10:00:03 UTC`` (seconds are enough to read)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.utcoffset() is not None else "")


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) if value else ""


ENV.filters["when"] = when
ENV.filters["pretty_json"] = pretty_json
ENV.filters["compact_json"] = lambda v: json.dumps(v, ensure_ascii=False)


def is_partial(request: Request) -> bool:
    """True for an htmx request that swaps a part of the page: not a boosted navigation,
    not a history restore (both want the whole page)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered with ``context`` (plus ``layout`` and ``partial``)."""
    partial = is_partial(request)
    layout = "fragment.html" if partial else "standalone.html"
    html = ENV.get_template(template).render(**context, layout=layout, partial=partial)
    return HTMLResponse(html, status_code=status, headers=headers)
