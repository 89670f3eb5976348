"""Bearer tokens on the HTTP transports: no token → 401; a token bound to a user sees and
changes only that user's memories, by scope or by id; /health is public; serving beyond
loopback without tokens is refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_harness import MEM0_MCP, ToolFailed, call, free_port, http_server, server_env

TOKENS = {"alice-token": {"user_id": "alice"}, "bob-token": {"user_id": "bob"}, "admin": {}}


def _client(url: str, token: str):
    http = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return http, streamable_http_client(f"{url}/mcp", http_client=http)


async def _session_call(url: str, token: str, tool: str, **args):
    """One call in its own session; a tool error is raised after the session closes (inside
    it, the SDK's task groups would wrap it in an ExceptionGroup)."""
    http, transport = _client(url, token)
    async with http, transport as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        try:
            result = await call(session, tool, **args)
        except ToolFailed as exc:
            result = exc
    if isinstance(result, ToolFailed):
        raise result
    return result


@pytest.fixture
def server_url(tmp_path: Path, model_dir: Path):
    env = server_env(tmp_path / "data", model_dir, MEM0_MCP_AUTH_TOKENS=json.dumps(TOKENS))
    with http_server(env) as url:
        yield url


def test_requests_without_a_known_token_get_401_but_health_is_public(server_url: str) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic alice-token"}):
        response = httpx.post(f"{server_url}/mcp", json=init, headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{server_url}/sse", timeout=5).status_code == 401
    assert httpx.get(f"{server_url}/health", timeout=5).json()["status"] == "ok"


async def test_a_token_bound_to_alice_never_reaches_bobs_memories(server_url: str) -> None:
    bob_mid = (await _session_call(server_url, "bob-token", "add_memory", text="bob's secret"))[
        "results"
    ][0]["id"]
    # Alice names bob explicitly: the token's scope wins.
    added = await _session_call(
        server_url, "alice-token", "add_memory", text="alice's note", user_id="bob"
    )
    alice_mid = added["results"][0]["id"]
    got = await _session_call(server_url, "admin", "get_memory", memory_id=alice_mid)
    assert got["user_id"] == "alice"

    found = await _session_call(
        server_url, "alice-token", "search_memories", query="secret", user_id="bob"
    )
    assert [h["id"] for h in found["results"]] == [alice_mid]
    listed = await _session_call(server_url, "alice-token", "list_memories", user_id="bob")
    assert [i["id"] for i in listed["results"]] == [alice_mid]
    for tool, args in [
        ("get_memory", {"memory_id": bob_mid}),
        ("update_memory", {"memory_id": bob_mid, "text": "pwned"}),
        ("delete_memory", {"memory_id": bob_mid}),
        ("memory_history", {"memory_id": bob_mid}),
    ]:
        with pytest.raises(ToolFailed, match="no memory with id"):
            await _session_call(server_url, "alice-token", tool, **args)
    deleted = await _session_call(server_url, "alice-token", "delete_all_memories", user_id="bob")
    assert deleted == {"deleted": 1}  # alice's own note, not bob's
    still = await _session_call(server_url, "bob-token", "get_memory", memory_id=bob_mid)
    assert still["memory"] == "bob's secret"


def test_serving_beyond_loopback_without_tokens_is_refused(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    proc = subprocess.run(
        [MEM0_MCP, "serve", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "MEM0_MCP_AUTH_TOKENS" in proc.stderr and "refusing" in proc.stderr


def test_dns_rebinding_host_header_is_rejected(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    with http_server(env) as url:
        response = httpx.post(
            f"{url}/mcp",
            json=init,
            timeout=5,
            headers={"Host": "evil.example.com", "Accept": "application/json, text/event-stream"},
        )
    assert response.status_code in (400, 403, 421)
