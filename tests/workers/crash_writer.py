"""A process that writes a random stream of add / update / delete through AsyncMemory and
reports each step on stdout, so a test can SIGKILL it at any point.

Lines: ``BEGIN <json>`` before a call, ``ACK <json>`` once it returned (acknowledged).
Usage: python crash_writer.py DATA_DIR MODEL_DIR SEED
"""

from __future__ import annotations

import asyncio
import json
import random
import sys

from mem0_mcp import AsyncMemory, MemoryConfig


def say(kind: str, **data: object) -> None:
    sys.stdout.write(f"{kind} {json.dumps(data)}\n")
    sys.stdout.flush()


async def main(data_dir: str, model_dir: str, seed: int) -> None:
    rng = random.Random(seed)
    config = MemoryConfig(data_dir=data_dir, embedding_model_path=model_dir, dedup_threshold=1.0)
    async with AsyncMemory(config) as memory:
        live = [i.id for i in (await memory.get_all(user_id="crash", limit=100)).results]
        say("READY")
        for step in range(100_000):
            op = rng.choice(["add", "add", "update", "delete"]) if live else "add"
            text = f"step {seed}-{step}: the value is {rng.randrange(10**9)}"
            if op == "add":
                say("BEGIN", op=op, text=text)
                mid = (await memory.add(text, user_id="crash")).results[0].id
                live.append(mid)
            elif op == "update":
                mid = rng.choice(live)
                say("BEGIN", op=op, id=mid, text=text)
                await memory.update(mid, text)
            else:
                mid = live.pop(rng.randrange(len(live)))
                say("BEGIN", op=op, id=mid)
                await memory.delete(mid)
            say("ACK", op=op, id=mid, text=None if op == "delete" else text)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
