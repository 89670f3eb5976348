"""LoCoMo (Maharana et al., ACL 2024) as retrieval data: turns to store, questions to ask.

Shared by ``bench/locomo.py`` and ``tests/test_locomo_slice.py``. Stdlib only.

* Each dialogue turn becomes one memory text, ``"[<session date_time>] <speaker>: <text>"``
  plus ``" [shared a photo: <caption>]"`` when the turn carries a ``blip_caption``.
* Questions of categories 1–4 with a non-empty evidence list are scored (1,536 in the full
  file); category 5 (adversarial, unanswerable) is skipped.
* Evidence ids are normalised (``"D8:6; D9:17"`` → two ids, ``"D:11:26"`` → ``D11:26``,
  ``"D30:05"`` → ``D30:5``); ids that still name no turn (``"D"``, or a turn that does not
  exist) are dropped and counted. A question left with no resolvable evidence stays scored:
  it counts as a miss, as it would for any retriever.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO.parent / "shared" / "data" / "locomo10.json"
ENV_PATH = "LOCOMO_PATH"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}

_SESSION_RE = re.compile(r"session_(\d+)")
_EVIDENCE_RE = re.compile(r"D:?(\d+):(\d+)")


@dataclass(frozen=True, slots=True)
class Turn:
    dia_id: str
    speaker: str
    text: str  # the memory text, date prefix and photo caption included


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    category: int
    evidence: frozenset[str]  # normalised dia_ids that exist in the conversation


@dataclass(slots=True)
class Conversation:
    sample_id: str
    turns: list[Turn]
    questions: list[Question]
    unresolved_evidence: list[str] = field(default_factory=list)


def data_path(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$LOCOMO_PATH``, else ``../shared/data/locomo10.json``."""
    return Path(path or os.environ.get(ENV_PATH) or DEFAULT_PATH)


def normalise_evidence(raw: str) -> list[str]:
    """Canonical ``D<session>:<turn>`` ids in a raw evidence string (may hold several)."""
    return [f"D{int(s)}:{int(t)}" for s, t in _EVIDENCE_RE.findall(raw)]


def memory_text(turn: dict, date_time: str) -> str:
    text = f"[{date_time}] {turn['speaker']}: {turn['text']}"
    if turn.get("blip_caption"):
        text += f" [shared a photo: {turn['blip_caption']}]"
    return text


def _canonical(dia_id: str) -> str:
    ids = normalise_evidence(dia_id)
    return ids[0] if len(ids) == 1 else dia_id


def parse_conversation(sample: dict) -> Conversation:
    conv = sample["conversation"]
    sessions = sorted(
        (int(m.group(1)), key)
        for key in conv
        if (m := _SESSION_RE.fullmatch(key)) and isinstance(conv[key], list)
    )
    turns: list[Turn] = []
    for _, key in sessions:
        date_time = conv.get(f"{key}_date_time", "")
        for turn in conv[key]:
            text = memory_text(turn, date_time)
            turns.append(Turn(_canonical(turn["dia_id"]), turn["speaker"], text))
    known = {t.dia_id for t in turns}
    questions: list[Question] = []
    unresolved: list[str] = []
    for qa in sample["qa"]:
        if qa.get("category") not in CATEGORIES or not qa.get("evidence"):
            continue
        ids: set[str] = set()
        for raw in qa["evidence"]:
            found = [i for i in normalise_evidence(raw) if i in known]
            ids.update(found)
            if not found:
                unresolved.append(raw)
        questions.append(Question(qa["question"], qa["category"], frozenset(ids)))
    return Conversation(sample["sample_id"], turns, questions, unresolved)


def load(path: str | os.PathLike | None = None) -> list[Conversation]:
    """Every conversation of the file; ``FileNotFoundError`` if it is absent."""
    with data_path(path).open(encoding="utf-8") as fh:
        return [parse_conversation(sample) for sample in json.load(fh)]


# --- scoring -----------------------------------------------------------------------------


@dataclass(slots=True)
class Scores:
    """Retrieval metrics over a set of questions (ranks are 1-based, ``None`` = not in top)."""

    n: int = 0
    hit1: int = 0
    hit5: int = 0
    hit10: int = 0
    all10: int = 0
    rr: float = 0.0

    def add(self, ranked_ids: list[str], evidence: frozenset[str]) -> None:
        self.n += 1
        first = next((i for i, d in enumerate(ranked_ids, 1) if d in evidence), None)
        if first is not None:
            self.hit1 += first <= 1
            self.hit5 += first <= 5
            self.hit10 += first <= 10
            self.rr += 1.0 / first
        if evidence and evidence <= set(ranked_ids[:10]):
            self.all10 += 1

    def merge(self, other: Scores) -> None:
        for name in ("n", "hit1", "hit5", "hit10", "all10", "rr"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {
            "n": self.n,
            "hit@1": self.hit1 / n,
            "hit@5": self.hit5 / n,
            "hit@10": self.hit10 / n,
            "all@10": self.all10 / n,
            "mrr": self.rr / n,
        }
