"""A LoCoMo slice as a regression guard for retrieval quality.

One conversation (conv-30: 369 turns, 81 scored questions) goes through ``AsyncMemory``
exactly as in ``bench/locomo.py``; both search modes are scored. The floors sit well below
the measured values (docs/benchmarks.md) so run-to-run noise never fails the suite, while a
broken ranker (keyword side lost, fusion inverted, scope leak) does. Skips when
``../shared/data/locomo10.json`` (or ``$LOCOMO_PATH``) is absent.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from mem0_mcp import AsyncMemory, MemoryConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import _locomo_data as locomo  # noqa: E402

CONVERSATION = "conv-30"
# Measured on this slice (hybrid / dense): hit@10 0.765 / 0.531, MRR 0.559 / 0.306.
FLOORS = {
    "hybrid": {"hit@10": 0.62, "mrr": 0.40},
    "dense": {"hit@10": 0.40, "mrr": 0.20},
}
MIN_HYBRID_GAIN = 0.10  # hybrid hit@10 minus dense hit@10; measured 0.23


def _conversation() -> locomo.Conversation:
    path = locomo.data_path()
    if not path.is_file():
        pytest.skip(f"LoCoMo data not found at {path} (set ${locomo.ENV_PATH} to run this guard)")
    [conv] = [c for c in locomo.load(path) if c.sample_id == CONVERSATION]
    return conv


async def _ingest(memory: AsyncMemory, conv: locomo.Conversation) -> dict[str, str]:
    sessions: dict[str, list[locomo.Turn]] = {}
    for turn in conv.turns:
        sessions.setdefault(turn.dia_id.split(":")[0], []).append(turn)

    async def add(turns: list[locomo.Turn]) -> list[tuple[str, str]]:
        result = await memory.add(
            [{"role": "user", "content": t.text, "name": t.speaker} for t in turns],
            run_id=conv.sample_id,
            infer=False,
            dedup=False,
        )
        assert [e.event for e in result.results] == ["ADD"] * len(turns)
        return [(e.id, t.dia_id) for e, t in zip(result.results, turns, strict=True)]

    pairs = await asyncio.gather(*(add(t) for t in sessions.values()))
    return dict(p for session in pairs for p in session)


@pytest.mark.slow
async def test_locomo_slice_recall_floors(config: MemoryConfig) -> None:
    conv = _conversation()
    async with AsyncMemory(config) as memory:
        id_to_dia = await _ingest(memory, conv)
        assert len(id_to_dia) == len(conv.turns)
        # A second conversation's worth of noise in another scope must never leak in.
        await memory.add(
            "[1 May, 2023] Intruder: the secret bakery word is croissant",
            run_id="other",
            infer=False,
        )
        scores = {}
        for mode in ("hybrid", "dense"):
            s = locomo.Scores()
            for q in conv.questions:
                hits = (
                    await memory.search(
                        q.question, run_id=conv.sample_id, limit=10, search_mode=mode
                    )
                ).results
                assert all(h.run_id == conv.sample_id for h in hits)
                assert all(0.0 <= (h.score or 0.0) <= 1.0 for h in hits)
                s.add([id_to_dia[h.id] for h in hits], q.evidence)
            scores[mode] = s.as_dict()
    print(f"\nLoCoMo {CONVERSATION}: {scores}")
    for mode, floors in FLOORS.items():
        for metric, floor in floors.items():
            assert scores[mode][metric] >= floor, (mode, metric, scores[mode])
    assert scores["hybrid"]["hit@10"] - scores["dense"]["hit@10"] >= MIN_HYBRID_GAIN, scores
