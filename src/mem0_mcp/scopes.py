"""Who has memories: the users, agents and runs within a scope, with counts
(``MemoryAPI.scopes``, shown by the dashboard's scope list).

Counted with the vector store's facet request (``VectorStore.facet``): both Qdrant engines
answer it from the keyword indexes the scope ids already have, one request per kind, no
payload read. Measured on Edge (``bench/scopes.py``, docs/benchmarks.md): within one
user's memories 0.5 ms at 100k memories; the whole store's overview 0.23 s at 100k (most
of it the run ids, ~5,000 distinct values; exact counts cost one count per value listed),
4× less than a payload-only scroll, and Edge holds the GIL meanwhile, so the owner's event
loop waits as long. Approximate facets were 100× faster and matched here, but Qdrant does
not promise them, and a count a person reads must be right.

A facet has no offset, so each kind is capped at ``limit`` (most memories first) and
``ScopeList.truncated`` says which kinds were cut; ``contains`` narrows every kind to ids
holding a substring, so any scope can be reached however many there are.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import validation
from .config import MemoryConfig
from .filters import Condition, all_of
from .models import ScopeCount, ScopeKey, ScopeList
from .scope import Scope
from .vector_stores import VectorStore

KINDS: tuple[ScopeKey, ...] = ("user_id", "agent_id", "run_id")


def within(
    config: MemoryConfig, user_id: Any, agent_id: Any, run_id: Any, contains: Any
) -> tuple[Scope, str | None]:
    """The scope to count within (no id given: the whole store; the default user never
    applies) and the ``contains`` text, checked like scope ids.

    Raises ``InvalidInputError`` naming the id or ``contains``.
    """
    scope = Scope(
        user_id=validation.scope_id(user_id, "user_id", config),
        agent_id=validation.scope_id(agent_id, "agent_id", config),
        run_id=validation.scope_id(run_id, "run_id", config),
    )
    return scope, validation.scope_id(contains, "contains", config)


async def count_scopes(
    store: VectorStore, scope: Scope, *, contains: str | None, limit: int
) -> ScopeList:
    """The ``ScopeList`` of the memories within ``scope``: ``limit`` ids per kind at most
    (one more is asked for, to know whether the kind was cut), ids holding ``contains``
    only (case-sensitive)."""
    scope_filter = scope.filter()

    async def kind(key: ScopeKey) -> tuple[list[ScopeCount], bool]:
        narrowed = all_of(scope_filter, Condition(key, "contains", contains) if contains else None)
        hits = await store.facet(key, filter=narrowed, limit=limit + 1)
        counts = [ScopeCount(id=str(value), memories=n) for value, n in hits]
        counts.sort(key=lambda c: (-c.memories, c.id))
        return counts[:limit], len(counts) > limit

    total = await store.count(filter=scope_filter)
    (users, _), (agents, _), (runs, _) = kinds = await asyncio.gather(*(kind(k) for k in KINDS))
    return ScopeList(
        memories=total,
        user_ids=users,
        agent_ids=agents,
        run_ids=runs,
        truncated=[key for key, (_, cut) in zip(KINDS, kinds, strict=True) if cut],
    )
