"""``mem0-mcp export`` / ``import``: a store moves between backends with nothing lost."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mcp_harness import MEM0_MCP, call, connect, http_server, server_env

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp import transfer as T
from mem0_mcp.cli import main as cli_main
from mem0_mcp.errors import NotFoundError
from mem0_mcp.transfer import TransferError, export_store, import_store, iter_points


async def _populate(mem: AsyncMemory) -> dict[str, str]:
    """Memories in three scopes, with an update, a delete and metadata; returns ids."""
    a = await mem.add("I live in Lisbon", user_id="alice", metadata={"topic": "home"})
    b = await mem.add("My favourite food is pizza", user_id="alice")
    c = await mem.add("Bob's PIN is 1234", user_id="bob", agent_id="helper")
    batch = await mem.add(
        [{"role": "user", "content": f"fact number {i} about the garden"} for i in range(9)],
        user_id="carol",
        run_id="r1",
    )
    ids = {"lisbon": a.results[0].id, "pizza": b.results[0].id, "pin": c.results[0].id}
    await mem.update(ids["lisbon"], "I live in Porto now")
    await mem.delete(ids["pizza"])
    ids["batch0"] = batch.results[0].id
    return ids


async def _snapshot(mem: AsyncMemory) -> dict[str, Any]:
    """Everything a store holds: points (payload, vectors) and history rows."""
    points: dict[str, Any] = {}
    async for page in iter_points(mem.vector_store):
        for p in page:
            assert p.id not in points, "a point was listed twice"
            points[p.id] = p
    rows = [r async for batch in mem.history_store.iter_rows() for r in batch]
    return {"points": points, "history": rows}


def _assert_same(a: dict[str, Any], b: dict[str, Any], *, exact_vectors: bool) -> None:
    assert a["points"].keys() == b["points"].keys()
    for pid, pa in a["points"].items():
        pb = b["points"][pid]
        assert pa.payload == pb.payload
        assert pa.sparse == pb.sparse
        va, vb = np.asarray(pa.vector, "f4"), np.asarray(pb.vector, "f4")
        if exact_vectors:
            assert np.array_equal(va, vb)
        else:  # qdrant-client normalises cosine vectors on the way in: float32 rounding
            np.testing.assert_allclose(va, vb, atol=1e-6)
    assert a["history"] == b["history"]


def _cfg(base: MemoryConfig, tmp_path: Path, name: str, backend: str) -> MemoryConfig:
    return base.model_copy(update={"data_dir": tmp_path / name, "vector_store": backend})


async def test_edge_to_qdrant_to_edge_loses_nothing(config: MemoryConfig, tmp_path: Path) -> None:
    edge1 = _cfg(config, tmp_path, "edge1", "edge")
    local = _cfg(config, tmp_path, "local", "qdrant")
    edge2 = _cfg(config, tmp_path, "edge2", "edge")
    f1, f2 = tmp_path / "one.jsonl", tmp_path / "two.jsonl.gz"

    async with AsyncMemory(edge1) as mem:
        ids = await _populate(mem)
        original = await _snapshot(mem)
        hits = await mem.search("where do I live", user_id="alice")
        stats = await export_store(mem, f1, progress=False)
    assert stats.memories == len(original["points"]) == 11
    assert stats.history == len(original["history"]) == 14  # 12 ADD, 1 UPDATE, 1 DELETE
    assert ids["pizza"] not in original["points"]
    assert any(r["memory_id"] == ids["pizza"] and r["is_deleted"] for r in original["history"])

    async with AsyncMemory(local) as mem:
        stats = await import_store(mem, f1, progress=False)
        assert (stats.memories, stats.history_new, stats.reembedded) == (11, 14, 0)
        _assert_same(original, await _snapshot(mem), exact_vectors=False)
        again = await mem.search("where do I live", user_id="alice")
        assert [h.id for h in again.results] == [h.id for h in hits.results]
        history = await mem.history(ids["pizza"])  # the deleted memory's trail came along
        assert [e.event for e in history.results] == ["ADD", "DELETE"]
        await export_store(mem, f2, progress=False)

    async with AsyncMemory(edge2) as mem:
        await import_store(mem, f2, progress=False)
        back = await _snapshot(mem)
        _assert_same(original, back, exact_vectors=False)
        item = await mem.get(ids["lisbon"])
        assert (item.memory, item.metadata) == ("I live in Porto now", {"topic": "home"})
        pin = await mem.search("PIN", user_id="bob", agent_id="helper", limit=1)
        assert pin.results[0].id == ids["pin"]
        # the moved store keeps working: writes, history continuity
        await mem.update(ids["pin"], "Bob's PIN is 5678")
        events = [e.event for e in (await mem.history(ids["pin"])).results]
        assert events == ["ADD", "UPDATE"]


async def _exported(
    config: MemoryConfig, tmp_path: Path
) -> tuple[dict[str, str], Path, MemoryConfig]:
    """An Edge store populated by ``_populate`` and exported: its ids, the file, and an
    empty target store on ``config``'s backend."""
    source = _cfg(config, tmp_path, "src", "edge")
    path = tmp_path / "dump.jsonl"
    async with AsyncMemory(source) as mem:
        ids = await _populate(mem)
        await export_store(mem, path, progress=False)
    return ids, path, _cfg(config, tmp_path, "dst", config.vector_store)


