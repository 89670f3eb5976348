#!/usr/bin/env python
"""Fact extraction on a small labelled set (``bench/extraction_set.json``): precision and
recall of the facts ``pipeline.extract_facts`` (call 1 of an inferring add) returns.

    .venv/bin/python bench/extraction.py                  # the scripted server: shape only
    .venv/bin/python bench/extraction.py --base-url http://127.0.0.1:8089/v1 \\
        --model qwen2.5-coder-1.5b --markdown             # a real model, OpenAI-compatible
    .venv/bin/python bench/extraction.py ... --json out.json
    .venv/bin/python bench/extraction.py --rescore out.json --markdown   # labels changed

Scoring. A predicted fact matches an expected one when it contains every key of one of its
key sets (case and accents ignored), each expected fact matched at most once; a prediction
matching an ``optional`` fact (true, but not required) counts neither way. Precision =
matched predictions / counted predictions, recall = matched expected / expected. Also
reported: "small talk kept" (facts returned for a conversation that has none: greetings,
questions, a passing mood), "fragments" (one-word facts, e.g. "Marie"), "copies" (a message
copied whole instead of a fact), seconds per call (median) and model requests per call (a
refused structured-output mode costs one more).

Without ``--base-url`` the model is the project's scripted server (``tests/llm_stub.py``)
through the real ``openai`` SDK: it answers every conversation with its labelled facts, and
a conversation without facts with its first message copied, as small models do; so the
run shows what the small-talk guard removes. CI runs it (``tests/test_extraction_bench.py``)
for shape. Real-model figures are in docs/benchmarks.md; a real run is a benchmark, not CI.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from mem0_mcp import MemoryConfig, pipeline
from mem0_mcp.llms.capabilities import Capabilities
from mem0_mcp.llms.openai import OpenAILLM
from mem0_mcp.models import Message, Scope

HERE = Path(__file__).resolve().parent
SET = HERE / "extraction_set.json"
# Fixed, so relative dates ("two weeks ago") resolve the same in every run.
TODAY = date(2026, 12, 4)


def load_set(path: Path = SET) -> list[dict[str, Any]]:
    conversations: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))["conversations"]
    return conversations


def plain(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed, end punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split()).strip(" .!?")


def _matches(prediction: str, fact: dict[str, Any]) -> bool:
    return any(all(plain(k) in prediction for k in keys) for keys in fact["keys"])


def score(case: dict[str, Any], predicted: list[str]) -> dict[str, Any]:
    """One conversation's tally: ``tp``, ``fp``, ``fn``, ``optional``, ``fragments``,
    ``copies``, and which predictions were wrong (``wrong``) and facts missed (``missed``).

    Predictions are paired with facts the way that matches the most expected facts, then the
    most optional ones (every pairing is tried: a conversation has a handful of each), so a
    correct fact never counts as wrong because another prediction took its label first."""
    slots = list(case["facts"]) + list(case.get("optional", []))
    required = len(case["facts"])
    texts = [plain(f) for f in predicted]
    options = [[None] + [i for i, slot in enumerate(slots) if _matches(t, slot)] for t in texts]
    best: tuple[int, int] = (-1, -1)
    chosen: tuple[int | None, ...] = ()
    for pairing in itertools.product(*options):
        used = [i for i in pairing if i is not None]
        if len(used) != len(set(used)):
            continue
        value = (sum(i < required for i in used), sum(i >= required for i in used))
        if value > best:
            best, chosen = value, pairing
    said = {plain(m["content"]) for m in case["messages"]}
    taken = {i for i in chosen if i is not None}
    return {
        "tp": best[0],
        "optional": best[1],
        "fp": sum(1 for i in chosen if i is None),
        "wrong": [f for f, i in zip(predicted, chosen, strict=True) if i is None],
        "fn": required - best[0],
        "missed": [f["fact"] for i, f in enumerate(case["facts"]) if i not in taken],
        "fragments": sum(1 for f in predicted if len(f.split()) == 1),
        "copies": sum(1 for t in texts if t in said),
    }


def summarise(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    tp = sum(r["tp"] for r in results)
    fp = sum(r["fp"] for r in results)
    fn = sum(r["fn"] for r in results)
    empty = [r for c, r in zip(cases, results, strict=True) if not c["facts"]]
    return {
        "conversations": len(cases),
        "expected_facts": tp + fn,
        "predicted_facts": sum(len(r["predicted"]) for r in results),
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "small_talk_kept": sum(len(r["predicted"]) for r in empty),
        "small_talk_conversations_clean": sum(1 for r in empty if not r["predicted"]),
        "small_talk_conversations": len(empty),
        "fragments": sum(r["fragments"] for r in results),
        "copies": sum(r["copies"] for r in results),
        "seconds_per_call_median": round(statistics.median(r["seconds"] for r in results), 2),
    }


async def run(llm: OpenAILLM, cases: list[dict[str, Any]]) -> dict[str, Any]:
    results = []
    for case in cases:
        messages = [Message(**m) for m in case["messages"]]
        started = time.perf_counter()
        predicted = await pipeline.extract_facts(
            llm, messages, scope=Scope(user_id="bench"), today=TODAY
        )
        seconds = time.perf_counter() - started
        result = {"id": case["id"], "predicted": predicted, "seconds": round(seconds, 2)}
        result.update(score(case, predicted))
        results.append(result)
        print(f"{case['id']:<26} {seconds:6.1f} s  {predicted}", file=sys.stderr)
    summary = summarise(cases, results)
    summary.update(mode=llm.mode, requests_per_call=round(llm.requests / max(llm.calls, 1), 2))
    return {"summary": summary, "conversations": results}


@contextmanager
def scripted(cases: list[dict[str, Any]]) -> Iterator[str]:
    """The scripted server, answering as described in the module docstring; its base URL."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from llm_stub import LLMStub, Recorded, Reply

    def answer(request: Recorded) -> Reply:
        for case in cases:
            first = case["messages"][0]["content"]
            if first in request.prompt:
                facts = [f["fact"] for f in case["facts"]] or [first]
                return Reply(json={"facts": facts})
        return Reply(json={"facts": []})

    with LLMStub.running() as stub:
        stub.respond(answer)
        yield stub.openai_url


