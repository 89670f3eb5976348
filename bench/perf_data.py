"""The texts ``bench/perf.py`` stores and asks, deterministic for a given seed (stdlib only).

Memories are LoCoMo dialogue turns (``../shared/data/locomo10.json``, 5,882 turns,
mean 124 characters) written as ``"[<date>] <speaker>: <text>"``, the way a chat memory is
kept. User ``u`` of ``users`` gets ``n // users`` of them (turns drawn without replacement,
each with its own date, so no two memories of one user are exact or near duplicates).
Queries are LoCoMo's questions (1,974 distinct), so repeated runs never hit the query cache.
Without the LoCoMo file a small template grammar stands in (same shapes, less natural).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCOMO = ROOT.parent / "shared" / "data" / "locomo10.json"
USERS = 100


@dataclass(frozen=True, slots=True)
class Memory:
    """One memory to store: its text and owner (``user_id`` = ``"user-<k>"``)."""

    user_id: str
    text: str


def _load_locomo() -> tuple[list[tuple[str, str]], list[str]]:
    data = json.loads(LOCOMO.read_text(encoding="utf-8"))
    turns: list[tuple[str, str]] = []
    questions: list[str] = []
    for conv in data:
        for key, session in conv["conversation"].items():
            if key.startswith("session_") and isinstance(session, list):
                turns.extend((t["speaker"], t["text"]) for t in session)
        questions.extend(q["question"] for q in conv["qa"])
    return turns, sorted(set(questions))


def _synthetic() -> tuple[list[tuple[str, str]], list[str]]:
    names = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana"]
    things = ["pizza", "jazz", "hiking", "Lisbon", "chess", "bees", "sushi", "yoga", "Rust"]
    verbs = ["loves", "started", "stopped", "talked about", "is planning", "recommended"]
    turns = [
        (n, f"{n} {v} {t} with a friend from {t2} last weekend")
        for n in names
        for v in verbs
        for t in things
        for t2 in things
        if t != t2
    ]
    questions = [f"What does {n} think about {t}?" for n in names for t in things]
    return turns, questions


def _source() -> tuple[list[tuple[str, str]], list[str]]:
    return _load_locomo() if LOCOMO.is_file() else _synthetic()


def corpus_name() -> str:
    return "LoCoMo turns" if LOCOMO.is_file() else "synthetic templates"


def memories(n: int, *, users: int = USERS, seed: int = 7, salt: str = "") -> list[Memory]:
    """``n`` memories spread evenly over ``users`` users, interleaved by user (the order a
    busy server sees them). ``salt`` gives a disjoint set (other dates) for fresh adds."""
    turns, _ = _source()
    per_user = -(-n // users)
    rng = random.Random(f"{seed}/{salt}")
    start = date(2020, 1, 1) if not salt else date(2031, 1, 1)
    by_user: list[list[Memory]] = []
    for u in range(users):
        picks = rng.sample(range(len(turns)), min(per_user, len(turns)))
        rows = []
        for i, k in enumerate(picks):
            speaker, text = turns[k]
            day = start + timedelta(days=i + 1000 * len(salt))
            rows.append(Memory(f"user-{u}", f"[{day:%d %B %Y}] {speaker}: {text}"))
        by_user.append(rows)
    out = [row[i] for i in range(per_user) for row in by_user if i < len(row)]
    return out[:n]


def queries(n: int, *, users: int = USERS, seed: int = 11) -> list[tuple[str, str]]:
    """``n`` (query, user_id) pairs; distinct queries while the pool lasts."""
    _, questions = _source()
    rng = random.Random(seed)
    pool = questions[:]
    rng.shuffle(pool)
    return [(pool[i % len(pool)], f"user-{rng.randrange(users)}") for i in range(n)]
