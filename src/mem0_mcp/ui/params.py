"""What a dashboard URL or form asks for, turned into engine arguments.

A page is described by its query string: the scope (``user_id``, ``agent_id``, ``run_id``),
a search (``q``), filters (``filters``: mem0's filter syntax as JSON; ``since`` / ``until``:
dates of creation, inclusive), the list page (``offset``) and the scope-list narrowing
(``contains``). Parsing checks only what the engine cannot (JSON, dates, integers) and
raises ``InvalidInputError`` naming the field as the page labels it; everything else — scope
ids, filter keys and operators, limits, text sizes — is the engine's to check, so the
dashboard and the tools share one rule and one message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from ..errors import InvalidInputError
from ..scope import SCOPE_KEYS, Scope
from ..validation import MAX_OFFSET

# Longest search text / filter text read from a URL before the engine sees it: the
# engine's own limits are far lower, this only keeps a hostile URL from being parsed.
_MAX_FIELD = 64 * 1024


@dataclass(frozen=True, slots=True)
class View:
    """One dashboard page: the scope asked for (before any binding applies), the search,
    the filters as typed, the list offset and the scope-list narrowing."""

    user_id: str = ""
    agent_id: str = ""
    run_id: str = ""
    q: str = ""
    filters: str = ""
    since: str = ""
    until: str = ""
    offset: int = 0
    contains: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> View:
        """The view a query string asks for. Raises ``InvalidInputError`` for an offset that
        is not a whole number in range, or a field longer than any engine limit."""
        texts = ("user_id", "agent_id", "run_id", "q", "filters", "since", "until", "contains")
        return cls(**{n: _field(query, n) for n in texts}, offset=_offset(query.get("offset")))

    @property
    def ids(self) -> dict[str, str | None]:
        """The scope ids asked for (``None`` where not given)."""
        return {key: getattr(self, key) or None for key in SCOPE_KEYS}

    def engine_filters(self) -> dict[str, Any] | None:
        """``filters`` and the date range as one mem0 filter (``None`` when there is none).

        Raises ``InvalidInputError`` naming ``filters``, ``since`` or ``until``."""
        parts: list[dict[str, Any]] = []
        if self.filters.strip():
            parts.append(_json_object(self.filters, "filters"))
        if self.since:
            parts.append({"created_at": {"gte": _date(self.since, "since").isoformat()}})
        if self.until:  # inclusive: everything before the next day
            day_after = _date(self.until, "until") + timedelta(days=1)
            parts.append({"created_at": {"lt": day_after.isoformat()}})
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"AND": parts}

    def url(self, path: str = "/ui", **changes: Any) -> str:
        """The URL of this view at ``path`` with ``changes`` applied; empty fields are left
        out."""
        view = replace(self, **changes)
        pairs = [(f.name, getattr(view, f.name)) for f in fields(view)]
        query = urlencode([(k, v) for k, v in pairs if v not in ("", 0, None)])
        return path + (f"?{query}" if query else "")

    @classmethod
    def of_scope(cls, scope: Scope) -> View:
        """The first page of ``scope`` (no search, no filters)."""
        return cls(
            user_id=scope.user_id or "", agent_id=scope.agent_id or "", run_id=scope.run_id or ""
        )

    def scope_url(self, **ids: str) -> str:
        """The URL of the first page of the scope ``ids`` name (for templates)."""
        return View.of_scope(Scope(**ids)).url()

    @property
    def has_scope(self) -> bool:
        return any(self.ids.values())

    @property
    def filtered(self) -> bool:
        return bool(self.filters.strip() or self.since or self.until)


def _field(query: Mapping[str, str], name: str) -> str:
    value = query.get(name) or ""
    if len(value) > _MAX_FIELD:
        raise InvalidInputError(name, f"is {len(value)} characters, over {_MAX_FIELD}")
    return value.strip()


def _offset(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_OFFSET:
        raise InvalidInputError(
            "offset", f"{raw[:40]!r} is not a page position; use the page links (Newer / Older)"
        )
    return value


def _json_object(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(
            field, f'is not JSON ({exc}); write a JSON object, e.g. {{"topic": "food"}}'
        ) from None
    if not isinstance(value, dict):
        raise InvalidInputError(field, 'must be a JSON object, e.g. {"topic": "food"}')
    return value


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(field, f"{text[:40]!r} is not a date; use YYYY-MM-DD") from None


def form_metadata(text: str | None) -> dict[str, Any] | None:
    """The metadata of an edit form: ``None`` when the form has no metadata field (keep
    it), ``{}`` when it is blank (clear it), else the JSON object typed.

    Raises ``InvalidInputError`` naming ``metadata``."""
    if text is None:
        return None
    return _json_object(text, "metadata") if text.strip() else {}