async def test_import_twice_is_the_same_store(
    any_backend_config: MemoryConfig, tmp_path: Path
) -> None:
    _, path, target = await _exported(any_backend_config, tmp_path)
    async with AsyncMemory(target) as mem:
        first = await import_store(mem, path, progress=False)
        once = await _snapshot(mem)
        second = await import_store(mem, path, progress=False)
        twice = await _snapshot(mem)
    assert first.history_new == first.history == 14
    assert (second.memories, second.history, second.history_new, second.kept) == (11, 14, 0, 11)
    # qdrant-client's local mode re-normalises cosine vectors on every upsert (float32 ulps)
    _assert_same(once, twice, exact_vectors=target.vector_store == "edge")


async def test_importing_again_after_the_target_changed_keeps_the_changes(
    any_backend_config: MemoryConfig, tmp_path: Path
) -> None:
    ids, path, target = await _exported(any_backend_config, tmp_path)
    async with AsyncMemory(target) as mem:
        await import_store(mem, path, progress=False)
        await mem.update(ids["lisbon"], "I live in Faro")
        await mem.delete(ids["pin"])
        again = await import_store(mem, path, progress=False)
        assert again.kept == 11
        assert (await mem.get(ids["lisbon"])).memory == "I live in Faro"
        with pytest.raises(NotFoundError):
            await mem.get(ids["pin"])
        events = [e.event for e in (await mem.history(ids["pin"])).results]
        assert events == ["ADD", "DELETE"]


