"""Many clients, one memory: several `mem0-mcp serve` processes on one data dir.

One process owns the store; the others forward to it over the owner channel, a Unix socket
or loopback TCP with a secret (every test that crosses it runs over both). These tests run
real server processes and real MCP clients over stdio and streamable HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from mcp_harness import MEM0_MCP, ToolFailed, call, connect, free_port, http_server, server_env

from mem0_mcp import _channel
from mem0_mcp.config import MemoryConfig
from mem0_mcp.errors import StoreUnavailableError
from mem0_mcp.owner import TAKEOVER_TIMEOUT


@pytest.fixture(params=["unix", "tcp"])
def env(request: pytest.FixtureRequest, tmp_path: Path, model_dir: Path) -> dict[str, str]:
    """Server settings on a fresh data dir, once per owner channel."""
    return server_env(tmp_path / "data", model_dir, MEM0_MCP_OWNER_CHANNEL=request.param)


async def _add_many(session, who: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        result = await call(
            session,
            "add_memory",
            text=f"{who} remembers fact number {i} about topic {who}-{i}",
            user_id="shared",
            infer=False,
        )
        ids.append(result["results"][0]["id"])
    return ids


async def test_three_stdio_servers_and_one_http_server_share_one_store(
    env: dict[str, str],
) -> None:
    with http_server(env, transport="streamable-http") as url:
        async with (
            connect("streamable-http", env, url=url) as http_client,
            connect("stdio", env) as a,
            connect("stdio", env) as b,
            connect("stdio", env) as c,
        ):
            data = Path(env["MEM0_MCP_DATA_DIR"])
            offered = {"unix": data / "owner.sock", "tcp": data / "owner.tcp.json"}
            assert [k for k, path in offered.items() if path.exists()] == [
                env["MEM0_MCP_OWNER_CHANNEL"]
            ]
            clients = {"http": http_client, "a": a, "b": b, "c": c}
            batches = await asyncio.gather(*(_add_many(s, who, 10) for who, s in clients.items()))
            written = {mid for batch in batches for mid in batch}
            assert len(written) == 40
            for session in clients.values():
                listed = await call(session, "list_memories", user_id="shared", limit=100)
                assert {i["id"] for i in listed["results"]} == written
            # A write through one process is visible through another at once.
            added = await call(a, "add_memory", text="written via a", user_id="x")
            mid = added["results"][0]["id"]
            assert (await call(c, "get_memory", memory_id=mid))["memory"] == "written via a"
            await call(b, "update_memory", memory_id=mid, text="updated via b")
            history = await call(http_client, "memory_history", memory_id=mid)
            assert [h["event"] for h in history["results"]] == ["ADD", "UPDATE"]


def _ready_http_server(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """A streamable-HTTP server process on a free port and its base URL, once ``/health``
    says it is ready (store open, model loaded)."""
    port = free_port()
    proc = subprocess.Popen(
        [MEM0_MCP, "serve", "--transport", "streamable-http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).json()["ready"]:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            proc.wait()
            raise AssertionError("the server did not get ready")
        time.sleep(0.1)


async def test_owner_killed_mid_traffic_survivors_take_over_and_nothing_acknowledged_is_lost(
    env: dict[str, str],
) -> None:
    owner, url = _ready_http_server(env)  # the first process to open the store owns it
    try:
        async with connect("stdio", env) as a, connect("stdio", env) as b:
            acknowledged: list[str] = []
            failures: list[str] = []

            async def writer(session, who: str) -> None:
                for i in range(30):
                    try:
                        r = await call(
                            session,
                            "add_memory",
                            text=f"{who} note {i}: {who}{i}x",
                            user_id="u",
                            infer=False,
                        )
                        acknowledged.append(r["results"][0]["id"])
                    except ToolFailed as exc:  # only a call in flight at the kill may fail
                        failures.append(str(exc))

            async def killer() -> None:
                while len(acknowledged) < 15:
                    await asyncio.sleep(0.01)
                owner.send_signal(signal.SIGKILL)

            await asyncio.gather(writer(a, "a"), writer(b, "b"), killer())
            assert owner.wait(timeout=10) == -signal.SIGKILL
            assert len(failures) <= 2, failures  # at most the one call each had in flight
            assert all("exited while handling this call" in f for f in failures)
            listed = await call(a, "list_memories", user_id="u", limit=100)
            assert set(acknowledged) <= {i["id"] for i in listed["results"]}
            assert len(acknowledged) >= 58
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.wait()


async def test_sigterm_finishes_and_releases_the_store_for_the_next_process(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with http_server(env, transport="streamable-http") as url:
        async with connect("streamable-http", env, url=url) as session:
            mid = (await call(session, "add_memory", text="persist me"))["results"][0]["id"]
    # http_server() sent SIGTERM and waited; the lock is free, the channel unpublished and
    # the data intact.
    assert not (tmp_path / "data" / "owner.sock").exists()
    assert not (tmp_path / "data" / "owner.tcp.json").exists()
    async with connect("stdio", env) as session:
        assert (await call(session, "get_memory", memory_id=mid))["memory"] == "persist me"


async def test_sigterm_lets_the_call_in_flight_finish_and_answer(env: dict[str, str]) -> None:
    server, url = _ready_http_server(env)
    try:
        # Embedding 200 turns (the most one call takes) needs seconds on 2 cores: SIGTERM
        # lands while it runs.
        messages = [
            {
                "role": "user",
                "content": f"turn {i}: I keep note number {i} about subject {i}, written down "
                f"after the long meeting on project {i} so that nothing of it is forgotten",
            }
            for i in range(200)
        ]
        async with connect("streamable-http", env, url=url, terminate_on_close=False) as session:
            await session.list_tools()  # cached now: the SDK would fetch it after the call
            pending = asyncio.create_task(
                call(session, "add_memory", messages=messages, user_id="u", infer=False)
            )
            await asyncio.sleep(0.5)
            assert not pending.done(), "the add finished before the signal; make it longer"
            server.send_signal(signal.SIGTERM)
            result = await asyncio.wait_for(pending, 120)
        assert [e["event"] for e in result["results"]] == ["ADD"] * 200
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
    # The next process finds every acknowledged memory, each with its history row.
    async with connect("stdio", env) as session:
        stored: set[str] = set()
        offset: int | None = 0
        while offset is not None:
            page = await call(session, "list_memories", user_id="u", limit=100, offset=offset)
            stored |= {item["id"] for item in page["results"]}
            offset = page["next_offset"]
        assert stored == {e["id"] for e in result["results"]}
        history = await call(session, "memory_history", memory_id=result["results"][-1]["id"])
        assert [h["event"] for h in history["results"]] == ["ADD"]


def test_health_reveals_nothing_private(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    with http_server(env) as url:
        body = httpx.get(f"{url}/health", timeout=5).json()
    assert set(body) == {"status", "ready"}
    assert os.fspath(tmp_path) not in str(body)


async def _first_reply(port: int, line: dict) -> tuple[dict, bytes]:
    """Open a raw TCP connection to the owner, send one JSON line; returns the owner's first
    reply and whatever it sent before closing the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(json.dumps(line).encode() + b"\n")
        await writer.drain()
        reply = json.loads(await asyncio.wait_for(reader.readline(), 15))
        rest = await asyncio.wait_for(reader.read(), 15)
        return reply, rest
    finally:
        writer.close()


