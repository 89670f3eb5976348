"""Choosing ``dedup_threshold``: how similar are re-sent facts, and how similar are
genuinely different ones?

    python bench/dedup_threshold.py [--data ../shared/data/locomo10.json]

Positives: every LoCoMo turn text against variants an agent plausibly re-sends for the
same fact (case changed, trailing punctuation changed, whitespace, a filler prefix such as
"Remember: ", a contraction expanded). Negatives: every pair of *different* turns of one
conversation whose texts share the same numbers (the engine only treats a pair as a near
duplicate when their digits match; see ``memory._find_duplicate``). A good threshold sits
above nearly all negatives and below nearly all positives. Prints both distributions and,
per candidate threshold, the share of positives caught and of negatives wrongly merged.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

import numpy as np

from mem0_mcp.config import MemoryConfig
from mem0_mcp.embeddings import Embedder
from mem0_mcp.model_bundle import ensure_default_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo10.json"
NUMBERS = re.compile(r"\d+(?:[.,:/-]\d+)*")


def variants(text: str) -> list[str]:
    out = [
        text.lower(),
        text.rstrip(".!?") if text[-1:] in ".!?" else text + ".",
        "  ".join(text.split(" ")),
        "Remember: " + text,
        text.replace("I'm", "I am").replace("don't", "do not").replace("it's", "it is"),
    ]
    return [v for v in out if v != text]


async def main(data: Path, max_turns: int) -> None:
    convs = json.loads(data.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        config = MemoryConfig(data_dir=tmp, embedding_model_path=ensure_default_model(Path(tmp)))
        embedder = Embedder(config)
        pos: list[float] = []
        neg: list[float] = []
        for conv in convs:
            c = conv["conversation"]
            turns = [
                t["text"]
                for k in sorted(c)
                if k.startswith("session_") and isinstance(c[k], list)
                for t in c[k]
                if len(t["text"]) > 15
            ][:max_turns]
            turns = list(dict.fromkeys(turns))
            vecs = np.array(await embedder.embed(turns))
            sims = vecs @ vecs.T
            nums = [NUMBERS.findall(t) for t in turns]
            for i in range(len(turns)):
                for j in range(i + 1, len(turns)):
                    if nums[i] == nums[j]:
                        neg.append(float(sims[i, j]))
            for text, vec in zip(turns[:200], vecs[:200], strict=False):
                vs = variants(text)
                for v in np.array(await embedder.embed(vs)):
                    pos.append(float(v @ vec))
    pos_a, neg_a = np.array(pos), np.array(neg)
    print(
        f"positives (re-sent variants): n={len(pos_a)} min {pos_a.min():.3f} "
        f"p1 {np.percentile(pos_a, 1):.3f} p5 {np.percentile(pos_a, 5):.3f} "
        f"median {np.median(pos_a):.3f}"
    )
    print(
        f"negatives (different turns, same numbers): n={len(neg_a)} "
        f"p99 {np.percentile(neg_a, 99):.3f} p99.9 {np.percentile(neg_a, 99.9):.3f} "
        f"p99.99 {np.percentile(neg_a, 99.99):.3f} max {neg_a.max():.3f}"
    )
    print("threshold  positives caught  negatives merged (count)")
    for t in (0.85, 0.88, 0.90, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98):
        caught = (pos_a >= t).mean()
        merged = int((neg_a >= t).sum())
        print(f"  {t:.2f}       {caught:6.1%}          {merged / len(neg_a):.5%} ({merged})")


if __name__ == "__main__":
    import asyncio

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--max-turns", type=int, default=700)
    args = parser.parse_args()
    if not args.data.exists():
        raise SystemExit(f"LoCoMo data not found at {args.data}; pass --data")
    asyncio.run(main(args.data, args.max_turns))
