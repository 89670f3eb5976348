"""The dashboard's pages and fragments: one handler per route, each a few engine calls.

Every read and write is a ``MemoryAPI`` call (``scopes``, ``get_all``, ``search``, ``get``,
``history``, ``update``, ``delete``), made as the request's caller: the identity
``auth.IdentityMiddleware`` resolved, whose bound scope applies exactly as for the tools
(``scope.bind`` for scope ids, ``scope=`` for calls by id). So the same validation, the
same history journal and the same refusals hold; nothing here reads a store directly.

Routes (all under ``/ui``):

    GET  /ui                               the page: scopes, memories (list or search)
    GET  /ui/export                        the scope as JSON Lines (a download)
    GET  /ui/memories/{id}                 one memory
    GET  /ui/memories/{id}/history         its history, oldest first
    GET  /ui/memories/{id}/edit            the edit form
    POST /ui/memories/{id}/edit            save: ``update``
    GET  /ui/memories/{id}/delete          the confirmation
    POST /ui/memories/{id}/delete          delete: ``delete``

Errors are shown where the person is looking: an htmx request for one memory gets the
message in that memory's error slot (``HX-Retarget``), a page gets it above the list; the
status code says what kind (400 bad input, 403 refused, 404 unknown, 409 changed meanwhile,
503 store unavailable).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .. import errors
from ..api import MemoryAPI
from ..auth import Identity, identity_of
from ..config import MemoryConfig
from ..models import MemoryItem, ScopeCount, ScopeList
from ..scope import Scope, ScopeIds, bind
from . import export
from .guard import Guard, Refused
from .params import View, form_metadata
from .render import is_partial, render

log = logging.getLogger(__name__)

PAGE_SIZE = 25
SEARCH_LIMIT = 20
SCOPE_LIMIT = 50
# Form fields read from a POST: the text, the metadata, the csrf token.
_MAX_FIELDS = 8

_STATUS: list[tuple[type[Exception], int]] = [
    (errors.InvalidInputError, 400),
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.StoreUnavailableError, 503),
    (errors.OutcomeUnknownError, 503),
]


class Dashboard:
    """The dashboard's handlers on ``memory`` (any ``MemoryAPI``), configured by ``config``."""

    def __init__(self, memory: MemoryAPI, config: MemoryConfig, guard: Guard) -> None:
        self.memory = memory
        self.config = config
        self.guard = guard

    def routes(self) -> list[Route]:
        one = "/ui/memories/{memory_id}"
        return [
            Route("/ui", self._page, methods=["GET"]),
            Route("/ui/export", self._export, methods=["GET"]),
            Route(one, self._memory, methods=["GET"]),
            Route(f"{one}/history", self._history, methods=["GET"]),
            Route(f"{one}/edit", self._edit_form, methods=["GET"]),
            Route(f"{one}/edit", self._save, methods=["POST"]),
            Route(f"{one}/delete", self._confirm_delete, methods=["GET"]),
            Route(f"{one}/delete", self._delete, methods=["POST"]),
        ]

    # --- the page ------------------------------------------------------------------------

    async def _page(self, request: Request) -> Response:
        identity = identity_of(request, self.config)
        context = self._context(identity) | {
            "scope": None,
            "scopes": None,
            "in_scope": None,
            "narrow": [],
            "export_url": None,
            "items": None,
            "newer_url": None,
            "older_url": None,
        }
        status = 200
        try:
            view = View.of(request.query_params)
        except errors.InvalidInputError as exc:
            view, status, context["error"] = View(), 400, str(exc)
        context["view"] = view
        try:
            ids = bind(identity.bound, **view.ids)
            context["scope"] = Scope(**ids)
            context["scopes"] = await self.memory.scopes(
                **_bound_ids(identity),
                contains=view.contains or None,
                limit=self._limit(SCOPE_LIMIT),
            )
            if any(ids.values()):
                context.update(await self._scope_head(view, ids))
                context.update(await self._listing(view, ids))
        except errors.Mem0MCPError as exc:
            status, context["error"] = _status(exc), str(exc)
        # A boosted search form would show every empty field in the address bar.
        headers = {"HX-Push-Url": view.url()} if request.headers.get("hx-boosted") else None
        return render(request, "page.html", context, status=status, headers=headers)

    async def _scope_head(self, view: View, ids: ScopeIds) -> dict[str, Any]:
        """What is said about a scope above its memories: its count, the narrower scopes
        within it, the export link."""
        scope = Scope(**ids)
        within = await self.memory.scopes(**ids, limit=self._limit(SCOPE_LIMIT))
        narrow = [
            {
                "label": f"{_KIND_LABEL[key]} {entry.id}",
                "count": entry.memories,
                "url": View.of_scope(scope.model_copy(update={key: entry.id})).url(),
            }
            for key, entries in _kinds(within)
            if getattr(scope, key) is None
            for entry in entries
        ]
        return {
            "in_scope": within.memories,
            "narrow": narrow,
            "export_url": View.of_scope(scope).url("/ui/export"),
        }

    async def _listing(self, view: View, ids: ScopeIds) -> dict[str, Any]:
        """The scope's memories: search results in rank order, or a page, newest first."""
        filters = view.engine_filters()
        if view.q:
            found = await self.memory.search(
                view.q, **ids, filters=filters, limit=self._limit(SEARCH_LIMIT)
            )
            return {"items": found.results}
        size = self._limit(PAGE_SIZE)
        page = await self.memory.get_all(**ids, filters=filters, limit=size, offset=view.offset)
        return {
            "items": page.results,
            "newer_url": view.url(offset=max(view.offset - size, 0)) if view.offset else None,
            "older_url": view.url(offset=page.next_offset) if page.next_offset else None,
        }

    async def _export(self, request: Request) -> Response:
        identity = identity_of(request, self.config)
        try:
            ids = bind(identity.bound, **View.of(request.query_params).ids)
            if not any(ids.values()):
                raise errors.InvalidInputError(
                    "user_id", "choose a user, agent or run to export its memories"
                )
            first = await export.first_page(self.memory, ids)
        except errors.Mem0MCPError as exc:
            return self._error(request, exc, None)
        return StreamingResponse(
            export.lines(self.memory, ids, first),
            media_type="application/x-ndjson; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{export.filename(ids)}"'},
        )

    # --- one memory ----------------------------------------------------------------------

    async def _memory(self, request: Request) -> Response:
        return await self._about(request, "memory_page.html", self._item)

    async def _history(self, request: Request) -> Response:
        async def history(identity: Identity, memory_id: str) -> dict[str, Any]:
            found = await self.memory.history(memory_id, scope=identity.bound)
            return {"events": found.results}

        return await self._about(request, "history.html", history)

    async def _edit_form(self, request: Request) -> Response:
        return await self._about(request, "edit.html", self._item, writes=True)

    async def _confirm_delete(self, request: Request) -> Response:
        return await self._about(request, "confirm_delete.html", self._item, writes=True)

    async def _save(self, request: Request) -> Response:
        async def save(identity: Identity, memory_id: str, form: Any) -> dict[str, Any]:
            metadata = form_metadata(form.get("metadata"))
            await self.memory.update(
                memory_id, str(form.get("text") or ""), metadata=metadata, scope=identity.bound
            )
            updated = await self.memory.get(memory_id, scope=identity.bound)
            return {"item": updated, "notice": "Saved."}

        return await self._write(request, "memory_page.html", save)

    async def _delete(self, request: Request) -> Response:
        async def delete(identity: Identity, memory_id: str, form: Any) -> dict[str, Any]:
            deleted = await self.memory.delete(memory_id, scope=identity.bound)
            return {"deleted": deleted}

        return await self._write(request, "deleted.html", delete)

    async def _item(self, identity: Identity, memory_id: str) -> dict[str, Any]:
        item: MemoryItem = await self.memory.get(memory_id, scope=identity.bound)
        return {"item": item}

    async def _about(
        self,
        request: Request,
        template: str,
        load: Callable[[Identity, str], Awaitable[dict[str, Any]]],
        *,
        writes: bool = False,
    ) -> Response:
        """A view of one memory: ``load`` gives the template's context."""
        identity = identity_of(request, self.config)
        memory_id = request.path_params["memory_id"]
        try:
            if writes:
                self._check_writable()
            context = await load(identity, memory_id)
        except (errors.Mem0MCPError, Refused) as exc:
            return self._error(request, exc, memory_id)
        return render(request, template, self._about_context(identity, memory_id, context))

    async def _write(
        self,
        request: Request,
        template: str,
        change: Callable[[Identity, str, Any], Awaitable[dict[str, Any]]],
    ) -> Response:
        """A POST about one memory: the guard's checks, then ``change`` (engine writes)."""
        identity = identity_of(request, self.config)
        memory_id = request.path_params["memory_id"]
        try:
            self._check_writable()
            form = await _read_form(request)
            token = form.get("csrf")
            self.guard.check_write(request, identity, token if isinstance(token, str) else None)
            context = await change(identity, memory_id, form)
        except (errors.Mem0MCPError, Refused) as exc:
            return self._error(request, exc, memory_id)
        return render(request, template, self._about_context(identity, memory_id, context))

    # --- shared --------------------------------------------------------------------------

    def _context(self, identity: Identity) -> dict[str, Any]:
        return {
            "tokens": bool(self.config.auth_tokens),
            "bound": identity.bound,
            "csrf": self.guard.csrf_token(identity),
            "read_only": self.config.read_only,
            "error": None,
            "notice": None,
        }

    def _about_context(
        self, identity: Identity, memory_id: str, loaded: dict[str, Any]
    ) -> dict[str, Any]:
        """A one-memory view's context; ``back`` leads to the memory's scope."""
        item = loaded.get("item")
        back = View.of_scope(Scope.of(item.model_dump())).url() if item else "/ui"
        return self._context(identity) | loaded | {"memory_id": memory_id, "back": back}

    def _limit(self, wanted: int) -> int:
        """``wanted``, or less where the settings' ``max_limit`` is lower."""
        return min(wanted, self.config.max_limit)

    def _check_writable(self) -> None:
        if self.config.read_only:
            raise Refused(
                403, "refused: this server is read-only (MEM0_MCP_READ_ONLY); nothing was changed"
            )

    def _error(self, request: Request, exc: Exception, memory_id: str | None) -> Response:
        """The error as a message where the person is looking (module docstring)."""
        if isinstance(exc, Refused):
            status, message = exc.status, exc.message
        else:
            status, message = _status(exc), str(exc)
        if status >= 500:
            log.warning("dashboard: %s %s failed: %s", request.method, request.url.path, message)
        headers: dict[str, str] = {}
        if is_partial(request):
            # Only a well-formed id names a slot (the path is the caller's text).
            slot = f"#error-{memory_id}" if memory_id and _UUID.match(memory_id) else "#notice"
            headers = {"HX-Retarget": slot, "HX-Reswap": "innerHTML"}
        context = {"message": message, "tokens": bool(self.config.auth_tokens)}
        return render(request, "error.html", context, status=status, headers=headers)


_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")
_KIND_LABEL = {"user_id": "user", "agent_id": "agent", "run_id": "run"}


def _kinds(scopes: ScopeList) -> list[tuple[str, list[ScopeCount]]]:
    return [
        ("user_id", scopes.user_ids),
        ("agent_id", scopes.agent_ids),
        ("run_id", scopes.run_ids),
    ]


def _bound_ids(identity: Identity) -> dict[str, str | None]:
    bound = identity.bound
    return dict(bound.items()) if bound is not None else {}


def _status(exc: Exception) -> int:
    return next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)


async def _read_form(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Refused(415, "send the dashboard's form (application/x-www-form-urlencoded)")
    return await request.form(max_files=0, max_fields=_MAX_FIELDS)
