"""The fact-extraction benchmark (`bench/extraction.py`) runs end to end against the
scripted server, through the real `openai` SDK and `pipeline.extract_facts`: its report has
its shape, its scoring counts what it says, and the small-talk guard removes the greetings
and questions the scripted "model" copies into its facts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import extraction  # noqa: E402 - bench/ is not a package


def test_the_benchmark_reports_precision_recall_and_small_talk(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = extraction.main(["--markdown"])
    summary = report["summary"]
    cases = extraction.load_set()
    assert [c["id"] for c in report["conversations"]] == [c["id"] for c in cases]
    # The scripted model answers every labelled fact, and copies the first message of each
    # conversation without facts: the guard drops the greetings, questions and farewells,
    # and keeps "I'm a bit tired right now" (a passing mood is the prompt's job).
    kept = {c["id"]: c["predicted"] for c in report["conversations"] if c["predicted"]}
    assert "greeting" not in kept and "farewell" not in kept and "coding-question" not in kept
    assert kept["momentary"] == ["Ugh, I'm a bit tired right now."]
    assert summary["recall"] == 1.0
    assert summary["small_talk_kept"] == 1 and summary["copies"] == 1
    expected = summary["expected_facts"]
    assert summary["precision"] == round(expected / (expected + 1), 3)
    assert summary["mode"] == "json_schema" and summary["requests_per_call"] == 1.0
    assert "| precision |" in capsys.readouterr().out


def test_scoring_counts_fragments_copies_and_optional_facts() -> None:
    case = {
        "messages": [{"role": "user", "content": "Je m'appelle Julien et j'habite à Nantes."}],
        "facts": [
            {"fact": "S'appelle Julien", "keys": [["appelle", "julien"]]},
            {"fact": "Habite à Nantes", "keys": [["habite", "nantes"]]},
        ],
        "optional": [{"fact": "Vit en France", "keys": [["france"]]}],
    }
    predicted = [
        "Julien",
        "HABITE À NANTES",
        "Vit en France",
        "Je m'appelle Julien et j'habite à Nantes.",
    ]
    tally = extraction.score(case, predicted)
    # The whole sentence contains the keys of the first fact: it matches, and is a copy.
    assert (tally["tp"], tally["fp"], tally["fn"], tally["optional"]) == (2, 1, 0, 1)
    assert tally["wrong"] == ["Julien"]
    assert (tally["fragments"], tally["copies"]) == (1, 1)
