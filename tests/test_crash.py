"""Crash safety across the two stores: SIGKILL a writer at random points; after a restart
the vector store and the history agree, and no acknowledged write is lost.

The write order that makes this hold (``journal.Journal.apply``): history rows and a journal
entry commit in one SQLite transaction → the vector store applies the change → the journal
entry is dropped. Opening the store replays any journal entry left behind.
Rounds: ``CRASH_ROUNDS`` (default 4; bench/soak_crash.sh runs many more).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mem0_mcp import AsyncMemory, MemoryConfig

WORKER = Path(__file__).parent / "workers" / "crash_writer.py"
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "4"))


def _run_and_kill(data_dir: Path, model_dir: Path, seed: int, rng: random.Random) -> list[tuple]:
    """Run the writer until a random number of acknowledged steps, SIGKILL it, and return
    the ("BEGIN"|"ACK", data) lines it printed."""
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(data_dir), str(model_dir), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[tuple] = []
    kill_after = rng.randrange(5, 60)
    acks = 0

    def read() -> None:
        nonlocal acks
        assert proc.stdout is not None
        for raw in proc.stdout:
            kind, _, payload = raw.strip().partition(" ")
            lines.append((kind, json.loads(payload) if payload else {}))
            acks += kind == "ACK"

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while acks < kill_after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.0005, 0.005))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join(timeout=5)
    assert acks >= kill_after, "the writer did not get far enough"
    return lines


def _expected(lines: list[tuple]) -> tuple[dict[str, str | None], dict | None]:
    """Acknowledged state per id (None = deleted), and the step in flight at the kill."""
    state: dict[str, str | None] = {}
    in_flight = None
    for kind, data in lines:
        if kind == "BEGIN":
            in_flight = data
        elif kind == "ACK":
            state[data["id"]] = data["text"]
            in_flight = None
    return state, in_flight


def _history(data_dir: Path) -> dict[str, tuple[str, str | None]]:
    """Last event and text per memory id, read straight from the SQLite file."""
    with sqlite3.connect(data_dir / "history.db") as db:
        rows = db.execute(
            "SELECT memory_id, event, new_memory FROM history ORDER BY rowid"
        ).fetchall()
    last: dict[str, tuple[str, str | None]] = {}
    for mid, event, new in rows:
        last[mid] = (event, new)
    return last


@pytest.mark.slow
async def test_sigkill_at_random_points_loses_nothing_acknowledged(
    tmp_path: Path, model_dir: Path
) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random(20261122)
    acknowledged: dict[str, str | None] = {}
    for round_no in range(ROUNDS):
        lines = _run_and_kill(data_dir, model_dir, seed=round_no, rng=rng)
        state, in_flight = _expected(lines)
        acknowledged.update(state)

        config = MemoryConfig(data_dir=data_dir, embedding_model_path=model_dir)
        async with AsyncMemory(config) as memory:
            stored = {
                p.id: p.payload["data"]
                for p in await memory.vector_store.scroll(filter=None, limit=100_000)
            }
            assert await memory.history_store.pending() == []
        history = _history(data_dir)

        # The two stores agree: every memory with a live history is stored with its latest
        # text, and every stored memory has a history.
        for mid, (event, new) in history.items():
            assert stored.get(mid) == (None if event == "DELETE" else new), (round_no, mid)
        assert set(stored) <= set(history)

        # Nothing acknowledged is lost (the one step in flight may have gone either way).
        flying = in_flight.get("id") if in_flight else None
        for mid, text in acknowledged.items():
            if mid == flying:
                continue
            assert stored.get(mid) == text, (round_no, mid, text)
        if in_flight and in_flight["op"] == "add":
            # An add in flight either fully happened or not at all.
            matches = [m for m, t in stored.items() if t == in_flight["text"]]
            assert len(matches) <= 1
            acknowledged.update({m: in_flight["text"] for m in matches})
        elif flying:
            acknowledged[flying] = stored.get(flying)