async def test_ties_in_created_ts_never_skip_or_repeat(
    config: MemoryConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(T.format, "PAGE", 4)  # one add call = 30 memories sharing one timestamp
    async with AsyncMemory(config) as mem:
        await mem.add(
            [{"role": "user", "content": f"tie number {i}, a distinct fact"} for i in range(30)],
            user_id="u",
        )
        await mem.add("one more, later", user_id="u")
        seen = [p.id async for page in iter_points(mem.vector_store) for p in page]
        stats = await export_store(mem, tmp_path / "ties.jsonl", progress=False)
    assert len(seen) == len(set(seen)) == 31 == stats.memories


async def test_other_model_is_reembedded_or_refused(config: MemoryConfig, tmp_path: Path) -> None:
    path, renamed = tmp_path / "dump.jsonl", tmp_path / "other-model.jsonl"
    async with AsyncMemory(_cfg(config, tmp_path, "src", "edge")) as mem:
        await mem.add("I live in Lisbon", user_id="alice")
        await mem.add("I keep bees", user_id="alice")
        original = await _snapshot(mem)
        await export_store(mem, path, progress=False)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header.update(embedding_model="some/other-model", dim=768)
    # vectors of the "other model": 768-d, all alike
    other = [json.dumps(header)]
    for line in lines[1:]:
        obj = json.loads(line)
        if obj["type"] == "memory":
            obj["vector"] = T.encode_vector([1.0] + [0.0] * 767)
        other.append(json.dumps(obj))
    renamed.write_text("\n".join(other) + "\n")

    async with AsyncMemory(_cfg(config, tmp_path, "refuse", "edge")) as mem:
        with pytest.raises(TransferError, match="some/other-model .768-d."):
            await import_store(mem, renamed, reembed="never", progress=False)
        assert await mem.vector_store.count(filter=None) == 0
        assert await mem.history_store.count_rows() == 0

    async with AsyncMemory(_cfg(config, tmp_path, "reembed", "edge")) as mem:
        stats = await import_store(mem, renamed, progress=False)
        assert stats.reembedded == 2
        _assert_same(original, await _snapshot(mem), exact_vectors=True)


async def test_truncated_or_foreign_files_are_refused(config: MemoryConfig, tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl"
    async with AsyncMemory(_cfg(config, tmp_path, "src", "edge")) as mem:
        await mem.add("I live in Lisbon", user_id="alice")
        await export_store(mem, path, progress=False)
    truncated = tmp_path / "cut.jsonl"
    truncated.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"hello": "world"}\n')
    async with AsyncMemory(_cfg(config, tmp_path, "dst", "edge")) as mem:
        with pytest.raises(TransferError, match="truncated .* nothing was imported"):
            await import_store(mem, truncated, progress=False)
        with pytest.raises(TransferError, match="not a mem0-mcp export"):
            await import_store(mem, foreign, progress=False)
        assert await mem.vector_store.count(filter=None) == 0
        assert await mem.history_store.count_rows() == 0
        stats = await import_store(mem, path, progress=False)
        assert stats.history_new == 1 and stats.memories == 1


async def test_file_format(config: MemoryConfig, tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl.gz"
    async with AsyncMemory(config) as mem:
        await mem.add("I live in Lisbon", user_id="alice")
        (point,) = await mem.vector_store.scroll(filter=None, limit=1, with_vectors=True)
        await export_store(mem, path, progress=False)
    assert not path.with_name(path.name + ".part").exists()
    lines = [json.loads(line) for line in gzip.open(path, "rt")]
    assert [line["type"] for line in lines] == ["header", "memory", "history", "end"]
    header, memory, history, end = lines
    assert header["format"] == "mem0-mcp-export" and header["version"] == 1
    assert (header["embedding_model"], header["dim"]) == (config.embedding_model, 384)
    assert memory["payload"]["data"] == "I live in Lisbon" and "_lc" not in memory["payload"]
    assert T.decode_vector(memory["vector"]) == point.vector  # float32-exact
    assert memory["sparse"]["indices"]
    assert history["event"] == "ADD" and history["user_id"] == "alice"
    assert end == {"type": "end", "memories": 1, "history": 1}


def test_cli_export_import(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import asyncio

    monkeypatch.setenv("MEM0_MCP_EMBEDDING_MODEL_PATH", str(model_dir))
    monkeypatch.setenv("MEM0_MCP_LOG_LEVEL", "WARNING")
    src, dst, path = tmp_path / "src", tmp_path / "dst", tmp_path / "dump.jsonl"

    async def seed() -> None:
        async with AsyncMemory(MemoryConfig(data_dir=src)) as mem:
            await mem.add("I live in Lisbon", user_id="alice")

    asyncio.run(seed())
    cli_main(["export", "--data-dir", str(src), str(path), "--no-progress"])
    assert "exported 1 memories and 1 history rows" in capsys.readouterr().err
    for _ in range(2):
        cli_main(["import", "--data-dir", str(dst), "--vector-store", "qdrant", str(path)])
    assert "(0 new)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli_main(["import", "--data-dir", str(dst), str(tmp_path / "missing.jsonl")])
    assert exc.value.code == 2
    assert "no such file" in capsys.readouterr().err


async def test_cli_export_and_import_go_through_a_running_server(
    model_dir: Path, tmp_path: Path
) -> None:
    env = server_env(tmp_path / "data", model_dir)
    dump = tmp_path / "dump.jsonl.gz"
    with http_server(env) as url:
        async with connect("streamable-http", env, url=url) as session:
            await call(session, "add_memory", text="Alice lives in Porto", user_id="alice")
            cli = [MEM0_MCP, "export", str(dump)]
            exported = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
            assert exported.returncode == 0, exported.stderr
            assert "exported 1 memories and 1 history rows" in exported.stderr
            cli = [MEM0_MCP, "import", str(dump)]
            imported = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
            assert imported.returncode == 0, imported.stderr
            assert "1 history rows (0 new)" in imported.stderr  # idempotent, through the owner
            # The server kept serving throughout, and still does.
            found = await call(session, "search_memories", query="Porto", user_id="alice")
            assert [h["memory"] for h in found["results"]] == ["Alice lives in Porto"]
    assert not (tmp_path / "data" / "owner.json").exists()  # the server exited cleanly
