#!/usr/bin/env python3
"""How much of an agent's context our tools take: the ``tools/list`` answer and a 10-hit
``search_memories`` result, in characters and tokens.

    .venv/bin/python bench/output_size.py            # this checkout
    .venv/bin/python bench/output_size.py --json     # machine-readable

Sizes are of the JSON as it travels (compact separators). Tokens are counted with the
Claude tokenizer the ``anthropic`` SDK shipped up to 0.38 (``anthropic/tokenizer.json``,
downloaded once from PyPI into ``bench/.cache``): newer Claude models tokenize somewhat
differently and no offline counter for them exists, so treat the counts as estimates and
compare them with each other, not with a model's bill.

"model sees" is what MCP clients forward to the model for each tool: name, description
and input schema (Claude Code, Claude Desktop and Cursor send no output schema).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from mcp.client import Client

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.model_bundle import ensure_default_model
from mem0_mcp.server import build_server

CACHE = Path(__file__).resolve().parent / ".cache" / "claude-tokenizer"
TOKENIZER_WHEEL = "anthropic==0.34.0"
FACTS = [
    "I live in Lisbon and work at a bakery near the river.",
    "My sister Ana is a nurse in Porto.",
    "I prefer green tea over coffee in the mornings.",
    "Our dog is called Bolt and he is three years old.",
    "I am allergic to peanuts.",
    "My favourite football team is Benfica.",
    "I run 5 km every Sunday.",
    "I am learning Japanese on Duolingo.",
    "My birthday is on 14 March.",
    "I drive a blue Renault Clio.",
]


def tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    path = CACHE / "anthropic" / "tokenizer.json"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE)]
            + [TOKENIZER_WHEEL],
            check=True,
        )
        wheel = next(CACHE.glob("anthropic-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            zf.extract("anthropic/tokenizer.json", CACHE)
    return Tokenizer.from_file(str(path))


def _wire(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


async def measure() -> dict[str, dict[str, int]]:
    tok = tokenizer()
    data = Path(tempfile.mkdtemp(prefix="mem0-size-"))
    config = MemoryConfig(data_dir=data, embedding_model_path=ensure_default_model(data / "m"))
    async with AsyncMemory(config) as memory, Client(build_server(memory)) as client:
        tools = [
            t.model_dump(mode="json", by_alias=True, exclude_none=True)
            for t in (await client.list_tools()).tools
        ]
        seen = [{k: t[k] for k in ("name", "description", "inputSchema")} for t in tools]
        for fact in FACTS:
            await client.call_tool("add_memory", {"text": fact, "user_id": "alice"})
        query = {"query": "where does alice live and work", "user_id": "alice", "limit": 10}
        result = await client.call_tool("search_memories", query)
    texts = {
        "tools/list": _wire({"tools": tools}),
        "tools (model sees)": _wire(seen),
        "search, 10 hits (text)": "".join(b.text for b in result.content),
        "search, 10 hits (structured)": _wire(result.structured_content),
        "memory text alone": "".join(FACTS),
    }
    return {k: {"chars": len(v), "tokens": len(tok.encode(v).ids)} for k, v in texts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = asyncio.run(measure())
    if args.json:
        print(json.dumps(sizes, indent=2))
        return
    print(f"{'':32} {'chars':>8} {'tokens':>8}")
    for name, size in sizes.items():
        print(f"{name:32} {size['chars']:>8,} {size['tokens']:>8,}")


if __name__ == "__main__":
    main()