@asynccontextmanager
async def _tcp_owner(data: Path, model_dir: Path) -> AsyncIterator[tuple[dict, str, Path]]:
    """A streamable-HTTP server owning ``data`` over the TCP channel; yields its settings, its
    URL and the file where it published its port and secret."""
    env = server_env(data, model_dir, MEM0_MCP_OWNER_CHANNEL="tcp")
    with http_server(env, transport="streamable-http") as url:
        async with connect("streamable-http", env, url=url) as session:
            await call(session, "list_memories")  # answered once it owns the store
        yield env, url, data / "owner.tcp.json"


async def test_the_tcp_owner_refuses_a_connection_without_its_secret_and_keeps_serving(
    tmp_path: Path, model_dir: Path
) -> None:
    async with _tcp_owner(tmp_path / "data", model_dir) as (env, url, published):
        async with connect("streamable-http", env, url=url) as session:
            kept = (await call(session, "add_memory", text="keep me", infer=False))["results"]
        assert stat.S_IMODE(published.stat().st_mode) == 0o600  # readable by this user only
        address = json.loads(published.read_text())
        # A wrong secret, a nearly right one, and a call with no secret at all (a reset that
        # must not run) are each refused with an error line, and the connection is closed.
        for first_line in (
            {"secret": "wrong"},
            {"secret": address["secret"][:-1]},
            {"method": "reset", "kwargs": {}},
        ):
            reply, rest = await _first_reply(address["port"], first_line)
            assert reply["error"]["type"] == "StoreUnavailableError"
            assert "secret" in reply["error"]["message"]
            assert rest == b""
        # The owner still serves: its own client, and a process forwarding to it.
        async with connect("stdio", env) as forwarder:
            got = await call(forwarder, "get_memory", memory_id=kept[0]["id"])
            assert got["memory"] == "keep me"
        async with connect("streamable-http", env, url=url) as session:
            listed = await call(session, "list_memories")
            assert [i["memory"] for i in listed["results"]] == ["keep me"]


