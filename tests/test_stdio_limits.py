"""stdio has the limits HTTP has: a message over ``max_request_bytes`` or one that is not
UTF-8 is refused with a JSON-RPC error (never processed, never held whole in memory), and
the server keeps serving. Talks raw JSON-RPC lines to a real `mem0-mcp serve` process."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from mcp_harness import MEM0_MCP, server_env

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}


class _Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [MEM0_MCP, "serve"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )

    def send(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()

    def request(self, obj: dict[str, Any]) -> None:
        self.send(json.dumps(obj).encode())

    def reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, self.stderr()
        return json.loads(line)

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        return kb / 1024

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _add(text: str, id: int) -> dict[str, Any]:
    args = {"name": "add_memory", "arguments": {"text": text}}
    return {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": args}


def test_oversized_and_non_utf8_lines_are_refused_and_the_server_keeps_serving(
    tmp_path: Path, model_dir: Path
) -> None:
    server = _Server(server_env(tmp_path / "data", model_dir, MEM0_MCP_DEFAULT_USERID="typo"))
    try:
        server.request(INIT)
        assert server.reply()["id"] == 1
        server.request({"jsonrpc": "2.0", "method": "notifications/initialized"})
        server.request(_add("warm up", 2))  # the model loads: RSS reaches its working size
        assert server.reply()["result"]["structuredContent"]["results"][0]["event"] == "ADD"
        before = server.peak_rss_mb()

        # 64 MiB: 16x the default 4 MiB cap; held whole, it would add ~64+ MB at least.
        huge = json.dumps(_add("x" * (64 * 1024 * 1024), 3)).encode()
        server.send(huge)
        refused = server.reply()
        assert refused["id"] == 3 and refused["error"]["code"] == -32600
        assert "over the 4194304-byte limit" in refused["error"]["message"]

        server.send(
            b'{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": '
            b'{"name": "add_memory", "arguments": {"text": "caf\xe9"}}}'
        )
        bad = server.reply()
        assert bad["id"] == 4 and bad["error"]["code"] == -32700
        assert "not valid UTF-8" in bad["error"]["message"]

        server.request(_add("still serving", 5))
        ok = server.reply()
        assert ok["id"] == 5 and ok["result"]["structuredContent"]["results"][0]["event"] == "ADD"
        assert server.peak_rss_mb() - before < 24, (before, server.peak_rss_mb())

        server.request(
            {
                "jsonrpc": "2.0",
                "id": 6,
                "method": "tools/call",
                "params": {"name": "list_memories", "arguments": {}},
            }
        )
        listed = server.reply()["result"]["structuredContent"]["results"]
        # Only the two accepted adds were stored: no replacement-character "caf\ufffd".
        assert sorted(m["memory"] for m in listed) == ["still serving", "warm up"]
    finally:
        server.close()
    assert "MEM0_MCP_DEFAULT_USERID is not a setting" in server.stderr()
    assert "did you mean MEM0_MCP_DEFAULT_USER_ID?" in server.stderr()
