"""The engine, as a library: AsyncMemory on the real model, real Qdrant, real SQLite.

Every test here runs on both vector-store backends (Qdrant Edge, qdrant-client).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.errors import ConflictError, InvalidInputError, NotFoundError, StoreUnavailableError
from mem0_mcp.journal import Change, JournalEntry
from mem0_mcp.models import Scope
from mem0_mcp.payload import build_payload, utc_now
from mem0_mcp.vector_stores.base import Point


async def test_add_then_search_get_and_list(memory: AsyncMemory) -> None:
    added = await memory.add(
        "I love hiking in the Alps", user_id="alice", metadata={"topic": "hobby"}
    )
    [event] = added.results
    assert event.event == "ADD" and event.memory == "I love hiking in the Alps"
    uuid.UUID(event.id)

    [hit] = (await memory.search("outdoor activities", user_id="alice")).results
    assert hit.id == event.id and hit.user_id == "alice" and hit.metadata == {"topic": "hobby"}
    assert 0 < (hit.score or 0) <= 1 and hit.created_at.endswith("+00:00")

    item = await memory.get(event.id)
    assert item.memory == "I love hiking in the Alps" and item.updated_at is None
    assert [i.id for i in (await memory.get_all(user_id="alice")).results] == [event.id]


async def test_messages_store_one_memory_per_non_system_message(memory: AsyncMemory) -> None:
    result = await memory.add(
        [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "My dog is called Rex", "name": "alice"},
            {"role": "assistant", "content": "Rex is a lovely name!"},
        ],
        user_id="alice",
    )
    assert [e.event for e in result.results] == ["ADD", "ADD"]
    items = {i.memory: i for i in (await memory.get_all(user_id="alice")).results}
    assert items["My dog is called Rex"].role == "user"
    assert items["My dog is called Rex"].actor_id == "alice"
    assert items["Rex is a lovely name!"].role == "assistant"
    assert "You are helpful." not in items


async def test_exact_duplicate_in_same_scope_is_none(memory: AsyncMemory) -> None:
    first = (await memory.add("I drink my coffee black", user_id="alice")).results[0]
    again = (await memory.add("I drink my coffee black", user_id="alice")).results[0]
    assert again.event == "NONE" and again.id == first.id
    other_scope = (await memory.add("I drink my coffee black", user_id="bob")).results[0]
    assert other_scope.event == "ADD" and other_scope.id != first.id
    narrower = (await memory.add("I drink my coffee black", user_id="alice", agent_id="x")).results[
        0
    ]
    assert narrower.event == "ADD"


async def test_near_duplicate_is_none_unless_opted_out(memory: AsyncMemory) -> None:
    first = (await memory.add("I drink my coffee black.", user_id="alice")).results[0]
    near = (await memory.add("I drink my coffee black", user_id="alice")).results[0]
    assert near.event == "NONE" and near.id == first.id
    forced = (await memory.add("I drink my coffee black", user_id="alice", dedup=False)).results[0]
    assert forced.event == "ADD"
    different = (await memory.add("I drink green tea in the morning", user_id="alice")).results[0]
    assert different.event == "ADD"


async def test_near_duplicates_inside_one_call_are_none_too(memory: AsyncMemory) -> None:
    def conversation(*texts: str) -> list[dict]:
        return [{"role": "user", "content": t} for t in texts]

    result = await memory.add(
        conversation("I am allergic to peanuts", "I am allergic to peanuts!", "My PIN is 1234"),
        user_id="bea",
    )
    first, near, pin = result.results
    assert (first.event, near.event, near.id, pin.event) == ("ADD", "NONE", first.id, "ADD")
    # Numbers keep near-identical sentences apart, inside one call as against the store.
    other = await memory.add(conversation("My PIN is 5678", "My PIN is 9012"), user_id="bea")
    assert [e.event for e in other.results] == ["ADD", "ADD"]
    forced = await memory.add(conversation("I like tea", "I like tea!"), user_id="c", dedup=False)
    assert [e.event for e in forced.results] == ["ADD", "ADD"]


async def test_update_and_delete_are_audited_and_history_outlives_the_memory(
    memory: AsyncMemory,
) -> None:
    mid = (await memory.add("I live in Lisbon", user_id="alice")).results[0].id
    updated = await memory.update(mid, "I live in Porto")
    assert (updated.memory, updated.previous_memory, updated.event) == (
        "I live in Porto",
        "I live in Lisbon",
        "UPDATE",
    )
    item = await memory.get(mid)
    assert item.memory == "I live in Porto" and item.updated_at is not None
    [hit] = (await memory.search("which city", user_id="alice")).results
    assert hit.memory == "I live in Porto"

    deleted = await memory.delete(mid)
    assert (deleted.id, deleted.memory, deleted.event) == (mid, "I live in Porto", "DELETE")
    with pytest.raises(NotFoundError):
        await memory.get(mid)
    events = (await memory.history(mid)).results
    assert [(e.event, e.old_memory, e.new_memory, e.is_deleted) for e in events] == [
        ("ADD", None, "I live in Lisbon", False),
        ("UPDATE", "I live in Lisbon", "I live in Porto", False),
        ("DELETE", "I live in Porto", None, True),
    ]
    assert (await memory.search("which city", user_id="alice")).results == []


async def test_update_keeps_metadata_unless_given(memory: AsyncMemory) -> None:
    mid = (await memory.add("Prefers window seats", metadata={"topic": "travel"})).results[0].id
    await memory.update(mid, "Prefers aisle seats")
    assert (await memory.get(mid)).metadata == {"topic": "travel"}
    await memory.update(mid, "Prefers aisle seats on long flights", metadata={"topic": "flights"})
    assert (await memory.get(mid)).metadata == {"topic": "flights"}


async def test_scopes_never_leak(memory: AsyncMemory) -> None:
    await memory.add("Alice's secret is the blue door", user_id="alice")
    await memory.add("Bob's secret is the red door", user_id="bob")
    await memory.add("The deploy key rotates monthly", user_id="alice", agent_id="ops-bot")

    bob = (await memory.search("secret door", user_id="bob")).results
    assert [h.memory for h in bob] == ["Bob's secret is the red door"]
    alice = {h.memory for h in (await memory.search("secret door", user_id="alice")).results}
    assert alice == {"Alice's secret is the blue door", "The deploy key rotates monthly"}
    narrowed = (await memory.search("secret door", user_id="alice", agent_id="ops-bot")).results
    assert [h.memory for h in narrowed] == ["The deploy key rotates monthly"]


async def test_default_user_applies_when_no_scope_given(any_backend_config: MemoryConfig) -> None:
    cfg = any_backend_config.model_copy(update={"default_user_id": "me"})
    async with AsyncMemory(cfg) as memory:
        mid = (await memory.add("I am left-handed")).results[0].id
        assert (await memory.get(mid)).user_id == "me"
        assert [h.id for h in (await memory.search("handedness", user_id="me")).results] == [mid]


async def test_delete_all_needs_a_scope_and_touches_only_it(memory: AsyncMemory) -> None:
    for i in range(3):
        await memory.add(f"alice fact number {i} about gardening", user_id="alice")
    keep = (await memory.add("bob likes chess", user_id="bob")).results[0].id
    with pytest.raises(InvalidInputError, match="user_id"):
        await memory.delete_all()
    assert (await memory.delete_all(user_id="alice")).deleted == 3
    assert (await memory.get_all(user_id="alice")).results == []
    assert (await memory.get(keep)).memory == "bob likes chess"


async def test_list_pages_newest_first(memory: AsyncMemory) -> None:
    ids = []
    for i in range(5):
        ids.append(
            (await memory.add(f"note {i}: the sky colour was {i}", user_id="u")).results[0].id
        )
    page1 = await memory.get_all(user_id="u", limit=2)
    page2 = await memory.get_all(user_id="u", limit=2, offset=page1.next_offset or 0)
    page3 = await memory.get_all(user_id="u", limit=2, offset=page2.next_offset or 0)
    listed = [i.id for p in (page1, page2, page3) for i in p.results]
    assert listed == list(reversed(ids)) and page3.next_offset is None


async def test_list_pages_list_memories_of_one_instant_each_exactly_once(
    memory: AsyncMemory,
) -> None:
    # One add stamps all its memories with one created_at; the store returns such ties in
    # no fixed order, which once made pages repeat some memories and skip others.
    await memory.add("an older note", user_id="u")
    batch = await memory.add(
        [{"role": "user", "content": f"note {i} about subject {i}"} for i in range(60)],
        user_id="u",
    )
    await memory.add("a newer note", user_id="u")
    for size in (7, 25, 100):
        listed: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = await memory.get_all(user_id="u", limit=size, offset=offset)
            listed += [i.memory for i in page.results]
            offset = page.next_offset
        assert len(listed) == len(set(listed)) == 62
        assert listed[0] == "a newer note" and listed[-1] == "an older note"
        assert set(listed[1:-1]) == {e.memory for e in batch.results}


async def test_search_finds_the_semantically_right_memory_first(memory: AsyncMemory) -> None:
    facts = [
        "My favourite food is pizza",
        "I work as a software engineer in Berlin",
        "I have two cats named Miso and Tofu",
        "The quarterly report is due on Friday",
        "I am allergic to peanuts",
    ]
    for fact in facts:
        await memory.add(fact, user_id="alice")
    for query, expected in [
        ("what does alice like to eat?", "My favourite food is pizza"),
        ("what pets does she have?", "I have two cats named Miso and Tofu"),
        ("what is her job?", "I work as a software engineer in Berlin"),
        ("food allergies", "I am allergic to peanuts"),
    ]:
        for mode in ("dense", "hybrid"):
            top = (await memory.search(query, user_id="alice", search_mode=mode)).results[0]
            assert top.memory == expected, (query, mode)


async def test_threshold_and_limit(memory: AsyncMemory) -> None:
    for fact in ["I like green tea", "I like black coffee", "The car needs new tyres"]:
        await memory.add(fact, user_id="alice")
    assert len((await memory.search("drinks", user_id="alice", limit=2)).results) == 2
    strict = (await memory.search("drinks", user_id="alice", threshold=0.99)).results
    assert all((h.score or 0) >= 0.99 for h in strict)


async def test_updated_at_filters_match_only_updated_memories(memory: AsyncMemory) -> None:
    kept = (await memory.add("I collect stamps", user_id="f")).results[0]
    changed = (await memory.add("I live in Lisbon", user_id="f")).results[0]
    await memory.update(changed.id, "I live in Porto")
    item = await memory.get(kept.id)

    async def listed(filters: dict) -> list[str]:
        return [i.id for i in (await memory.get_all(user_id="f", filters=filters)).results]

    assert await listed({"updated_at": "*"}) == [changed.id]
    assert await listed({"NOT": [{"updated_at": "*"}]}) == [kept.id]
    assert await listed({"updated_at": {"gte": item.created_at}}) == [changed.id]
    # History rows carry the instants the memory itself records.
    current = await memory.get(changed.id)
    history = (await memory.history(changed.id)).results
    assert [h.created_at for h in history] == [current.created_at, current.updated_at]


async def test_filters_narrow_search_and_list(memory: AsyncMemory) -> None:
    await memory.add("Booked a flight to Tokyo", user_id="alice", metadata={"topic": "travel"})
    await memory.add("Booked a table at Nobu", user_id="alice", metadata={"topic": "food"})
    travel = (await memory.search("booked", user_id="alice", filters={"topic": "travel"})).results
    assert [h.memory for h in travel] == ["Booked a flight to Tokyo"]
    listed = (await memory.get_all(user_id="alice", filters={"topic": {"ne": "travel"}})).results
    assert [i.memory for i in listed] == ["Booked a table at Nobu"]


async def test_unicode_round_trips(memory: AsyncMemory) -> None:
    text = "Ich wohne in Zürich 🇨🇭 — 東京にも住んでいた"
    mid = (await memory.add(text, user_id="ü")).results[0].id
    assert (await memory.get(mid)).memory == text
    assert (await memory.search("Zürich", user_id="ü")).results[0].id == mid


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda m: m.add("   "), "text"),
        (lambda m: m.add("x" * 70_000), "text"),
        (lambda m: m.add([]), "messages"),
        (lambda m: m.add([{"role": "robot", "content": "hi"}]), "messages[0]"),
        (lambda m: m.add("ok", metadata={"a": float("nan")}), "metadata.a"),
        (lambda m: m.add("ok", metadata=["not", "an", "object"]), "metadata"),
        (lambda m: m.add("ok", user_id="bad\x00id"), "user_id"),
        (lambda m: m.search("q", limit=0), "limit"),
        (lambda m: m.search("q", limit=101), "limit"),
        (lambda m: m.search("q", threshold=1.5), "threshold"),
        (lambda m: m.search("q", filters={"topic": {"regex": "x"}}), "topic"),
        (lambda m: m.get("not-a-uuid"), "memory_id"),
        (lambda m: m.update("not-a-uuid", "x"), "memory_id"),
        (lambda m: m.delete(""), "memory_id"),
        (lambda m: m.history("123"), "memory_id"),
        (lambda m: m.get_all(offset=-1), "offset"),
    ],
)
async def test_bad_input_is_a_clear_error_and_writes_nothing(
    memory: AsyncMemory, call, field: str
) -> None:
    mid = (await memory.add("a fact that must survive", user_id="default_user")).results[0].id
    with pytest.raises(InvalidInputError) as info:
        await call(memory)
    assert field in str(info.value)
    listed = (await memory.get_all()).results
    assert [i.id for i in listed] == [mid]


async def test_unknown_memory_id_is_not_found(memory: AsyncMemory) -> None:
    missing = str(uuid.uuid4())
    for call in (memory.get, memory.delete, memory.history):
        with pytest.raises(NotFoundError, match="memory_id"):
            await call(missing)
    with pytest.raises(NotFoundError):
        await memory.update(missing, "x")


async def test_scope_bound_operations_by_id_respect_the_bound_scope(memory: AsyncMemory) -> None:
    bob_mid = (await memory.add("bob's bank pin hint", user_id="bob")).results[0].id
    alice = Scope(user_id="alice")
    for call in (
        memory.get(bob_mid, scope=alice),
        memory.update(bob_mid, "hacked", scope=alice),
        memory.delete(bob_mid, scope=alice),
        memory.history(bob_mid, scope=alice),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert (await memory.get(bob_mid, scope=Scope(user_id="bob"))).memory == "bob's bank pin hint"


async def test_restart_keeps_memories_and_history(any_backend_config: MemoryConfig) -> None:
    async with AsyncMemory(any_backend_config) as memory:
        mid = (await memory.add("I was born in Oslo", user_id="alice")).results[0].id
        await memory.update(mid, "I was born in Bergen")
    async with AsyncMemory(any_backend_config) as memory:
        assert (await memory.get(mid)).memory == "I was born in Bergen"
        assert [e.event for e in (await memory.history(mid)).results] == ["ADD", "UPDATE"]
        assert (await memory.search("birthplace", user_id="alice")).results[0].id == mid


async def test_journal_left_by_a_crash_is_replayed_on_open(
    any_backend_config: MemoryConfig,
) -> None:
    """A change committed to history whose vector write never happened (the process died
    in between) is applied when the store is next opened."""
    async with AsyncMemory(any_backend_config) as memory:
        kept = (await memory.add("I speak Portuguese", user_id="alice")).results[0].id
        point = (await memory.vector_store.retrieve([kept], with_vectors=True))[0]
        lost = str(uuid.uuid4())
        payload = dict(point.payload, data="I speak Italian too")
        # What Journal.apply commits before touching the vector store, and nothing after it.
        await memory.history_store.record(
            [], [JournalEntry("upsert", lost, Point(lost, point.vector, payload))]
        )
        await memory.history_store.record([], [JournalEntry("delete", kept)])
    async with AsyncMemory(any_backend_config) as memory:
        assert (await memory.get(lost)).memory == "I speak Italian too"
        with pytest.raises(NotFoundError):
            await memory.get(kept)
        assert await memory.history_store.pending() == []


async def test_concurrent_adds_are_all_stored(memory: AsyncMemory) -> None:
    texts = [f"fact {i}: the number {i} is my lucky number in game {i * 7}" for i in range(40)]
    results = await asyncio.gather(*(memory.add(t, user_id="alice", dedup=False) for t in texts))
    ids = {r.results[0].id for r in results}
    assert len(ids) == 40
    listed = (await memory.get_all(user_id="alice", limit=100)).results
    assert {i.id for i in listed} == ids


async def test_concurrent_writes_in_many_scopes_each_land_in_history_once(
    memory: AsyncMemory,
) -> None:
    # Different scopes do not wait for each other's scope lock, so their history
    # transactions meet on the one SQLite connection.
    added = await asyncio.gather(
        *(
            memory.add(f"user {u} note {i}", user_id=f"u{u}", dedup=False)
            for u in range(8)
            for i in range(5)
        )
    )
    ids = [r.results[0].id for r in added]
    await asyncio.gather(
        *(memory.update(mid, f"revised note {n}") for n, mid in enumerate(ids)),
        *(memory.add(f"late note {u}", user_id=f"u{u}", dedup=False) for u in range(8)),
    )
    for n, mid in enumerate(ids):
        events = (await memory.history(mid)).results
        assert [e.event for e in events] == ["ADD", "UPDATE"]
        assert (await memory.get(mid)).memory == f"revised note {n}"
    assert await memory.history_store.pending() == []


async def test_a_write_racing_delete_all_on_a_wider_scope_never_revives_a_memory(
    memory: AsyncMemory,
) -> None:
    # update() locks the memory's own scope (alice + coach), delete_all(user_id) alice's:
    # the two do not wait for each other, so the write lock's check must order them.
    for _ in range(5):
        mid = (await memory.add("I play the oboe", user_id="alice", agent_id="coach")).results[0].id
        updated, wiped = await asyncio.gather(
            memory.update(mid, "I play the bassoon"),
            memory.delete_all(user_id="alice"),
            return_exceptions=True,
        )
        assert isinstance(updated, ConflictError) or updated.memory == "I play the bassoon"
        assert wiped.deleted == 1
        assert (await memory.get_all(user_id="alice")).results == []
        events = [e.event for e in (await memory.history(mid)).results]
        assert events in (["ADD", "DELETE"], ["ADD", "UPDATE", "DELETE"])


async def test_overlapping_delete_alls_delete_each_memory_once(memory: AsyncMemory) -> None:
    added = await memory.add(
        [{"role": "user", "content": f"note {i} on topic {i}"} for i in range(40)],
        user_id="o",
        agent_id="A",
    )
    counts = await asyncio.gather(
        memory.delete_all(user_id="o"),
        memory.delete_all(agent_id="A"),
        memory.delete_all(user_id="o", agent_id="A"),
    )
    assert sum(c.deleted for c in counts) == 40
    for event in added.results:
        assert [e.event for e in (await memory.history(event.id)).results] == ["ADD", "DELETE"]


async def test_an_update_racing_reset_leaves_nothing_behind(memory: AsyncMemory) -> None:
    for i in range(5):
        mid = (await memory.add(f"reset trial {i} about gardening", user_id="r")).results[0].id
        updated, _ = await asyncio.gather(
            memory.update(mid, f"reset trial {i} updated"), memory.reset(), return_exceptions=True
        )
        assert isinstance(updated, ConflictError | NotFoundError) or updated.event == "UPDATE"
        stored = (await memory.get_all(user_id="r")).results
        # Either the update came first and reset wiped it, or it found nothing to update.
        assert stored == []
        assert await memory.history_store.count_rows() == 0


async def test_concurrent_identical_adds_store_one_memory(memory: AsyncMemory) -> None:
    results = await asyncio.gather(
        *(memory.add("I own a red bicycle", user_id="a") for _ in range(20))
    )
    assert sorted(r.results[0].event for r in results) == ["ADD"] + ["NONE"] * 19
    assert len((await memory.get_all(user_id="a")).results) == 1


async def test_numbers_the_store_cannot_keep_are_refused_up_front(memory: AsyncMemory) -> None:
    with pytest.raises(InvalidInputError, match="64 bits"):
        await memory.add("my lucky number", user_id="n", metadata={"n": 10**309})
    with pytest.raises(InvalidInputError, match="64 bits"):
        await memory.get_all(user_id="n", filters={"n": {"gt": 2**64}})
    assert await memory.history_store.count_rows() == 0
    assert (await memory.add("still working", user_id="n")).results[0].event == "ADD"


async def test_a_write_the_vector_store_refuses_leaves_no_trace(config: MemoryConfig) -> None:
    # Qdrant Edge cannot hold an integer beyond 64 bits; validation stops it first, so this
    # goes below validation to reach the store with it, as any unforeseen refusal would.
    async with AsyncMemory(config) as memory:
        (vector,) = await memory.embedder.embed(["odd"])
        payload = build_payload(
            "odd", scope=Scope(user_id="u"), metadata={"n": 10**309}, created=utc_now()
        )
        with pytest.raises(TypeError):
            change = Change("ADD", str(uuid.uuid4()), "odd", None, payload, vector)
            await memory.journal.apply([change])
        assert await memory.history_store.count_rows() == 0
        assert await memory.history_store.pending() == []
    async with AsyncMemory(config) as memory:  # and the store opens and works as before
        assert (await memory.add("even", user_id="u")).results[0].event == "ADD"


async def test_close_lets_calls_in_flight_finish_and_refuses_later_ones(
    config: MemoryConfig,
) -> None:
    memory = await AsyncMemory(config).open()
    adds = [
        asyncio.create_task(memory.add(f"note {i} on subject {i}", user_id="u")) for i in range(8)
    ]
    await asyncio.sleep(0)  # every add has begun
    await memory.close()
    assert [r.results[0].event for r in await asyncio.gather(*adds)] == ["ADD"] * 8
    with pytest.raises(StoreUnavailableError, match="closed"):
        await memory.search("note", user_id="u")
    async with AsyncMemory(config) as again:
        assert len((await again.get_all(user_id="u")).results) == 8
        assert await again.history_store.pending() == []


async def test_after_a_failed_bulk_apply_no_write_runs_until_the_journal_caught_up(
    config: MemoryConfig,
) -> None:
    """An import's entries are committed before the vector store takes them. If the store
    fails half-way, the rest waits in the journal; a write made then must not go ahead of
    it (an older entry replayed later would overwrite it), so it is refused, and the store
    catches up when it opens again."""
    async with AsyncMemory(config) as memory:
        (vector,) = await memory.embedder.embed(["odd"])
        bad = build_payload(
            "odd", scope=Scope(user_id="u"), metadata={"n": 10**309}, created=utc_now()
        )
        async with memory.journal.lock:
            mid = str(uuid.uuid4())
            async with memory.history_store.bulk() as bulk:
                await bulk.journal([JournalEntry("upsert", mid, Point(mid, vector, bad))])
            with pytest.raises(TypeError):
                await memory.journal.apply_staged(bulk.after, 10)
        with pytest.raises(StoreUnavailableError, match="earlier changes are still waiting"):
            await memory.add("written meanwhile", user_id="u")
        assert await memory.vector_store.count(filter=None) == 0
    async with AsyncMemory(config) as memory:  # the replay drops what can never be applied
        assert await memory.history_store.pending() == []
        assert (await memory.add("written later", user_id="u")).results[0].event == "ADD"