async def test_a_forwarder_refused_by_the_owner_fails_at_once_with_a_clear_error(
    tmp_path: Path, model_dir: Path
) -> None:
    async with _tcp_owner(tmp_path / "data", model_dir) as (env, _, published):
        address = json.loads(published.read_text())
        published.write_text(json.dumps({**address, "secret": "not-the-owners"}))
        async with connect("stdio", env) as forwarder:
            started = time.monotonic()
            with pytest.raises(ToolFailed, match="refused the secret") as refused:
                await call(forwarder, "list_memories")
            # Not a takeover loop: the owner is alive and said no.
            assert time.monotonic() - started < TAKEOVER_TIMEOUT / 2
            assert "start them again" in str(refused.value)


@pytest.mark.parametrize(("owner_channel", "forwarder_channel"), [("unix", "tcp"), ("tcp", "unix")])
async def test_a_forwarder_uses_the_channel_the_owner_chose_whatever_its_own_setting(
    tmp_path: Path, model_dir: Path, owner_channel: str, forwarder_channel: str
) -> None:
    data = tmp_path / "data"
    env = server_env(data, model_dir, MEM0_MCP_OWNER_CHANNEL=owner_channel)
    with http_server(env, transport="streamable-http") as url:
        async with connect("streamable-http", env, url=url) as owner:
            await call(owner, "list_memories")  # the first process owns the store
            other = {**env, "MEM0_MCP_OWNER_CHANNEL": forwarder_channel}
            async with connect("stdio", other) as forwarder:
                added = await call(forwarder, "add_memory", text="via the owner's channel")
            listed = await call(owner, "list_memories")
            assert [i["memory"] for i in listed["results"]] == [added["results"][0]["memory"]]


@pytest.mark.parametrize("kind", ["unix", "tcp"])
async def test_a_connection_no_owner_process_accepted_is_not_taken_for_a_delivered_call(
    tmp_path: Path, kind: str
) -> None:
    # A listening socket whose process never accepts, then goes away: what a forwarder meets
    # when the owner is killed with connections still queued in the kernel. Unreachable
    # means "never delivered": the call is retried, not reported as possibly applied.
    config = MemoryConfig(data_dir=tmp_path, owner_channel=kind)
    if kind == "unix":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(_channel.socket_path(tmp_path)))
    else:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        address = {"port": listener.getsockname()[1], "secret": "s"}
        _channel.address_path(tmp_path).write_text(json.dumps(address))
    listener.listen()
    connecting = asyncio.create_task(_channel.connect(config))
    await asyncio.sleep(0.2)
    assert not connecting.done()  # connected in the kernel, waiting for the greeting
    listener.close()
    with pytest.raises(_channel.Unreachable):
        await asyncio.wait_for(connecting, 5)


async def test_a_forwarder_meeting_an_owner_of_another_release_is_told_to_restart(
    tmp_path: Path,
) -> None:
    async def newer_owner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(json.dumps({"hello": _channel.VERSION + 1}).encode() + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(newer_owner, str(_channel.socket_path(tmp_path)))
    try:
        with pytest.raises(StoreUnavailableError, match="different mem0-mcp releases"):
            await _channel.connect(MemoryConfig(data_dir=tmp_path))
    finally:
        server.close()
