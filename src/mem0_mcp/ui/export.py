"""A scope's memories as JSON Lines, for the dashboard's Export link.

One line per memory, newest first, in the shape ``list_memories`` returns (``id``,
``memory``, ``hash``, ``metadata``, the scope ids, ``actor_id``, ``role``, ``created_at``,
``updated_at``). Vectors and history are not included: this is a person's copy of what is
remembered. ``mem0-mcp export`` moves a whole store with both (``transfer.py``).

Read through ``MemoryAPI.get_all`` a page at a time, so the same scope rules apply. Pages
are cut by creation time, not by offset: ``get_all`` reads every memory before its offset,
so offset paging would cost O(n²) for a large scope; here each page starts at the last
instant sent (``created_at`` ≤ it), skipping only the memories already sent at that
instant.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

from ..api import MemoryAPI
from ..models import ListResult, MemoryItem
from ..scope import ScopeIds

PAGE = 100  # the engine's default max_limit; a lower max_limit setting is respected


async def first_page(memory: MemoryAPI, ids: ScopeIds) -> ListResult:
    """The first page (fetched before the response starts, so that a bad scope is an error
    response rather than a truncated file). Raises what ``get_all`` raises."""
    return await memory.get_all(**ids, limit=_page(memory))


async def lines(memory: MemoryAPI, ids: ScopeIds, first: ListResult) -> AsyncIterator[bytes]:
    """Every memory of the scope, one JSON line each, starting with ``first``."""
    page, cursor, skip = first, None, 0
    while True:
        for item in page.results:
            yield _line(item)
        if page.next_offset is None or not page.results:
            return
        last = page.results[-1].created_at
        at_last = sum(1 for item in page.results if item.created_at == last)
        skip = skip + at_last if last == cursor else at_last
        cursor = last
        page = await memory.get_all(
            **ids, filters={"created_at": {"lte": cursor}}, limit=_page(memory), offset=skip
        )


def filename(ids: ScopeIds) -> str:
    """``memories-user_id-alice.jsonl``: the scope in the name, only characters safe in any
    file system."""
    parts = [f"{key}-{value}" for key, value in ids.items() if value]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(["memories", *parts]))
    return f"{stem[:120]}.jsonl"


def _line(item: MemoryItem) -> bytes:
    data = item.model_dump(mode="json", exclude={"score"})
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def _page(memory: MemoryAPI) -> int:
    return min(PAGE, memory.config.max_limit)