def markdown(report: dict[str, Any], label: str) -> str:
    s = report["summary"]
    rows = [
        ("precision", s["precision"]),
        ("recall", s["recall"]),
        (
            "small talk kept (facts from the conversations without any)",
            f"{s['small_talk_kept']} ({s['small_talk_conversations_clean']} of "
            f"{s['small_talk_conversations']} conversations clean)",
        ),
        ("one-word fragments", s["fragments"]),
        ("messages copied whole", s["copies"]),
        ("seconds per call (median)", s["seconds_per_call_median"]),
        ("structured-output mode / requests per call", f"{s['mode']} / {s['requests_per_call']}"),
    ]
    lines = [f"| {label} | |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cases = load_set(args.set)
    with tempfile.TemporaryDirectory() as tmp, _endpoint(args, cases) as base_url:
        config = MemoryConfig(
            data_dir=Path(tmp),
            llm_provider="openai",
            llm_base_url=base_url,
            llm_model=args.model,
            llm_timeout=args.timeout,
            llm_max_retries=1,
        )
        # A fresh capabilities file: the first call pays for any refused mode, as it would
        # on a new install (what a run learned is reported as `mode`).
        llm = OpenAILLM(config, capabilities=Capabilities.in_dir(Path(tmp)))
        return await run(llm, cases)


@contextmanager
def _endpoint(args: argparse.Namespace, cases: list[dict[str, Any]]) -> Iterator[str]:
    if args.base_url:
        os.environ.setdefault("OPENAI_API_KEY", "not-needed")
        yield args.base_url
    else:
        with scripted(cases) as url:
            yield url


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (default: scripted)")
    parser.add_argument("--model", default="stub-model")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per request")
    parser.add_argument("--set", type=Path, default=SET, help="the labelled conversations")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--label", default="this checkout", help="the table's column title")
    parser.add_argument("--rescore", type=Path, help="score a saved --json report again")
    return parser.parse_args(argv)


def rescore(path: Path, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """A saved report (``--json``) scored again against ``cases``, e.g. after a label
    changed: the model's answers are kept, not asked for again."""
    saved = json.loads(path.read_text("utf-8"))
    answers = {c["id"]: c for c in saved["conversations"]}
    results = []
    for case in cases:
        old = answers[case["id"]]
        result = {"id": case["id"], "predicted": old["predicted"], "seconds": old["seconds"]}
        result.update(score(case, old["predicted"]))
        results.append(result)
    summary = summarise(cases, results)
    summary.update(mode=saved["summary"]["mode"])
    summary.update(requests_per_call=saved["summary"]["requests_per_call"])
    return {"summary": summary, "conversations": results}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.rescore:
        report = rescore(args.rescore, load_set(args.set))
    else:
        report = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(markdown(report, args.label) if args.markdown else json.dumps(report["summary"]))
    return report


if __name__ == "__main__":
    main()
