"""``MemoryAPI``: the engine's interface, written down once.

Two classes implement it with exactly these signatures (``tests/test_api.py`` compares
them): ``AsyncMemory`` (``memory.py``), the engine in this process, and ``SharedMemory``
(``owner.py``), which runs the call in this process when it owns the store and otherwise
forwards it to the process that does. ``server.build_server`` takes any ``MemoryAPI``.

Shapes are the pydantic models of ``models.py``; times are ISO 8601 UTC strings, ids UUID
strings, sizes bytes of UTF-8. Scope: ``user_id`` / ``agent_id`` / ``run_id``; a call that
names none acts on ``config.default_user_id`` (except ``delete_all``). Calls by
``memory_id`` take ``scope``: a scope bound by authentication that must contain the memory,
or the call raises ``NotFoundError`` exactly as for an unknown id.

Errors (``errors.py``) every method may raise besides those it lists:

* ``InvalidInputError`` (also a ``ValueError``): an argument is malformed, out of range or
  missing; ``field`` names it. Nothing was written.
* ``ConfigError``: the model or the store cannot be opened with these settings.
* ``StoreUnavailableError``: the store is closed, or its owner process cannot be reached
  or taken over. Nothing was written; retry later.
* ``OutcomeUnknownError`` (``SharedMemory`` only): the owner process exited while handling
  a write. The journal makes a write all-or-nothing; a search shows which. Reads are
  retried instead and never raise it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .config import MemoryConfig
from .llms import LLM
from .models import (
    AddResult,
    DeleteAllResult,
    DeleteResult,
    HistoryResult,
    ListResult,
    MemoryItem,
    MemoryType,
    Message,
    Reembed,
    Scope,
    ScopeList,
    SearchResult,
    TransferStats,
    UpdateResult,
)
from .retrieval import SearchMode


@runtime_checkable
class MemoryAPI(Protocol):
    """Persistent, scoped memory: add, search, read, correct, forget, audit."""

    config: MemoryConfig
    """The settings in use (for a forwarding process, its own; the store's shape — model,
    collection, vector store, LLM — is the owner's)."""

    @property
    def is_ready(self) -> bool:
        """True once the store is open (or, forwarding, once an owner offers its channel):
        calls made earlier wait for it rather than fail."""
        ...

    async def add(
        self,
        messages: str | Sequence[Message | dict[str, Any]],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool | None = None,
        dedup: bool = True,
        llm: LLM | None = None,
        memory_type: MemoryType | None = None,
    ) -> AddResult:
        """Remember text or a conversation.

        ``messages``: a string (one user message) or a list of ``{role, content, name?}``
        (``role`` user / assistant / system; at most ``max_messages``, each at most
        ``max_text_bytes``). ``metadata``: an object of JSON values stored with each new
        memory (``max_metadata_*`` limits; scope keys are never read from it).

        Images: ``content`` may be a list of content parts, ``{"type": "text", "text"}`` and
        ``{"type": "image_url", "image_url": {"url", "detail"?}}`` with a ``data:`` URI or
        (with ``fetch_image_urls``) an http(s) URL of a PNG, JPEG, GIF or WebP image of at
        most ``image_max_bytes`` (at most ``max_images`` per add). The LLM describes each
        image (one call each) and the description stands for it in the message's text;
        everything below then applies to that text. The memories get ``metadata.images``:
        ``[{"media_type", "sha256"}]``; the images themselves are not stored (``images.py``).

        Procedural memory (``memory_type="procedural_memory"``, with ``agent_id``): one LLM
        call summarises the run into one memory (event ADD, no extraction or
        reconciliation) with ``metadata.memory_type == "procedural_memory"``.

        Verbatim mode (``infer`` false, or no LLM configured): one memory per non-system
        message, with ``role`` and ``actor_id`` (the message's ``name``). An exact
        duplicate (same md5) in the same scope, or with ``dedup`` a near duplicate (cosine
        ≥ ``dedup_threshold`` and the same numbers), gives event ``NONE`` and the existing
        memory's id.

        Infer mode (``infer`` true; the default when an LLM is configured or ``llm`` is
        given): at most two LLM calls extract durable facts and reconcile them with the
        nearest memories in scope; every decision (ADD / UPDATE / DELETE / NONE) is applied
        atomically and logged in history. ``llm`` overrides the configured provider for
        this call (MCP sampling uses it; a forwarded call sends its requests back to the
        calling process).

        Returns ``AddResult(results=[AddEvent(id, memory, event, previous_memory?)])``, one
        event per fact or message; ``previous_memory`` is set on UPDATE and DELETE.

        Raises:
            InvalidInputError: bad ``messages`` / ``metadata`` / scope ids, only system
                messages, ``infer=True`` with no LLM; an image that is malformed, of
                another type, too large, not fetchable (or fetching is off), or given with
                no LLM; ``memory_type`` without ``agent_id``, with ``infer=False`` or
                with no LLM.
            LLMError: the LLM failed after retries, its output could not be validated, it
                wrote a memory over ``max_text_bytes``, or it could not describe an image;
                nothing was applied.
            ConflictError: a memory this add planned to change was changed first by
                another call; nothing was applied.
        """
        ...

    async def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int = 10,
        threshold: float | None = None,
        search_mode: SearchMode | None = None,
    ) -> SearchResult:
        """Memories in scope most relevant to ``query``, best first.

        ``limit`` 1..``max_limit``; ``threshold`` 0..1 drops hits scoring below it.
        ``search_mode`` defaults to ``config.search_mode``. ``score`` is the cosine
        similarity in ``dense`` mode; in ``hybrid`` mode
        ``0.3 · max(cosine, 0) + 0.7 · bm25 / (bm25 + 40)``, in 0..1 and absolute (a
        memory sharing no word with the query scores at most 0.3), with two more terms when
        the query names a memory's ``actor_id`` (weight 0.08) or a date (0.05), the result
        divided by the sum of the weights that count (see ``retrieval.py``).
        ``filters``: mem0's filter syntax over metadata and the built-in fields (see
        ``filters.parse_filters``), applied inside the store, so ``limit`` is exact.

        Returns ``SearchResult(results=[MemoryItem(..., score)])``.

        Raises:
            InvalidInputError: empty or oversized ``query``, ``limit`` / ``threshold`` out
                of range, a malformed filter (``field`` names the offending key).
        """
        ...

    async def get(self, memory_id: str, *, scope: Scope | None = None) -> MemoryItem:
        """One memory by id.

        Raises:
            NotFoundError: no such memory (or it lies outside ``scope``).
        """
        ...

    async def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> ListResult:
        """Memories in scope, newest first (ties by id), ``limit`` per page from ``offset``.

        Returns ``ListResult(results, next_offset)``; ``next_offset`` is ``None`` on the
        last page. Paging with it lists every memory exactly once while the scope is not
        written to; costs grow with ``offset`` (each page reads the ones before it).

        Raises:
            InvalidInputError: ``limit`` / ``offset`` out of range, a malformed filter.
        """
        ...

    async def update(
        self,
        memory_id: str,
        text: str,
        *,
        metadata: dict[str, Any] | None = None,
        scope: Scope | None = None,
    ) -> UpdateResult:
        """Replace a memory's text, and its metadata when given (otherwise kept). History
        keeps the old text.

        Returns ``UpdateResult(id, memory, previous_memory, event="UPDATE")``.

        Raises:
            NotFoundError: no such memory (or it lies outside ``scope``).
            ConflictError: another call changed or deleted it first; nothing was applied.
        """
        ...

    async def delete(self, memory_id: str, *, scope: Scope | None = None) -> DeleteResult:
        """Delete one memory; its history stays.

        Returns ``DeleteResult(id, memory, event="DELETE")``.

        Raises:
            NotFoundError: no such memory (or it lies outside ``scope``).
            ConflictError: another call changed or deleted it first; nothing was applied.
        """
        ...

    async def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> DeleteAllResult:
        """Delete every memory carrying all the given ids, each deletion logged in history.

        At least one id is required: the default user never applies here. Returns
        ``DeleteAllResult(deleted=n)``.

        Raises:
            InvalidInputError: no id given.
        """
        ...

    async def history(self, memory_id: str, *, scope: Scope | None = None) -> HistoryResult:
        """Every event of a memory (ADD, UPDATE, DELETE with old and new text), oldest
        first; kept after the memory is deleted.

        Returns ``HistoryResult(results=[HistoryEvent(...)])``.

        Raises:
            NotFoundError: the id never existed (or its scope lies outside ``scope``).
        """
        ...

    async def scopes(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        contains: str | None = None,
        limit: int = 100,
    ) -> ScopeList:
        """The users, agents and runs that hold memories within a scope, with how many
        memories carry each: who has memories, before listing them.

        The scope: memories carrying every id given; none given = the whole store (the
        default user never applies here). ``contains``: only ids holding this text
        (case-sensitive), to find one among more than ``limit``. ``limit`` 1..``max_limit``
        ids per kind, most memories first.

        Returns ``ScopeList(memories, user_ids, agent_ids, run_ids, truncated)``: each list
        of ``ScopeCount(id, memories)``; ``truncated`` names the kinds that had more ids.

        Raises:
            InvalidInputError: a malformed id or ``contains``, ``limit`` out of range.
        """
        ...

    async def reset(self) -> None:
        """Delete every memory and every history row, in every scope. Irreversible."""
        ...

    async def export_to(self, path: str, *, progress: bool | None = None) -> TransferStats:
        """Write every memory (payload and vectors) and every history row to ``path``: JSON
        Lines, gzip when the name ends in ``.gz`` (format in ``transfer/__init__.py``). Writes wait
        while it runs (reads do not), so the file is one consistent moment of the store; it
        appears only when complete. ``progress``: a bar on stderr (``None``: on a terminal
        only; never drawn by an owner process for a forwarded call).

        Returns ``TransferStats(memories, history, seconds)``.

        Raises:
            TransferError: ``path`` cannot be written.
        """
        ...

    async def import_from(
        self, path: str, *, reembed: Reembed = "auto", progress: bool | None = None
    ) -> TransferStats:
        """Merge an export file into the store, all or nothing: every line is first checked
        with the tools' own rules, then memories are upserted and history rows inserted by
        id (so importing twice changes nothing; a memory the store holds in a later version
        is kept). ``reembed``: recompute dense vectors when the file's model differs
        (``"auto"``), refuse such a file (``"never"``), or always (``"always"``).

        Returns ``TransferStats`` (``memories``, ``history``, ``history_new``,
        ``reembedded``, ``kept``, ``seconds``).

        Raises:
            TransferError: the file cannot be read, is not an export, is truncated, holds a
                line that breaks the rules (named with its line number), or needs
                re-embedding with ``reembed="never"``. Nothing was written.
        """
        ...
