"""The append-only history of every change, and the write-ahead journal, in one SQLite file.

Tables:

* ``history`` — mem0-compatible columns ``id, memory_id, old_memory, new_memory, event,
  created_at, updated_at, is_deleted, actor_id, role``; indexed on ``memory_id``. Rows are
  never updated or deleted (``reset`` aside), so a memory's trail outlives the memory.
  ``created_at`` is when the event happened; ``updated_at`` is set on UPDATE and DELETE.
* ``journal`` — vector-store operations not yet known to be applied (``journal.JournalEntry``,
  stored as ``op``, ``memory_id`` and its encoded point). They are written *in the same
  transaction* as their history rows, before the vector store is touched, and removed once
  it has applied them; ``journal.Journal`` owns that write path and the replay on open.

WAL journal mode and a busy timeout keep readers and the writer from "database is locked".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from .journal import HistoryRow, JournalEntry
from .models import HistoryEvent, Scope

_SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    id          TEXT PRIMARY KEY,
    memory_id   TEXT NOT NULL,
    old_memory  TEXT,
    new_memory  TEXT,
    event       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT,
    is_deleted  INTEGER NOT NULL DEFAULT 0,
    actor_id    TEXT,
    role        TEXT,
    -- beyond mem0's columns: the memory's scope, so a token bound to a scope can be checked
    -- against a memory's trail even after the memory is deleted.
    user_id     TEXT,
    agent_id    TEXT,
    run_id      TEXT
);
CREATE INDEX IF NOT EXISTS idx_history_memory_id ON history(memory_id);
CREATE TABLE IF NOT EXISTS journal (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    op         TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    memory_id  TEXT NOT NULL,
    point      TEXT
);
"""

BUSY_TIMEOUT_MS = 30_000


