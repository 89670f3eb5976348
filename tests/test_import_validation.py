"""``mem0-mcp import`` takes only what the tools could have stored, all or nothing, in
bounded memory: a bad file leaves the store exactly as it was (the same export before and
after) and the error names the line and the field."""

from __future__ import annotations

import base64
import gzip
import json
import math
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.cli import main as cli_main
from mem0_mcp.errors import NotFoundError
from mem0_mcp.keywords import KeywordEncoder
from mem0_mcp.models import Scope
from mem0_mcp.payload import build_payload
from mem0_mcp.transfer import (
    TransferError,
    encode_vector,
    export_store,
    import_store,
    max_line_bytes,
)

DIM = 384
MEM0_MCP = Path(sys.executable).with_name("mem0-mcp")
_KEYWORDS = KeywordEncoder()
_NAMESPACE = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")


# -- building export files without the model -------------------------------------------------


def _memory_line(i: int, text: str | None = None) -> dict[str, Any]:
    """A valid memory line: distinct creation times, a random unit vector."""
    text = text or f"synthetic fact number {i} about tea and gardens"
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i)
    payload = build_payload(
        text, scope=Scope(user_id="importer"), metadata={"n": i}, created=created
    )
    del payload["_lc"]
    vector = np.random.default_rng(i).normal(size=DIM)
    sparse = _KEYWORDS.document(text)
    return {
        "type": "memory",
        "id": str(uuid.uuid5(_NAMESPACE, str(i))),
        "payload": payload,
        "vector": encode_vector((vector / np.linalg.norm(vector)).tolist()),
        "sparse": {"indices": sparse.indices, "values": sparse.values},
    }


def _history_line(memory: dict[str, Any]) -> dict[str, Any]:
    """The ADD row of a memory line."""
    p = memory["payload"]
    return {
        "type": "history",
        "id": str(uuid.uuid5(_NAMESPACE, "row-" + memory["id"])),
        "memory_id": memory["id"],
        "old_memory": None,
        "new_memory": p["data"],
        "event": "ADD",
        "created_at": p["created_at"],
        "updated_at": None,
        "is_deleted": False,
        "actor_id": None,
        "role": None,
        "user_id": p["user_id"],
        "agent_id": None,
        "run_id": None,
    }


def _write_export(path: Path, memories: int, change: Callable[[list[dict]], None] | None = None):
    """A file of ``memories`` memory lines and their ADD rows; ``change`` edits the list of
    line objects (header first) before writing. Returns the path."""
    mems = [_memory_line(i) for i in range(memories)]
    lines: list[dict[str, Any]] = [
        {
            "type": "header",
            "format": "mem0-mcp-export",
            "version": 1,
            "embedding_model": "sentence-transformers/all-MiniLM-L6-v2",
            "dim": DIM,
            "memories": memories,
            "history": memories,
        },
        *mems,
        *(_history_line(m) for m in mems),
        {"type": "end", "memories": memories, "history": memories},
    ]
    if change:
        change(lines)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as out:
        for line in lines:
            out.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


# -- the store before and after ---------------------------------------------------------------


async def _populated(config: MemoryConfig) -> None:
    """A target that already holds memories, an update and a delete."""
    async with AsyncMemory(config) as mem:
        a = await mem.add("I live in Lisbon", user_id="alice", metadata={"topic": "home"})
        b = await mem.add("Bob likes green tea", user_id="bob", agent_id="helper")
        await mem.add("Carol grows tomatoes", user_id="carol", run_id="r1")
        await mem.update(a.results[0].id, "I live in Porto now")
        await mem.delete(b.results[0].id)


