"""From decisions to changes: what an ``add`` stores, and the event it reports for each.

Two kinds of decision reach here, both as plain data (nothing is written here; the caller
hands the ``Change``s to ``journal.Journal.apply``):

* verbatim adds (no LLM, or ``infer=false``): one memory per non-system message, unless
  the store or an earlier message of the same call already holds it (event ``NONE`` with
  the existing id);
* the LLM's plans (``pipeline.Plan``: ADD / UPDATE / DELETE / NONE of facts), where an ADD
  of text the scope already holds is ``NONE`` too, and an UPDATE / DELETE names a memory
  read just before (``current``).

Every memory payload is built by ``payload.build_payload``; an update keeps the memory's
scope and creation time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from .dedup import Deduplicator
from .journal import Change
from .models import AddEvent, Message
from .payload import build_payload, text_hash, utc_now
from .pipeline import Plan
from .scope import Scope


def added(
    text: str,
    vector: list[float],
    scope: Scope,
    metadata: dict[str, Any],
    now: datetime,
    speaker: Message,
) -> Change:
    """A new memory of ``text`` in ``scope``, said by ``speaker``."""
    payload = build_payload(
        text, scope=scope, metadata=metadata, created=now, actor_id=speaker.name, role=speaker.role
    )
    return Change("ADD", str(uuid.uuid4()), text, None, payload, vector)


def updated(
    memory_id: str,
    old: Mapping[str, Any],
    text: str,
    vector: list[float],
    *,
    metadata: dict[str, Any],
    actor_id: str | None,
    role: str | None,
    now: datetime | None = None,
) -> Change:
    """Memory ``memory_id`` (stored payload ``old``) now says ``text``."""
    payload = build_payload(
        text,
        scope=Scope.of(old),
        metadata=metadata,
        created=datetime.fromisoformat(old["created_at"]),
        updated=now or utc_now(),
        actor_id=actor_id,
        role=role,
    )
    return Change("UPDATE", memory_id, text, old["data"], payload, vector)


def deleted(memory_id: str, payload: dict[str, Any]) -> Change:
    """Memory ``memory_id`` (stored payload ``payload``) is forgotten."""
    return Change("DELETE", memory_id, payload["data"], payload["data"], payload)


async def verbatim(
    messages: Sequence[Message],
    vectors: list[list[float]],
    scope: Scope,
    metadata: dict[str, Any],
    dedup: Deduplicator,
    *,
    near: bool,
) -> tuple[list[AddEvent], list[Change]]:
    """Events and changes for storing ``messages`` (non-system, with their ``vectors``) as
    they are. ``near``: a near duplicate (in the store or earlier in this call) is NONE too.
    Call with the scope's lock held: the store's answer must not change meanwhile."""
    unit = np.asarray(vectors, dtype=np.float32)
    texts = [m.content for m in messages]
    events: list[AddEvent] = []
    changes: list[Change] = []
    seen: dict[str, AddEvent] = {}
    new: dict[int, AddEvent] = {}  # this call's ADDs, by message index
    now = utc_now()
    for i, (msg, vector) in enumerate(zip(messages, vectors, strict=True)):
        digest = text_hash(msg.content)
        if digest in seen:  # repeated inside this one call
            events.append(seen[digest].model_copy(update={"event": "NONE"}))
            continue
        existing = await dedup.find(msg.content, vector, scope, near=near)
        twin = dedup.twin(i, unit, list(new), texts) if near and not existing else None
        if twin is not None:
            event = new[twin].model_copy(update={"event": "NONE"})
        elif existing is not None:
            event = AddEvent(id=existing.id, memory=existing.payload["data"], event="NONE")
        else:
            change = added(msg.content, vector, scope, metadata, now, msg)
            changes.append(change)
            event = AddEvent(id=change.memory_id, memory=msg.content, event="ADD")
            new[i] = event
        seen[digest] = event
        events.append(event)
    return events, changes


async def planned(
    plans: Sequence[Plan],
    scope: Scope,
    metadata: dict[str, Any],
    vectors: Mapping[str, list[float]],
    speaker: Message,
    current: Mapping[str, dict[str, Any]],
    dedup: Deduplicator,
) -> tuple[list[AddEvent], list[Change]]:
    """Events and changes for the LLM's ``plans``. ``vectors``: every ADD / UPDATE text's
    embedding; ``current``: the stored payloads of the UPDATE / DELETE targets (a plan
    naming a memory not in it is dropped: it no longer exists). Call with the scope's lock
    held."""
    now = utc_now()
    events: list[AddEvent] = []
    changes: list[Change] = []
    new: dict[str, AddEvent] = {}  # by md5: an ADD of text already there is NONE
    for plan in plans:
        if plan.event == "ADD":
            there = new.get(text_hash(plan.text))
            if there is None:
                found = await dedup.find(plan.text, vectors[plan.text], scope, near=False)
                if found is not None:
                    there = AddEvent(id=found.id, memory=found.payload["data"], event="NONE")
            if there is not None:
                events.append(there.model_copy(update={"event": "NONE"}))
                continue
            change = added(plan.text, vectors[plan.text], scope, metadata, now, speaker)
            changes.append(change)
            new[text_hash(plan.text)] = AddEvent(id=change.memory_id, memory=plan.text, event="ADD")
            events.append(new[text_hash(plan.text)])
        elif plan.event == "NONE":
            events.append(AddEvent(id=plan.memory_id or "", memory=plan.text, event="NONE"))
        elif plan.memory_id is not None and plan.memory_id in current:
            old = current[plan.memory_id]
            if plan.event == "UPDATE":
                changes.append(
                    updated(
                        plan.memory_id,
                        old,
                        plan.text,
                        vectors[plan.text],
                        metadata={**(old.get("metadata") or {}), **metadata},
                        actor_id=speaker.name or old.get("actor_id"),
                        role=speaker.role,
                        now=now,
                    )
                )
            else:
                changes.append(deleted(plan.memory_id, old))
            events.append(
                AddEvent(
                    id=plan.memory_id,
                    memory=plan.text if plan.event == "UPDATE" else old["data"],
                    event=plan.event,
                    previous_memory=old["data"],
                )
            )
    return events, changes