class HistoryStore:
    """Async access to ``history.db``. One instance per process that owns the store."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        # One connection, so one transaction at a time: without this, two concurrent writers
        # share SQLite's implicit transaction and one's rollback discards the other's rows.
        self._tx = asyncio.Lock()

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self._path, timeout=BUSY_TIMEOUT_MS / 1000)
        await db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a process crash (the WAL is written before
        # commit returns); only an OS crash or power loss can lose the last commits.
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await db.executescript(_SCHEMA)
        await db.commit()
        self._db = db

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("history store is not open")
        return self._db

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for one write transaction: committed on exit, rolled back on error."""
        async with self._tx:
            db = self.db
            try:
                yield db
                await db.commit()
            except BaseException:
                await db.rollback()
                raise

    async def record(
        self, rows: Sequence[HistoryRow], journal: Sequence[JournalEntry]
    ) -> list[int]:
        """Append history rows and journal entries in one transaction.

        Returns the journal sequence numbers, in order, to pass to ``applied`` once the
        vector store holds the change.
        """
        seqs: list[int] = []
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO history (id, memory_id, old_memory, new_memory, event, created_at,"
                " updated_at, is_deleted, actor_id, role, user_id, agent_id, run_id)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        r.id,
                        r.memory_id,
                        r.old_memory,
                        r.new_memory,
                        r.event,
                        r.created_at,
                        None if r.event == "ADD" else r.created_at,
                        int(r.is_deleted),
                        r.actor_id,
                        r.role,
                        *r.scope.key(),
                    )
                    for r in rows
                ],
            )
            for entry in journal:
                cursor = await db.execute(
                    "INSERT INTO journal (op, memory_id, point) VALUES (?,?,?)",
                    (entry.op, entry.memory_id, entry.encode()),
                )
                seqs.append(int(cursor.lastrowid or 0))
        return seqs

    async def applied(self, seqs: Sequence[int]) -> None:
        """Forget journal entries whose operation the vector store now holds."""
        if not seqs:
            return
        async with self._transaction() as db:
            await db.executemany("DELETE FROM journal WHERE seq = ?", [(s,) for s in seqs])

    async def revert(self, seqs: Sequence[int], row_ids: Sequence[str]) -> None:
        """Undo a ``record`` whose change the vector store refused: its journal entries and
        its history rows go, in one transaction."""
        async with self._transaction() as db:
            await db.executemany("DELETE FROM journal WHERE seq = ?", [(s,) for s in seqs])
            await db.executemany("DELETE FROM history WHERE id = ?", [(i,) for i in row_ids])

    async def pending(self, *, after: int = 0, limit: int | None = None) -> list[JournalEntry]:
        """Journal entries not yet marked applied, oldest first: those with a ``seq`` greater
        than ``after``, at most ``limit`` of them (all when ``None``)."""
        async with self.db.execute(
            "SELECT seq, op, memory_id, point FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, -1 if limit is None else limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [JournalEntry.decode(seq, op, mid, p) for seq, op, mid, p in rows]

    async def history(self, memory_id: str) -> tuple[list[HistoryEvent], Scope | None]:
        """Every event of one memory, oldest first, and the memory's scope (from its first
        row); ``([], None)`` if the id was never used."""
        async with self.db.execute(
            "SELECT id, memory_id, old_memory, new_memory, event, created_at, updated_at,"
            " is_deleted, actor_id, role, user_id, agent_id, run_id"
            " FROM history WHERE memory_id = ? ORDER BY rowid",
            (memory_id,),
        ) as cursor:
            rows = list(await cursor.fetchall())
        events = [
            HistoryEvent(
                id=r[0],
                memory_id=r[1],
                old_memory=r[2],
                new_memory=r[3],
                event=r[4],
                created_at=r[5],
                updated_at=r[6],
                is_deleted=bool(r[7]),
                actor_id=r[8],
                role=r[9],
            )
            for r in rows
        ]
        scope = (
            Scope(user_id=rows[0][10], agent_id=rows[0][11], run_id=rows[0][12]) if rows else None
        )
        return events, scope

    async def reset(self) -> None:
        """Delete every history row and journal entry."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM history")
            await db.execute("DELETE FROM journal")

    # --- export / import (used by ``transfer/``) ---------------------------------------
    # Whole-table access for ``mem0-mcp export`` / ``import``: rows travel as dicts keyed by
    # ``HISTORY_COLUMNS`` (``is_deleted`` as a bool), in insertion (rowid) order.

    async def deleted_among(self, memory_ids: Sequence[str]) -> set[str]:
        """The ids among ``memory_ids`` that have a DELETE row."""
        if not memory_ids:
            return set()
        marks = ",".join("?" * len(memory_ids))
        async with self.db.execute(
            "SELECT DISTINCT memory_id FROM history"
            f" WHERE event = 'DELETE' AND memory_id IN ({marks})",
            list(memory_ids),
        ) as cursor:
            return {r[0] for r in await cursor.fetchall()}

    async def count_rows(self) -> int:
        """Number of history rows."""
        async with self.db.execute("SELECT COUNT(*) FROM history") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def iter_rows(self, *, batch_size: int = 1000) -> AsyncIterator[list[dict[str, Any]]]:
        """Every history row, oldest first, in lists of at most ``batch_size`` dicts keyed by
        ``HISTORY_COLUMNS``. Pages by rowid, so rows appended meanwhile are picked up."""
        last = 0
        columns = ", ".join(HISTORY_COLUMNS)
        while True:
            async with self.db.execute(
                f"SELECT rowid, {columns} FROM history WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, batch_size),
            ) as cursor:
                rows = list(await cursor.fetchall())
            if not rows:
                return
            last = rows[-1][0]
            yield [_row_dict(r[1:]) for r in rows]

    async def compact(self) -> None:
        """Give the file's free pages back to the file system when they are most of it, and
        truncate the WAL. An import stages its whole file in the journal and then empties it:
        30,000 memories left 117 MB of free pages in a 125 MB file and a 126 MB WAL;
        VACUUM brought them to 7 MB and 0 in 0.18 s (it copies only the live rows)."""
        async with self._tx:
            async with self.db.execute("PRAGMA freelist_count") as cursor:
                free = (await cursor.fetchone() or (0,))[0]
            async with self.db.execute("PRAGMA page_count") as cursor:
                pages = (await cursor.fetchone() or (0,))[0]
            if 2 * free > pages:
                await self.db.execute("VACUUM")
            await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[BulkWrite]:
        """One write transaction spanning many calls (``mem0-mcp import``): the rows and
        journal entries added through the yielded ``BulkWrite`` are committed together when
        the block exits, or rolled back if it raises. Reads on this store inside the block
        (``deleted_among``...) see them already. Other writes wait until it ends."""
        async with self._transaction() as db:
            async with db.execute("SELECT COALESCE(MAX(seq), 0) FROM journal") as cursor:
                row = await cursor.fetchone()
            yield BulkWrite(db, after=int(row[0]) if row else 0)


class BulkWrite:
    """Appends inside one ``HistoryStore.bulk`` transaction. ``after``: every journal entry
    added here gets a greater ``seq`` (pass it to ``pending`` to read them back)."""

    def __init__(self, db: aiosqlite.Connection, *, after: int) -> None:
        self._db = db
        self.after = after

    async def insert_rows(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert rows keyed by ``HISTORY_COLUMNS`` that carry their own ``id`` (as
        ``iter_rows`` gives them), in order; a row whose ``id`` exists already is skipped,
        so importing the same rows twice adds nothing. Returns how many rows were new."""
        if not rows:
            return 0
        before = self._db.total_changes
        await self._db.executemany(
            f"INSERT OR IGNORE INTO history ({', '.join(HISTORY_COLUMNS)})"
            f" VALUES ({','.join('?' for _ in HISTORY_COLUMNS)})",
            [
                tuple(int(r[c]) if c == "is_deleted" else r[c] for c in HISTORY_COLUMNS)
                for r in rows
            ],
        )
        return self._db.total_changes - before

    async def journal(self, entries: Sequence[JournalEntry]) -> None:
        """Add vector-store operations, to be applied once the transaction is committed."""
        await self._db.executemany(
            "INSERT INTO journal (op, memory_id, point) VALUES (?,?,?)",
            [(e.op, e.memory_id, e.encode()) for e in entries],
        )

    async def upserts_without_history(self, limit: int) -> list[str]:
        """Up to ``limit`` ids that an upsert added here would put in the vector store
        without any history row: the two stores would disagree."""
        async with self._db.execute(
            "SELECT DISTINCT memory_id FROM journal j WHERE seq > ? AND op = 'upsert'"
            " AND NOT EXISTS (SELECT 1 FROM history h WHERE h.memory_id = j.memory_id)"
            " LIMIT ?",
            (self.after, limit),
        ) as cursor:
            return [r[0] for r in await cursor.fetchall()]


HISTORY_COLUMNS = (
    "id",
    "memory_id",
    "old_memory",
    "new_memory",
    "event",
    "created_at",
    "updated_at",
    "is_deleted",
    "actor_id",
    "role",
    "user_id",
    "agent_id",
    "run_id",
)


def _row_dict(values: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(HISTORY_COLUMNS, values, strict=True))
    row["is_deleted"] = bool(row["is_deleted"])
    return row
