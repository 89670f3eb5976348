"""Where a query embedding's time goes, and the engine's path against fastembed's own.

    .venv/bin/python bench/perf_embed.py [--queries 300] [--contention]

One process, one event loop, the same distinct LoCoMo questions; per query, interleaved:

* ``fastembed embed([q])`` — ``TextEmbedding`` with its default ONNX session (ORT's
  default thread pool: one thread per core, spin-waiting), called as the engine used to:
  ``asyncio.to_thread(lambda: list(model.embed([q])))``;
* ``engine embed_query`` — ``Embedder.embed_query`` (query cache off): fastembed's
  per-batch functions on a session with a fixed, non-spinning pool, on the dedicated
  inference thread;
* the parts, on the engine's session: tokenising, ``InferenceSession.run``, pooling and
  normalisation; and ``run`` on fastembed's default session.

``--contention`` repeats the comparison while a second process embeds documents in a
loop (what a second server, or a bulk import, does to the cores). Vectors are checked to
be bit-identical. Prints one JSON object (times in ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import perf_data  # noqa: E402
from perf_util import CACHE, PY, Timer, summary  # noqa: E402

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BURNER = """
import sys
from fastembed import TextEmbedding
m = TextEmbedding(%r, specific_model_path=sys.argv[1])
texts = ["an ordinary sentence about the weather and a garden, number %%d" %% i for i in range(64)]
while True:
    list(m.embed(texts))
"""


async def compare(model_dir: Path, queries: list[str]) -> dict[str, Any]:
    from fastembed import TextEmbedding

    from mem0_mcp.config import MemoryConfig
    from mem0_mcp.embeddings import Embedder

    fe = TextEmbedding(MODEL, specific_model_path=str(model_dir))
    cfg = MemoryConfig(
        data_dir=CACHE / "embed-scratch", embedding_model_path=model_dir, embedding_cache_size=0
    )
    engine = Embedder(cfg)
    await engine.ready()
    inner = engine._model._inner  # fastembed's model object on the engine's session
    times: dict[str, list[float]] = {
        k: []
        for k in (
            "fastembed_embed",
            "engine_embed_query",
            "tokenize",
            "session_run",
            "postprocess",
            "session_run_fastembed_default",
        )
    }
    identical = True
    for q in queries[:10]:  # warm-up
        await engine.embed_query(q)
        await asyncio.to_thread(lambda q=q: list(fe.embed([q])))
    for q in queries[10:]:
        with Timer() as t:
            ref = await asyncio.to_thread(lambda q=q: [v.tolist() for v in fe.embed([q])])
        times["fastembed_embed"].append(t.ms)
        with Timer() as t:
            got = await engine.embed_query(q)
        times["engine_embed_query"].append(t.ms)
        identical = identical and np.array_equal(np.asarray(ref[0]), np.asarray(got))
        with Timer() as t:
            enc = inner.tokenizer.encode_batch([q])
        times["tokenize"].append(t.ms)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.zeros_like(ids),
        }
        with Timer() as t:
            out = inner.model.run(None, feeds)[0]
        times["session_run"].append(t.ms)
        from fastembed.common.onnx_model import OnnxOutputContext

        with Timer() as t:
            inner._post_process_onnx_output(
                OnnxOutputContext(model_output=out, attention_mask=feeds["attention_mask"])
            )
        times["postprocess"].append(t.ms)
        with Timer() as t:
            fe.model.model.run(None, feeds)
        times["session_run_fastembed_default"].append(t.ms)
    result: dict[str, Any] = {k: summary(v) for k, v in times.items()}
    result["vectors_identical"] = bool(identical)
    result["ratio_fastembed_over_engine_p50"] = (
        result["fastembed_embed"]["p50"] / result["engine_embed_query"]["p50"]
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--model-dir", type=Path, default=CACHE / "models" / "all-MiniLM-L6-v2-int8"
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--contention", action="store_true")
    args = parser.parse_args()
    queries = [q for q, _ in perf_data.queries(args.queries + 10, seed=43)]
    out: dict[str, Any] = {"alone": asyncio.run(compare(args.model_dir, queries))}
    if args.contention:
        burner = subprocess.Popen(
            [PY, "-c", BURNER % MODEL, str(args.model_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3)  # let it load and start embedding
            other = [q for q, _ in perf_data.queries(args.queries + 10, seed=47)]
            out["with_second_process"] = asyncio.run(compare(args.model_dir, other))
        finally:
            burner.terminate()
            burner.wait()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