async def _fingerprint(mem: AsyncMemory, tmp_path: Path) -> list[str]:
    """The store's export, header without ``exported_at``, lines sorted (memories created
    at one instant come in no fixed order); the journal must be empty."""
    assert await mem.history_store.pending() == []
    path = tmp_path / f"fingerprint-{uuid.uuid4().hex}.jsonl"
    await export_store(mem, path, progress=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.unlink()
    header = json.loads(lines[0])
    del header["exported_at"]
    return sorted([json.dumps(header), *lines[1:]])


def _nan_vector() -> dict[str, str]:
    raw = struct.pack(f"<{DIM}f", *([math.nan] + [0.1] * (DIM - 1)))
    return {"dtype": "float32", "b64": base64.b64encode(raw).decode()}


def _set(index: int, *path_and_value: Any) -> Callable[[list[dict]], None]:
    """An edit of line ``index`` (0 = header): set the nested key path to the value."""
    *keys, value = path_and_value

    def change(lines: list[dict]) -> None:
        target = lines[index]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def _replace(index: int, raw: str) -> Callable[[list[dict]], None]:
    def change(lines: list[Any]) -> None:
        lines[index] = raw

    return change


# 4 memories: line 1 header, lines 2-5 memories, 6-9 history rows, 10 end.
BAD_LINES = {
    "text over the limit": (
        _set(2, "payload", "data", "x" * 1_000_000),
        r"line 3: \(memory .*\) payload.data: is 1000000 bytes, over the 65536-byte limit",
    ),
    "500 metadata keys": (
        _set(3, "payload", "metadata", {f"k{i}": i for i in range(500)}),
        r"line 4: .*metadata: has 500 keys; at most 64",
    ),
    "metadata too deep": (
        _set(3, "payload", "metadata", {"a": {"b": {"c": {"d": {"e": 1}}}}}),
        r"line 4: .*metadata.a.b.c.d: nests deeper than 4 levels",
    ),
    "NaN vector": (_set(1, "vector", _nan_vector()), r"line 2: .*vector: holds NaN"),
    "NaN literal": (_replace(1, '{"type": "memory", "x": NaN}'), r"line 2: not JSON .*NaN"),
    "zero vector": (
        _set(1, "vector", encode_vector([0.0] * DIM)),
        r"line 2: .*vector: has a zero .*length",
    ),
    "wrong dimension": (
        _set(1, "vector", encode_vector([0.5] * 768)),
        r"line 2: .*vector: must be a list of 384 numbers, got 768",
    ),
    "vector not base64": (
        _set(1, "vector", {"dtype": "float32", "b64": "@@@"}),
        r"line 2: .*vector: must be \{",
    ),
    "invalid history event": (
        _set(6, "event", "MERGE"),
        r"line 7: \(history\) event: 'MERGE' is not one of ADD, UPDATE, DELETE, NONE",
    ),
    "is_deleted not a boolean": (_set(6, "is_deleted", "no"), r"line 7: .*is_deleted: must be"),
    "history row without its text": (
        _set(6, "new_memory", None),
        r"line 7: .*new_memory: is required in an ADD row",
    ),
    "history time without offset": (
        _set(7, "created_at", "2026-01-01T00:00:00"),
        r"line 8: .*created_at: .* is not an ISO 8601 time with a UTC offset",
    ),
    "id not a UUID": (_set(1, "id", "42"), r"line 2: .*id: '42' is not a UUID"),
    "no scope": (
        _set(1, "payload", "user_id", None),
        r"line 2: .*payload.user_id: every memory belongs to a user_id",
    ),
    "scope id with a control character": (
        _set(1, "payload", "user_id", "al\nice"),
        r"line 2: .*payload.user_id: must be 1-256 printable",
    ),
    "unknown payload key": (
        _set(1, "payload", "owner", "mallory"),
        r"line 2: .*payload.owner: is not a known field",
    ),
    "lone surrogate in metadata": (
        _set(1, "payload", "metadata", {"k": "\ud800"}),
        r"line 2: .*metadata: contains invalid unicode",
    ),
    "lone surrogate in a scope id": (
        _set(1, "payload", "agent_id", "\udfff"),
        r"line 2: .*payload.agent_id: must be 1-256 printable characters",
    ),
    "duplicate keyword indices": (
        _set(1, "sparse", {"indices": [1, 1], "values": [1.0, 1.0]}),
        r"line 2: .*sparse.indices: must be distinct",
    ),
    "keyword vector lengths differ": (
        _set(1, "sparse", {"indices": [1, 2], "values": [1.0]}),
        r"line 2: .*sparse: indices and values must be lists of the same length",
    ),
    "not JSON": (_replace(5, "{not json"), r"line 6: not JSON"),
    "deep JSON": (_replace(5, "[" * 200_000), r"line 6: JSON nested too deeply"),
    "a list, not an object": (_replace(5, "[1, 2]"), r"line 6: not a JSON object"),
    "unknown line type": (_set(5, "type", "vector"), r"line 6: unexpected line type 'vector'"),
    "end count wrong": (_set(9, "memories", 5), r"line 10: the end line promises 5 memories"),
    "data after the end": (lambda lines: lines.append(lines[1]), r"line 11: data after the end"),
    "header dim not a count": (_set(0, "dim", "384"), r"line 1: the header's dim must be"),
}


@pytest.fixture
async def target(config: MemoryConfig, tmp_path: Path):
    """An opened store already holding memories, and its fingerprint."""
    await _populated(config)
    async with AsyncMemory(config) as mem:
        yield mem, await _fingerprint(mem, tmp_path)


@pytest.mark.parametrize("case", list(BAD_LINES))
async def test_a_bad_line_is_named_and_nothing_is_imported(
    case: str, target: tuple[AsyncMemory, list[str]], tmp_path: Path
) -> None:
    mem, before = target
    change, message = BAD_LINES[case]
    path = _write_export(tmp_path / "bad.jsonl", 4, change)
    with pytest.raises(TransferError, match=message) as caught:
        await import_store(mem, path, progress=False)
    assert str(caught.value).startswith(str(path))
    assert "nothing was imported" in str(caught.value).lower()
    assert await _fingerprint(mem, tmp_path) == before
    # the same file, fixed, goes in whole
    stats = await import_store(mem, _write_export(tmp_path / "good.jsonl", 4), progress=False)
    assert (stats.memories, stats.history_new) == (4, 4)


async def test_a_failure_after_several_batches_leaves_the_store_as_it_was(
    target: tuple[AsyncMemory, list[str]], tmp_path: Path
) -> None:
    """1,200 memories (three staging batches of at most 512) and their history; the bad
    history row is line 2,301, long after the memories were read."""
    mem, before = target
    path = _write_export(tmp_path / "late.jsonl", 1200, _set(1 + 1200 + 1099, "event", "MERGE"))
    with pytest.raises(TransferError, match=r"line 2301: \(history\) event: 'MERGE'"):
        await import_store(mem, path, progress=False)
    assert await _fingerprint(mem, tmp_path) == before


async def test_a_failure_while_staging_rolls_back_every_batch(
    target: tuple[AsyncMemory, list[str]], tmp_path: Path
) -> None:
    """Each line is valid, but memory 1,150 has no history row: found once every batch has
    been staged in the history transaction, which is then rolled back."""
    mem, before = target

    def drop_row(lines: list[dict]) -> None:
        del lines[1 + 1200 + 1150]
        lines[-1]["history"] = 1199

    path = _write_export(tmp_path / "orphan.jsonl", 1200, drop_row)
    orphan = str(uuid.uuid5(_NAMESPACE, "1150"))
    with pytest.raises(TransferError, match=f"memories {orphan} have no history row"):
        await import_store(mem, path, progress=False)
    assert await _fingerprint(mem, tmp_path) == before


async def test_an_import_gives_back_the_space_its_journal_took(
    config: MemoryConfig, tmp_path: Path
) -> None:
    path = _write_export(tmp_path / "many.jsonl", 1200)
    async with AsyncMemory(config) as mem:
        stats = await import_store(mem, path, progress=False)
        assert stats.history_new == 1200
    with sqlite3.connect(config.history_path) as db:
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    assert free < 0.1 * pages, (free, pages)


async def test_limits_are_the_target_stores_settings(config: MemoryConfig, tmp_path: Path) -> None:
    path = _write_export(tmp_path / "long.jsonl", 2, _set(1, "payload", "data", "y" * 100_000))
    async with AsyncMemory(config) as mem:
        with pytest.raises(TransferError, match="over the 65536-byte limit"):
            await import_store(mem, path, progress=False)
    roomy = config.model_copy(update={"data_dir": tmp_path / "roomy", "max_text_bytes": 200_000})
    async with AsyncMemory(roomy) as mem:
        await import_store(mem, path, progress=False)
        assert len((await mem.get(str(uuid.uuid5(_NAMESPACE, "0")))).memory) == 100_000


async def test_the_largest_valid_lines_fit_under_the_line_cap(
    config: MemoryConfig, tmp_path: Path
) -> None:
    """Texts at the size limit made of what grows most as JSON: control characters (6
    bytes each, escaped) and distinct two-letter words (keyword vector ~4.7 bytes per byte);
    an update puts two such texts in one history row."""
    limit = config.max_text_bytes
    words = " ".join(a + b for a in "bcdfghjklmnpqrstvwxz" for b in "aeiouy0123456789")
    wordy = (words + " " + " ".join(f"w{i}" for i in range(20_000)))[:limit].strip()
    path = tmp_path / "largest.jsonl"
    async with AsyncMemory(config) as mem:
        await mem.add(wordy, user_id="u", infer=False)
        escaped = await mem.add("a" + "\x01" * (limit - 1), user_id="u", infer=False)
        await mem.update(escaped.results[0].id, "b" + "\x01" * (limit - 1))
        await export_store(mem, path, progress=False)
    lines = path.read_bytes().splitlines()
    assert sorted(len(line) // limit for line in lines[1:3]) == [3, 6]  # the two memories
    assert 11 * limit < max(len(line) for line in lines) <= max_line_bytes(config)
    async with AsyncMemory(config.model_copy(update={"data_dir": tmp_path / "copy"})) as mem:
        stats = await import_store(mem, path, progress=False)
        assert (stats.memories, stats.history_new) == (2, 3)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", " ", "\ud800", "ADD", "DELETE", "user", "2026-01-01T00:00:00+00:00"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
# (line index in a one-memory file, key path) pairs to overwrite
PLACES = (
    [(1, (key,)) for key in ("type", "id", "payload", "vector", "sparse", "extra")]
    + [
        (1, ("payload", key))
        for key in ("data", "user_id", "agent_id", "metadata", "created_at", "role", "hash", "x")
    ]
    + [
        (2, (key,))
        for key in ("id", "memory_id", "event", "new_memory", "old_memory", "created_at")
        + ("is_deleted", "role", "user_id", "y")
    ]
    + [(0, ("dim",)), (0, ("version",)), (3, ("history",))]
)


@pytest.fixture(scope="module")
def live_store(tmp_path_factory: pytest.TempPathFactory, model_dir: Path):
    """A store opened once for many hypothesis examples, driven through a portal."""
    tmp = tmp_path_factory.mktemp("fuzz")
    config = MemoryConfig(data_dir=tmp / "data", embedding_model_path=model_dir)

    @asynccontextmanager
    async def opened():
        await _populated(config)
        async with AsyncMemory(config) as mem:
            yield mem

    with anyio.from_thread.start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(opened()) as mem:
            yield portal, mem, tmp


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(PLACES), value=json_values)
def test_any_value_anywhere_is_imported_or_refused_with_nothing_written(
    live_store: tuple, place: tuple[int, tuple[str, ...]], value: Any
) -> None:
    portal, mem, tmp = live_store
    index, keys = place
    path = _write_export(tmp / "fuzz.jsonl", 1, _set(index, *keys, value))
    before = portal.call(_fingerprint, mem, tmp)
    try:
        portal.call(lambda: import_store(mem, path, progress=False))
    except TransferError as exc:
        assert str(exc).startswith(str(path)) and "nothing was imported" in str(exc).lower()
        assert portal.call(_fingerprint, mem, tmp) == before
    # whatever went in, the store still answers, history included
    for mid in (_memory_line(0)["id"],):
        portal.call(lambda: mem.get_all(user_id="importer", limit=5))  # noqa: B023
        try:
            portal.call(lambda: mem.history(mid))  # noqa: B023
        except NotFoundError:
            pass


# -- bounded memory: real `mem0-mcp import` processes ----------------------------------------

# Runs the command as its only child and prints the child's peak RSS (KiB on Linux).
_PEAK = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


def _cli_import(path: Path, data_dir: Path, model_dir: Path) -> tuple[int, int, str]:
    """(peak RSS in MiB, exit status, stderr) of ``mem0-mcp import path``."""
    env = {**os.environ, "MEM0_MCP_EMBEDDING_MODEL_PATH": str(model_dir)}
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, str(MEM0_MCP), "import", "--data-dir", str(data_dir)]
        + ["--log-level", "WARNING", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    return int(proc.stdout.split()[-1]) // 1024, proc.returncode, proc.stderr


def _long_line_file(path: Path, size: int) -> Path:
    """A header, then a memory line whose text is ``size`` bytes, written in 1 MiB steps."""
    opener = gzip.open if path.name.endswith(".gz") else open
    header = _write_export(tmp := path.with_name("header.jsonl"), 0).read_text().splitlines()[0]
    tmp.unlink()
    chunk = "x" * (1 << 20)
    with opener(path, "wt", encoding="utf-8") as out:
        out.write(header + '\n{"type": "memory", "payload": {"data": "')
        for _ in range(size >> 20):
            out.write(chunk)
        out.write('"}}\n')
    return path


async def test_a_very_long_line_is_refused_unread(
    config: MemoryConfig, model_dir: Path, tmp_path: Path
) -> None:
    """Peak RSS of the import process with a 64 MiB line (plain) and a 1 GiB line (gzip, as
    in the report that hit the OOM killer) stays within 32 MiB of an import of a small valid
    file: the line is never held (it would add at least its own size)."""
    await _populated(config)
    async with AsyncMemory(config) as mem:
        before = await _fingerprint(mem, tmp_path)
    small = _write_export(tmp_path / "small.jsonl", 20)
    baseline, status, err = _cli_import(small, tmp_path / "scratch", model_dir)
    assert status == 0, err
    cap = max_line_bytes(config)
    for path, size in (
        (tmp_path / "long.jsonl", 64 << 20),
        (tmp_path / "huge.jsonl.gz", 1 << 30),
    ):
        _long_line_file(path, size)
        peak, status, err = _cli_import(path, config.data_dir, model_dir)
        assert status == 2
        assert err.strip().splitlines()[-1] == (
            f"mem0-mcp import: {path}, line 2: longer than {cap} bytes, more than any line "
            "of an export can hold under this store's limits (MEM0_MCP_MAX_TEXT_BYTES, "
            "MEM0_MCP_MAX_METADATA_BYTES); nothing was imported"
        )
        assert "Traceback" not in err
        assert peak < baseline + 32, (path.name, peak, baseline)
    async with AsyncMemory(config) as mem:
        assert await _fingerprint(mem, tmp_path) == before


# -- a crash is all or nothing ----------------------------------------------------------------


def _journal_size(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'history.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM journal").fetchone()[0]


@pytest.mark.slow
async def test_a_killed_import_leaves_the_store_before_or_after_never_between(
    config: MemoryConfig, model_dir: Path, tmp_path: Path
) -> None:
    """SIGKILL the import process while it checks and stages (nothing committed yet), and
    again while it applies (the journal holds the committed rest): after reopening, the
    store equals either the store before the import or the store a complete import gives."""
    await _populated(config)
    async with AsyncMemory(config) as mem:
        before = await _fingerprint(mem, tmp_path)
    path = _write_export(tmp_path / "big.jsonl", 3000)
    complete = config.model_copy(update={"data_dir": tmp_path / "complete"})
    shutil.copytree(config.data_dir, complete.data_dir)
    async with AsyncMemory(complete) as mem:
        await import_store(mem, path, progress=False)
        after = await _fingerprint(mem, tmp_path)
    assert after != before

    env = {**os.environ, "MEM0_MCP_EMBEDDING_MODEL_PATH": str(model_dir)}
    outcomes = []
    for when in ("staging", "applying"):
        victim = config.model_copy(update={"data_dir": tmp_path / f"killed-{when}"})
        shutil.copytree(config.data_dir, victim.data_dir)
        proc = subprocess.Popen(
            [str(MEM0_MCP), "import", "--data-dir", str(victim.data_dir), str(path)],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        # staging: once the importer holds the history's write lock (its -wal grows);
        # applying: once the committed journal is visible to another reader.
        wal = victim.data_dir / "history.db-wal"
        start_size = wal.stat().st_size if wal.exists() else 0
        while proc.poll() is None and time.monotonic() < deadline:
            if when == "staging" and wal.exists() and wal.stat().st_size > start_size + (1 << 20):
                break
            if when == "applying" and _journal_size(victim.data_dir) > 0:
                break
            time.sleep(0.002)
        assert proc.poll() is None, "the import finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        async with AsyncMemory(victim) as mem:  # replays what the journal holds
            state = await _fingerprint(mem, tmp_path)
        assert state in (before, after)
        outcomes.append(state == after)
    assert outcomes == [False, True]


async def test_a_journal_written_before_the_float32_encoding_still_replays(
    config: MemoryConfig,
) -> None:
    """Journal points now hold their vector as base64 float32 (an import stages its whole
    file there); an entry a previous release left with decimal floats is still applied."""
    point = _memory_line(7)
    vector = np.frombuffer(base64.b64decode(point["vector"]["b64"]), "<f4").astype(float)
    async with AsyncMemory(config) as mem:
        await mem.history_store.record([], [])  # creates history.db
    with sqlite3.connect(config.history_path) as db:
        db.execute(
            "INSERT INTO journal (op, memory_id, point) VALUES ('upsert', ?, ?)",
            (point["id"], json.dumps({"vector": vector.tolist(), "payload": point["payload"]})),
        )
    async with AsyncMemory(config) as mem:
        (stored,) = await mem.vector_store.retrieve([point["id"]], with_vectors=True)
        assert stored.payload["data"] == point["payload"]["data"]
        assert np.allclose(stored.vector, vector / np.linalg.norm(vector), atol=1e-6)
        assert await mem.history_store.pending() == []


# -- the command line -------------------------------------------------------------------------


def test_cli_errors_are_one_line_without_a_traceback(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("MEM0_MCP_EMBEDDING_MODEL_PATH", str(model_dir))
    monkeypatch.setenv("MEM0_MCP_LOG_LEVEL", "WARNING")
    data = tmp_path / "data"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bad = _write_export(tmp_path / "bad.jsonl.gz", 3, _set(5, "event", "MERGE"))
    good = _write_export(tmp_path / "good.jsonl.gz", 3)
    (tmp_path / "torn.jsonl.gz").write_bytes(good.read_bytes()[:-20])
    cases = [
        (["export", str(blocker / "out.jsonl")], f"cannot write {blocker / 'out.jsonl'}: "),
        (["import", str(bad)], "line 6: (history) event: 'MERGE' is not one of"),
        (["import", str(tmp_path / "torn.jsonl.gz")], "cannot read it"),
        (["import", str(tmp_path)], "no such file"),
    ]
    for argv, expected in cases:
        with pytest.raises(SystemExit) as exc:
            cli_main([argv[0], "--data-dir", str(data), argv[1], "--no-progress"])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"mem0-mcp {argv[0]}: " in err and expected in err, err


def test_cli_exits_when_the_store_cannot_be_opened(tmp_path: Path) -> None:
    """A failed open used to leave the history's connection thread running: the error was
    printed and the process never exited."""
    env = {**os.environ, "MEM0_MCP_EMBEDDING_MODEL_PATH": str(tmp_path / "no-model")}
    dump = tmp_path / "dump.jsonl"
    dump.write_text("")
    for command, file in (("export", tmp_path / "out.jsonl"), ("import", dump)):
        proc = subprocess.run(
            [str(MEM0_MCP), command, "--data-dir", str(tmp_path / "data"), str(file)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 2
        assert proc.stderr.splitlines()[-1].startswith(f"mem0-mcp {command}: embedding_model_path")
