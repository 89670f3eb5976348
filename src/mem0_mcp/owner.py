"""One owner, many clients: several ``mem0-mcp serve`` processes on one data dir.

The embedded stores take an exclusive lock on their folder, and Claude Desktop alone starts
two copies of every stdio server. So exactly one process — the *owner* — opens the store
(vector store + history); every other process forwards its calls to the owner over the
owner channel (a Unix socket, or loopback TCP with a secret: ``_channel.py``), one
connection per call (``_wire.py``). ``SharedMemory`` is the ``MemoryAPI`` (``api.py``) of
such a process, whichever role it has.

Who owns is decided by an OS file lock (``<data_dir>/owner.lock``, ``flock`` through
``filelock``): the kernel releases it when the owner exits or is killed, so no stale lock
ever needs cleaning up. When a forwarding process cannot reach the owner, it tries to take
the lock and become the owner itself (replaying the journal of anything the old owner left
half-done); if another process won that race, it connects to the new owner. Every write
goes through the one owner, so it is visible to every process at once.

A write in flight when the owner dies raises ``OutcomeUnknownError`` (it may or may not
have been applied: the journal makes it all-or-nothing, and a search shows which); reads
are retried.
MCP sampling still works from a forwarding process: the owner sends the LLM requests of a
forwarded ``add`` back over the call's connection to the caller, whose client answers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout
from pydantic import BaseModel

from . import _channel, _wire, images, pipeline, procedural, validation
from .config import MemoryConfig
from .errors import LLMError, Mem0MCPError, OutcomeUnknownError, StoreUnavailableError
from .llms import LLM, Image
from .memory import AsyncMemory
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

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _as(model: type[M], result: Any) -> M:
    """``result``, checked to be the ``model`` the call promises."""
    if not isinstance(result, model):
        raise Mem0MCPError(
            f"the store's owner answered with {type(result).__name__}, not {model.__name__}"
        )
    return result


# How long a forwarding process keeps trying to reach (or become) an owner before it gives
# up on a call: long enough for a new owner to load the model and replay its journal.
TAKEOVER_TIMEOUT = 60.0
# Schemas the owner may ask a forwarding process's LLM for, by name.
_SCHEMAS: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        pipeline.Extraction,
        pipeline.Reconciliation,
        images.Description,
        procedural.Summary,
    )
}


class _OwnerLost(Exception):
    """The owner went away after the call was delivered: it may have been applied."""


class SharedMemory:
    """``MemoryAPI`` for a serve process, whether it owns the store or forwards.

    ``start()`` decides the role in the background; every call waits for it. ``close()``
    waits for calls in flight (they are never cut off half-way), closes the store if owned,
    and releases the lock.
    """

    def __init__(self, config: MemoryConfig, *, label: str = "serve") -> None:
        """``label`` says what this process is (``"serve --transport http"``, ``"list"``),
        for ``mem0-mcp doctor`` to report who owns the store."""
        self.config = config
        self.label = label
        self._lock = FileLock(config.data_dir / "owner.lock", thread_local=False)
        self._local: AsyncMemory | None = None
        self._listener: _channel.Listener | None = None
        self._role = asyncio.Lock()
        self._inflight: set[asyncio.Future[Any]] = set()
        self._start_task: asyncio.Task[bool] | None = None
        self._closing = False

    # --- role ----------------------------------------------------------------------------

    @property
    def is_owner(self) -> bool:
        return self._local is not None

    @property
    def is_ready(self) -> bool:
        """Owner: the store is open. Forwarder: an owner has published its channel."""
        if self._local is not None:
            return self._local.is_ready
        return _channel.published(self.config)

    def start(self) -> None:
        """Try to become the owner in the background (needs a running loop)."""
        if self._start_task is None:
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            self._start_task = asyncio.get_running_loop().create_task(self._try_to_own())

    async def _try_to_own(self) -> bool:
        async with self._role:
            if self._local is not None:
                return True
            if self._closing:
                return False
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                return False
            log.info("this process owns the store in %s", self.config.data_dir)
            local = AsyncMemory(self.config)
            local.start()
            self._listener = await _channel.listen(self.config, self._serve_call)
            self._local = local
            self._owner_info().write_text(json.dumps({"pid": os.getpid(), "label": self.label}))
            return True

    def _owner_info(self) -> Path:
        """``<data_dir>/owner.json``: which process owns the store (pid and ``label``), for
        people and ``doctor``; the owner lock, not this file, decides who owns."""
        return self.config.data_dir / "owner.json"

    # --- the API -------------------------------------------------------------------------

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
        """See ``MemoryAPI.add``; a forwarded call sends ``llm``'s requests back here."""
        kwargs = {"messages": messages, "metadata": metadata, "infer": infer, "dedup": dedup}
        kwargs["memory_type"] = memory_type
        ids = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        return _as(AddResult, await self._call("add", {**kwargs, **ids}, llm=llm))

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
        """See ``MemoryAPI.search``."""
        kwargs = {"query": query, "filters": filters, "limit": limit, "threshold": threshold}
        ids = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        return _as(
            SearchResult, await self._call("search", {**kwargs, **ids, "search_mode": search_mode})
        )

    async def get(self, memory_id: str, *, scope: Scope | None = None) -> MemoryItem:
        """See ``MemoryAPI.get``."""
        return _as(MemoryItem, await self._call("get", {"memory_id": memory_id, "scope": scope}))

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
        """See ``MemoryAPI.get_all``."""
        kwargs = {"filters": filters, "limit": limit, "offset": offset}
        ids = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        return _as(ListResult, await self._call("get_all", {**kwargs, **ids}))

    async def update(
        self,
        memory_id: str,
        text: str,
        *,
        metadata: dict[str, Any] | None = None,
        scope: Scope | None = None,
    ) -> UpdateResult:
        """See ``MemoryAPI.update``."""
        kwargs = {"memory_id": memory_id, "text": text, "metadata": metadata, "scope": scope}
        return _as(UpdateResult, await self._call("update", kwargs))

    async def delete(self, memory_id: str, *, scope: Scope | None = None) -> DeleteResult:
        """See ``MemoryAPI.delete``."""
        return _as(
            DeleteResult, await self._call("delete", {"memory_id": memory_id, "scope": scope})
        )

    async def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> DeleteAllResult:
        """See ``MemoryAPI.delete_all``."""
        ids = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        return _as(DeleteAllResult, await self._call("delete_all", ids))

    async def history(self, memory_id: str, *, scope: Scope | None = None) -> HistoryResult:
        """See ``MemoryAPI.history``."""
        return _as(
            HistoryResult, await self._call("history", {"memory_id": memory_id, "scope": scope})
        )

    async def scopes(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        contains: str | None = None,
        limit: int = 100,
    ) -> ScopeList:
        """See ``MemoryAPI.scopes``."""
        ids = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        return _as(
            ScopeList, await self._call("scopes", {**ids, "contains": contains, "limit": limit})
        )

    async def reset(self) -> None:
        """See ``MemoryAPI.reset``."""
        await self._call("reset", {})

    async def export_to(self, path: str, *, progress: bool | None = None) -> TransferStats:
        """See ``MemoryAPI.export_to``; the owner process writes the file (same machine)."""
        target = str(validation.file_path(path, "path").resolve())
        return _as(
            TransferStats, await self._call("export_to", {"path": target, "progress": progress})
        )

    async def import_from(
        self, path: str, *, reembed: Reembed = "auto", progress: bool | None = None
    ) -> TransferStats:
        """See ``MemoryAPI.import_from``; the owner process reads the file (same machine)."""
        source = str(validation.file_path(path, "path").resolve())
        kwargs = {"path": source, "reembed": reembed, "progress": progress}
        return _as(TransferStats, await self._call("import_from", kwargs))

    async def _call(self, method: str, kwargs: dict[str, Any], llm: LLM | None = None) -> Any:
        """Run ``method`` here (owner) or in the owner process; its result, or its error."""
        if self._closing:
            raise StoreUnavailableError("the server is shutting down; call again in a moment")
        self.start()
        return await self._tracked(method, kwargs, llm)

    async def _tracked(self, method: str, kwargs: dict[str, Any], llm: LLM | None) -> Any:
        # Shielded and tracked: a cancelled MCP request or a shutdown never cuts a write in
        # half, and close() waits for it.
        task = asyncio.ensure_future(self._route(method, kwargs, llm))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    async def _route(self, method: str, kwargs: dict[str, Any], llm: LLM | None) -> Any:
        assert self._start_task is not None
        await self._start_task
        deadline = time.monotonic() + TAKEOVER_TIMEOUT
        delay = 0.02
        while True:
            if self._local is not None:
                extra = {"llm": llm} if method == "add" else {}
                return await getattr(self._local, method)(**kwargs, **extra)
            try:
                # An owner draws no progress bar for another process: its stderr is not ours.
                forwarded = {**kwargs, "progress": False} if "progress" in kwargs else kwargs
                return await self._forward(method, forwarded, llm)
            except _channel.Unreachable as exc:
                if await self._try_to_own():
                    continue
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        f"no process owns the store in {self.config.data_dir} and this one "
                        f"could not take it over within {TAKEOVER_TIMEOUT:.0f} s ({exc})"
                    ) from None
            except _OwnerLost:
                if method not in _wire.READ_ONLY:
                    raise OutcomeUnknownError(
                        "the process that owns the store exited while handling this call; it "
                        "was applied completely or not at all: search or list to see which, "
                        "then retry if needed"
                    ) from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    # --- forwarding side -----------------------------------------------------------------

    async def _forward(self, method: str, kwargs: dict[str, Any], llm: LLM | None) -> Any:
        reader, writer = await _channel.connect(self.config)
        try:
            request = {
                "method": method,
                "kwargs": _wire.encode_kwargs(kwargs),
                "sampling": llm is not None,
            }
            writer.write(_wire.dumps(request))
            await writer.drain()
            while True:
                line = await reader.readline()
                if not line:
                    raise _OwnerLost()
                reply = json.loads(line)
                if "generate" in reply:
                    await self._answer_generate(reply["generate"], llm, writer)
                elif "error" in reply:
                    raise _wire.decode_error(reply["error"])
                else:
                    return _wire.decode_result(method, reply.get("ok"))
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            raise _OwnerLost() from exc
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _answer_generate(
        request: dict[str, Any], llm: LLM | None, writer: asyncio.StreamWriter
    ) -> None:
        if llm is None:
            refusal = LLMError("sampling", "no LLM in the calling process")
            answer: dict[str, Any] = {"error": _wire.encode_error(refusal)}
        else:
            try:
                result = await llm.generate(
                    system=request["system"],
                    prompt=request["prompt"],
                    schema=_SCHEMAS[request["schema"]],
                    tool_name=request["tool_name"],
                    tool_description=request["tool_description"],
                    images=_wire.decode_images(request.get("images") or []),
                )
                answer = {"result": result.model_dump(mode="json")}
            except LLMError as exc:
                answer = {"error": _wire.encode_error(exc)}
        writer.write(_wire.dumps(answer))
        await writer.drain()

    # --- owner side ----------------------------------------------------------------------

    async def _serve_call(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            if not line:
                return
            try:
                request = json.loads(line)
                method = request["method"]
                if method not in _wire.RESULTS:
                    raise ValueError(method)
                kwargs = _wire.decode_kwargs(request.get("kwargs") or {})
            except (ValueError, KeyError, TypeError):
                malformed = Mem0MCPError("malformed owner-channel call")
                writer.write(_wire.dumps({"error": _wire.encode_error(malformed)}))
                return
            llm = _CallerLLM(reader, writer) if request.get("sampling") else None
            try:
                # Not _call: a call accepted before shutdown began is still served.
                result = await self._tracked(method, kwargs, llm)
                reply: dict[str, Any] = {"ok": _wire.encode_result(result)}
            except Mem0MCPError as exc:
                reply = {"error": _wire.encode_error(exc)}
            except Exception as exc:  # never let one bad call take the owner down
                log.exception("forwarded %s failed", method)
                reply = {"error": _wire.encode_error(Mem0MCPError(f"internal error: {exc}"))}
            writer.write(_wire.dumps(reply))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            log.debug("a forwarding process hung up", exc_info=True)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    # --- shutdown ------------------------------------------------------------------------

    async def close(self, timeout: float = 30.0) -> None:
        """Stop accepting forwarded calls, finish calls in flight (up to ``timeout`` s), close
        the store, release the lock. Forwarding processes then take over."""
        self._closing = True
        if self._start_task is not None:
            with contextlib.suppress(Exception):
                await self._start_task
        if self._listener is not None:
            self._listener.close()
            self._owner_info().unlink(missing_ok=True)
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout)
        if self._local is not None:
            await self._local.close()
            self._local = None
        if self._lock.is_locked:
            self._lock.release()


class _CallerLLM:
    """The owner's view of a forwarding process's LLM: each request goes back over the
    call's connection, and the caller's MCP client answers it."""

    name = "sampling"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.calls = 0
        self.requests = 0

    async def generate(
        self,
        *,
        system: str,
        prompt: str,
        schema: type[T],
        tool_name: str,
        tool_description: str,
        images: Sequence[Image] = (),
    ) -> T:
        self.calls += 1
        self.requests += 1
        self._writer.write(
            _wire.dumps(
                {
                    "generate": {
                        "system": system,
                        "prompt": prompt,
                        "schema": schema.__name__,
                        "tool_name": tool_name,
                        "tool_description": tool_description,
                        "images": _wire.encode_images(images),
                    }
                }
            )
        )
        await self._writer.drain()
        line = await self._reader.readline()
        if not line:
            raise LLMError("sampling", "the calling process went away before its client answered")
        reply = json.loads(line)
        if "error" in reply:
            raise _wire.decode_error(reply["error"])
        return schema.model_validate(reply["result"])  # type: ignore[attr-defined,no-any-return]
