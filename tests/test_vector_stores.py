"""One suite, run against both backends: Qdrant Edge and qdrant-client's local mode.

Real engines on temporary folders, small hand-made vectors (the engine tests elsewhere
use the real embedding model). Filters go through ``parse_filters`` and the backend's
native filter, so every operator is checked end to end.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mem0_mcp.config import MemoryConfig
from mem0_mcp.errors import ConfigError, StoreUnavailableError
from mem0_mcp.filters import Condition, Filter, Not, all_of, parse_filters
from mem0_mcp.vector_stores import VectorStore, create_vector_store
from mem0_mcp.vector_stores.base import Point, SparseVector
from mem0_mcp.vector_stores.edge import EdgeVectorStore
from mem0_mcp.vector_stores.qdrant import QdrantVectorStore

DIM = 4
PIZZA, ACME, MODE, NOTES = 10, 20, 30, 40  # keyword term ids


def _ts(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()


def _payload(
    text: str,
    created: str,
    *,
    user_id: str = "alice",
    agent_id: str | None = None,
    run_id: str | None = None,
    updated: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "data": text,
        "hash": hashlib.md5(text.encode()).hexdigest(),
        "user_id": user_id,
        "agent_id": agent_id,
        "run_id": run_id,
        "actor_id": None,
        "role": "user",
        "created_at": created,
        "updated_at": updated,
        "created_ts": _ts(created),
        "updated_ts": _ts(updated or created),
        "metadata": metadata or {},
    }


# name → (dense vector, sparse terms, payload)
DATA: dict[str, tuple[list[float], list[int], dict[str, Any]]] = {
    "A": (
        [1.0, 0.0, 0.0, 0.0],
        [PIZZA],
        _payload(
            "I love Pizza at Straße 5",
            "2024-01-10T12:00:00+00:00",
            metadata={
                "topic": "food",
                "rating": 5,
                "score": 4.5,
                "flag": True,
                "tags": ["Italian", "Dinner"],
                "address": {"city": "Paris"},
                "my key": "v",
            },
        ),
    ),
    "B": (
        [0.0, 1.0, 0.0, 0.0],
        [ACME],
        _payload(
            "Alice works at ACME",
            "2024-02-15T09:00:00+00:00",
            metadata={
                "topic": "work",
                "rating": 3,
                "flag": False,
                "tags": ["job"],
                "address": {"city": "Berlin"},
            },
        ),
    ),
    "C": (
        [0.0, 0.0, 1.0, 0.0],
        [MODE],
        _payload(
            "Prefers dark mode",
            "2024-03-01T08:00:00+00:00",
            agent_id="bot",
            metadata={"topic": "prefs", "rating": 1},
        ),
    ),
    "D": (
        [0.9, 0.1, 0.0, 0.0],
        [PIZZA],
        _payload(
            "Bob loves pizza too",
            "2024-01-20T10:00:00+00:00",
            user_id="bob",
            metadata={"topic": "food", "rating": 4},
        ),
    ),
    "E": (
        [0.0, 0.0, 0.0, 1.0],
        [NOTES],
        _payload(
            "meeting notes",
            "2024-04-01T10:00:00+00:00",
            run_id="r1",
            updated="2024-05-01T10:00:00+00:00",
        ),
    ),
    "F": (
        [0.5, 0.5, 0.5, 0.5],
        [],
        _payload(
            "Likes round numbers",
            "2024-03-15T10:00:00+00:00",
            metadata={"rating": 2.0, "topic": None},
        ),
    ),
}
IDS = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, name)) for name in DATA}
NAMES = {v: k for k, v in IDS.items()}
ALL = set(DATA)


def _point(name: str) -> Point:
    vector, terms, payload = DATA[name]
    sparse = SparseVector(terms, [1.0] * len(terms)) if terms else None
    return Point(IDS[name], vector, dict(payload), sparse)


StoreFactory = Callable[..., VectorStore]


@pytest.fixture(params=["edge", "qdrant"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    def make(**kwargs: Any) -> VectorStore:
        if request.param == "edge":
            return EdgeVectorStore(tmp_path / "edge", **kwargs)
        return QdrantVectorStore("memories", path=tmp_path / "qdrant-local", **kwargs)

    return make


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[VectorStore]:
    s = make_store()
    await s.open(DIM)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def filled(store: VectorStore) -> VectorStore:
    await store.upsert([_point(n) for n in DATA])
    return store


async def _names(store: VectorStore, flt: Filter | None) -> set[str]:
    points = await store.scroll(filter=flt, limit=100)
    found = {NAMES[p.id] for p in points}
    assert await store.count(filter=flt) == len(found)
    return found


# -- writes and reads ------------------------------------------------------------------------


async def test_upsert_retrieve_delete(filled: VectorStore) -> None:
    got = {NAMES[p.id]: p for p in await filled.retrieve([IDS["A"], IDS["B"], str(uuid.uuid4())])}
    assert set(got) == {"A", "B"}
    assert got["A"].payload == DATA["A"][2]  # exact round trip, without the _lc mirror
    assert got["A"].vector is None
    await filled.delete([IDS["A"], str(uuid.uuid4())])  # unknown ids are ignored
    assert await filled.retrieve([IDS["A"]]) == []
    assert await filled.count(filter=None) == len(DATA) - 1
    await filled.delete([])
    assert await filled.retrieve([]) == []


async def test_retrieve_with_vectors(filled: VectorStore) -> None:
    (a,) = await filled.retrieve([IDS["A"]], with_vectors=True)
    assert a.vector == pytest.approx([1.0, 0.0, 0.0, 0.0])
    assert a.sparse == SparseVector([PIZZA], [1.0])
    (f,) = await filled.retrieve([IDS["F"]], with_vectors=True)
    assert f.vector == pytest.approx([0.5] * 4)  # cosine storage normalises
    assert f.sparse is None or f.sparse.indices == []


async def test_upsert_replaces_and_rewrites_the_mirror(filled: VectorStore) -> None:
    payload = {**DATA["A"][2], "data": "Now I hate PINEAPPLE", "_lc": {"data": "stale"}}
    await filled.upsert([Point(IDS["A"], [1.0, 0.0, 0.0, 0.0], payload)])
    (a,) = await filled.retrieve([IDS["A"]])
    assert a.payload["data"] == "Now I hate PINEAPPLE"
    assert "_lc" not in a.payload
    assert await _names(filled, parse_filters({"memory": {"icontains": "pineapple"}})) == {"A"}
    assert await _names(filled, parse_filters({"memory": {"icontains": "stale"}})) == set()
    assert await filled.count(filter=None) == len(DATA)


async def test_upsert_validates(store: VectorStore) -> None:
    with pytest.raises(ValueError, match="UUID"):
        await store.upsert([Point("not-a-uuid", [1.0, 0, 0, 0], {"data": "x"})])
    with pytest.raises(ValueError, match="dimensions"):
        await store.upsert([Point(IDS["A"], [1.0, 0.0], {"data": "x"})])
    with pytest.raises(ValueError, match="dense vector"):
        await store.upsert([Point(IDS["A"], None, {"data": "x"})])
    await store.upsert([])


# -- search ----------------------------------------------------------------------------------


async def test_dense_search_ranking(filled: VectorStore) -> None:
    hits = await filled.search([1.0, 0.0, 0.0, 0.0], filter=None, limit=3)
    assert [NAMES[h.id] for h in hits] == ["A", "D", "F"]
    assert [h.score for h in hits] == pytest.approx([1.0, 0.9 / (0.82**0.5), 0.5], abs=1e-5)
    assert hits[0].payload["data"] == DATA["A"][2]["data"]
    assert "_lc" not in hits[0].payload
    assert await filled.search([1.0, 0.0, 0.0, 0.0], filter=None, limit=0) == []


async def test_dense_search_respects_filter_and_limit(filled: VectorStore) -> None:
    bob = parse_filters({"user_id": "bob"})
    hits = await filled.search([1.0, 0.0, 0.0, 0.0], filter=bob, limit=10)
    assert [NAMES[h.id] for h in hits] == ["D"]
    flt = parse_filters({"user_id": "alice", "topic": {"ne": "food"}})
    hits = await filled.search([1.0, 0.0, 0.0, 0.0], filter=flt, limit=2)
    assert len(hits) == 2  # F, then one of B, C, E (all orthogonal to the query)
    assert NAMES[hits[0].id] == "F"
    assert NAMES[hits[1].id] in {"B", "C", "E"}


async def test_sparse_search(filled: VectorStore) -> None:
    query = SparseVector([PIZZA, ACME], [1.0, 1.0])
    hits = await filled.search_sparse(query, filter=None, limit=10)
    names = [NAMES[h.id] for h in hits]
    # ACME is in one memory, PIZZA in two: the rarer term weighs more (IDF).
    assert names[0] == "B"
    assert set(names) == {"A", "B", "D"}
    assert hits[1].score == pytest.approx(hits[2].score)
    assert hits[0].score > hits[1].score > 0
    scoped = await filled.search_sparse(
        SparseVector([PIZZA], [1.0]), filter=parse_filters({"user_id": "bob"}), limit=10
    )
    assert [NAMES[h.id] for h in scoped] == ["D"]
    assert await filled.search_sparse(SparseVector([], []), filter=None, limit=10) == []
    assert await filled.search_sparse(SparseVector([999], [1.0]), filter=None, limit=10) == []
    assert all(h.vector is None for h in hits)


async def test_sparse_hits_can_carry_their_unit_dense_vector(filled: VectorStore) -> None:
    # What the hybrid ranker scores keyword-only candidates with: the same cosine the dense
    # search would give them.
    query = SparseVector([PIZZA, ACME], [1.0, 1.0])
    hits = await filled.search_sparse(query, filter=None, limit=10, with_dense=True)
    dense = {
        h.id: h.score for h in await filled.search([1.0, 0.0, 0.0, 0.0], filter=None, limit=10)
    }
    for hit in hits:
        stored = DATA[NAMES[hit.id]][0]
        norm = sum(x * x for x in stored) ** 0.5
        assert hit.vector == pytest.approx([x / norm for x in stored], abs=1e-6)
        assert hit.vector[0] == pytest.approx(dense[hit.id], abs=1e-6)  # query is a unit axis


async def test_sparse_scores_agree_across_backends(tmp_path: Path) -> None:
    scores = []
    for store in (
        EdgeVectorStore(tmp_path / "e"),
        QdrantVectorStore("m", path=tmp_path / "q"),
    ):
        await store.open(DIM)
        await store.upsert([_point(n) for n in DATA])
        query = SparseVector([PIZZA, ACME], [1.0, 0.5])
        hits = await store.search_sparse(query, filter=None, limit=5)
        scores.append([(NAMES[h.id], round(h.score, 4)) for h in hits])
        await store.close()
    assert sorted(scores[0]) == sorted(scores[1])


# -- filters, end to end ---------------------------------------------------------------------

FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"topic": "food"}, {"A", "D"}),
    ({"topic": {"eq": "food"}}, {"A", "D"}),
    ({"topic": {"ne": "food"}}, {"B", "C", "E", "F"}),  # missing / null keys match ne
    ({"rating": {"gt": 3}}, {"A", "D"}),
    ({"rating": {"gte": 3}}, {"A", "B", "D"}),
    ({"rating": {"lt": 2}}, {"C"}),
    ({"rating": {"lte": 2}}, {"C", "F"}),
    ({"rating": 2}, {"F"}),  # 2 equals the stored 2.0
    ({"rating": 2.0}, {"F"}),
    ({"score": 4.5}, {"A"}),
    ({"rating": {"gte": 2, "lt": 4}}, {"B", "F"}),  # both conditions on one key
    ({"rating": {"in": [1, 5]}}, {"A", "C"}),
    ({"rating": [1, 5]}, {"A", "C"}),
    ({"topic": {"in": ["work", "prefs"]}}, {"B", "C"}),
    ({"topic": {"nin": ["food", "work"]}}, {"C", "E", "F"}),
    ({"memory": {"contains": "pizza"}}, {"D"}),  # case-sensitive
    ({"memory": {"contains": "Pizza"}}, {"A"}),
    ({"memory": {"icontains": "PIZZA"}}, {"A", "D"}),
    ({"data": {"icontains": "STRASSE"}}, {"A"}),  # Unicode case folding (ß)
    ({"tags": {"contains": "Ital"}}, {"A"}),  # any list element
    ({"tags": {"icontains": "dinner"}}, {"A"}),
    ({"tags": "job"}, {"B"}),
    ({"tags": {"in": ["job", "Dinner"]}}, {"A", "B"}),
    ({"flag": True}, {"A"}),
    ({"flag": False}, {"B"}),
    ({"flag": {"ne": True}}, {"B", "C", "D", "E", "F"}),
    ({"flag": {"in": [True, False]}}, {"A", "B"}),
    ({"topic": "*"}, {"A", "B", "C", "D"}),  # F's topic is null
    ({"NOT": [{"topic": "*"}]}, {"E", "F"}),
    ({"address.city": "Paris"}, {"A"}),
    ({"metadata.address.city": {"icontains": "BERL"}}, {"B"}),
    ({"address": "*"}, {"A", "B"}),
    ({"my key": "v"}, {"A"}),
    ({"agent_id": "bot"}, {"C"}),
    ({"agent_id": "*"}, {"C"}),
    ({"run_id": "r1"}, {"E"}),
    ({"user_id": {"contains": "ali"}}, {"A", "B", "C", "E", "F"}),
    ({"user_id": {"in": ["bob", "carol"]}}, {"D"}),
    ({"role": "user"}, ALL),
    ({"hash": DATA["B"][2]["hash"]}, {"B"}),
    ({"created_at": {"gte": "2024-02-01", "lt": "2024-03-10"}}, {"B", "C"}),
    ({"created_at": "2024-01-10"}, {"A"}),  # the whole day
    ({"created_at": {"lte": "2024-01-20"}}, {"A", "D"}),
    ({"created_at": {"gt": "2024-03-01T08:00:00Z"}}, {"E", "F"}),
    ({"created_at": {"gte": _ts("2024-03-01T08:00:00")}}, {"C", "E", "F"}),
    ({"created_at": {"eq": "2024-03-01T09:00:00+01:00"}}, {"C"}),
    ({"updated_at": {"gte": "2024-04-15"}}, {"E"}),
    ({"OR": [{"topic": "work"}, {"rating": {"lt": 2}}]}, {"B", "C"}),
    ({"AND": [{"topic": "food"}, {"NOT": [{"user_id": "bob"}]}]}, {"A"}),
    ({"NOT": [{"topic": "food"}, {"user_id": "alice"}]}, set()),
    ({"topic": "food", "rating": {"gte": 5}}, {"A"}),
    (
        {"OR": [{"AND": [{"topic": "food"}, {"rating": {"lt": 5}}]}, {"NOT": {"topic": "*"}}]},
        {"D", "E", "F"},
    ),
]


@pytest.mark.parametrize(
    ("filters", "expected"), FILTER_CASES, ids=[str(c[0]) for c in FILTER_CASES]
)
async def test_filter_operators(filled: VectorStore, filters: dict, expected: set[str]) -> None:
    assert await _names(filled, parse_filters(filters)) == expected


async def test_id_conditions(filled: VectorStore) -> None:
    assert await _names(filled, parse_filters({"id": IDS["A"]})) == {"A"}
    assert await _names(filled, parse_filters({"memory_id": {"in": [IDS["A"], IDS["B"]]}})) == {
        "A",
        "B",
    }
    assert await _names(filled, parse_filters({"id": {"ne": IDS["A"]}})) == ALL - {"A"}
    assert await _names(filled, parse_filters({"id": {"nin": [IDS["A"], IDS["E"]]}})) == ALL - {
        "A",
        "E",
    }


async def test_scope_filters(filled: VectorStore) -> None:
    alice = Condition("user_id", "eq", "alice")
    assert await _names(filled, alice) == {"A", "B", "C", "E", "F"}
    exact = all_of(alice, Not(Condition("agent_id", "exists")), Not(Condition("run_id", "exists")))
    assert await _names(filled, exact) == {"A", "B", "F"}
    assert await _names(filled, Condition("user_id", "eq", "nobody")) == set()


# -- scroll and count ------------------------------------------------------------------------


async def test_scroll_newest_first(filled: VectorStore) -> None:
    order = ["E", "F", "C", "B", "D", "A"]
    assert [NAMES[p.id] for p in await filled.scroll(filter=None, limit=10)] == order
    assert [NAMES[p.id] for p in await filled.scroll(filter=None, limit=2)] == ["E", "F"]
    assert await filled.scroll(filter=None, limit=0) == []
    alice = parse_filters({"user_id": "alice"})
    assert [NAMES[p.id] for p in await filled.scroll(filter=alice, limit=4)] == [
        "E",
        "F",
        "C",
        "B",
    ]
    (p,) = await filled.scroll(filter=parse_filters({"id": IDS["A"]}), limit=1, with_vectors=True)
    assert p.vector == pytest.approx([1.0, 0.0, 0.0, 0.0])
    assert "_lc" not in p.payload


async def test_count(filled: VectorStore) -> None:
    assert await filled.count(filter=None) == len(DATA)
    assert await filled.count(filter=parse_filters({"user_id": "bob"})) == 1


# -- lifecycle -------------------------------------------------------------------------------


async def test_reset(filled: VectorStore) -> None:
    await filled.reset()
    assert await filled.count(filter=None) == 0
    await filled.upsert([_point("B")])
    assert await _names(filled, parse_filters({"topic": "work"})) == {"B"}
    assert [NAMES[p.id] for p in await filled.scroll(filter=None, limit=5)] == ["B"]


async def test_reopen_keeps_data(make_store: StoreFactory) -> None:
    first = make_store()
    await first.open(DIM)
    await first.upsert([_point(n) for n in DATA])
    await first.close()
    await first.close()  # twice is fine
    second = make_store()
    await second.open(DIM)
    try:
        assert await second.count(filter=None) == len(DATA)
        (a,) = await second.retrieve([IDS["A"]])
        assert a.payload == DATA["A"][2]
        assert await _names(second, parse_filters({"flag": True})) == {"A"}
        assert [NAMES[p.id] for p in await second.scroll(filter=None, limit=1)] == ["E"]
    finally:
        await second.close()


async def test_dim_mismatch_on_reopen(make_store: StoreFactory) -> None:
    first = make_store()
    await first.open(DIM)
    await first.upsert([_point("A")])
    await first.open(DIM)  # reopening an open store with the same dim is a no-op
    with pytest.raises(ConfigError):
        await first.open(DIM + 1)
    await first.close()
    second = make_store()
    with pytest.raises(ConfigError, match="8"):
        await second.open(8)
    await second.close()
    third = make_store()  # the failed open released the folder
    await third.open(DIM)
    assert await third.count(filter=None) == 1
    await third.close()


async def test_second_handle_fails_clearly(make_store: StoreFactory) -> None:
    first = make_store()
    await first.open(DIM)
    second = make_store()
    with pytest.raises(StoreUnavailableError, match="already open"):
        await second.open(DIM)
    await second.close()
    await first.close()
    third = make_store()
    await third.open(DIM)
    await third.close()


async def test_closed_store_refuses_calls(make_store: StoreFactory) -> None:
    s = make_store()
    await s.open(DIM)
    await s.close()
    with pytest.raises(StoreUnavailableError):
        await s.count(filter=None)


async def test_concurrent_calls(filled: VectorStore) -> None:
    extra = [
        Point(str(uuid.uuid4()), [0.0, 0.0, 1.0, 1.0], _payload(f"m{i}", "2023-01-01T00:00:00"))
        for i in range(20)
    ]
    results = await asyncio.gather(
        *(filled.upsert([p]) for p in extra),
        *(filled.search([0.0, 0.0, 1.0, 1.0], filter=None, limit=3) for _ in range(10)),
        *(filled.count(filter=None) for _ in range(5)),
    )
    assert all(r is None for r in results[:20])
    assert await filled.count(filter=None) == len(DATA) + 20


# -- Edge specifics --------------------------------------------------------------------------


async def test_edge_flush_modes(tmp_path: Path) -> None:
    strict = EdgeVectorStore(tmp_path / "strict", flush_on_write=True)
    await strict.open(DIM)
    await strict.upsert([_point("A")])
    await strict.delete([IDS["A"]])
    assert await strict.count(filter=None) == 0
    await strict.close()

    lazy = EdgeVectorStore(tmp_path / "lazy", flush_interval=0.05)
    await lazy.open(DIM)
    await lazy.upsert([_point("A")])
    assert lazy._dirty  # noqa: SLF001 - white-box: a background flush is pending
    await asyncio.sleep(0.5)
    assert await lazy.count(filter=None) == 1  # runs after the flush on the worker
    assert not lazy._dirty  # noqa: SLF001
    await lazy.close()


_WRITER = textwrap.dedent(
    """
    import asyncio, sys, uuid
    from pathlib import Path
    from mem0_mcp.vector_stores.base import Point
    from mem0_mcp.vector_stores.edge import EdgeVectorStore

    async def main():
        store = EdgeVectorStore(Path(sys.argv[1]), flush_interval=3600)
        await store.open(4)
        while True:
            pid = str(uuid.uuid4())
            await store.upsert([Point(pid, [1.0, 0.0, 0.0, 0.0], {"data": "x", "created_ts": 1.0})])
            print(pid, flush=True)

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_edge_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "edge"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acked = [proc.stdout.readline().strip() for _ in range(200)]  # wait for 200 acks
    assert all(len(a) == 36 for a in acked), "the writer died before 200 upserts"
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate()
    acked += [line for line in rest.split("\n") if len(line) == 36]
    store = EdgeVectorStore(path)
    await store.open(4)
    try:
        found = await store.retrieve(acked)
        assert len(found) == len(acked)
    finally:
        await store.close()


# -- factory ---------------------------------------------------------------------------------


def test_factory(tmp_path: Path) -> None:
    edge = create_vector_store(MemoryConfig(data_dir=tmp_path))
    assert isinstance(edge, EdgeVectorStore)
    assert edge.path == tmp_path / "vectors" / "memories"
    local = create_vector_store(MemoryConfig(data_dir=tmp_path, vector_store="qdrant"))
    assert isinstance(local, QdrantVectorStore)
    assert local.path == tmp_path / "vectors" / "memories.qdrant-local"
    assert local.collection == "memories"
    server = create_vector_store(
        MemoryConfig(
            data_dir=tmp_path, vector_store="qdrant", qdrant_url="http://q:6333", collection="c"
        )
    )
    assert isinstance(server, QdrantVectorStore)
    assert (server.url, server.collection, server.path) == ("http://q:6333", "c", None)
    assert isinstance(edge, VectorStore) and isinstance(server, VectorStore)


async def test_unreachable_server_is_store_unavailable() -> None:
    store = QdrantVectorStore("m", url="http://127.0.0.1:9", timeout=2, check_compatibility=False)
    with pytest.raises(StoreUnavailableError, match="127.0.0.1:9"):
        await store.open(DIM)
