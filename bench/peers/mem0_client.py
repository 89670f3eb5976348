"""Drive mem0 (in its own venv) from our venv: an asyncio client for ``mem0_runner.py``.

    from peers.mem0_client import Mem0Peer          # with bench/ on sys.path
    # or: from bench.peers.mem0_client import Mem0Peer   (with the repo root on sys.path)

    async with Mem0Peer(data_dir) as peer:          # spawns the runner and sends `init`
        print(peer.info["hybrid"])                  # proof BM25 hybrid is active
        r = await peer.add("I love pizza", user_id="u1")
        r = await peer.add_many([{"text": "...", "user_id": "u1"}, ...])
        r = await peer.search("pizza", user_id="u1", limit=10)   # {"hits": [...], "ms": ...}

Every method returns the runner's ``result`` dict (see ``mem0_runner.py`` for the shapes) and
raises ``Mem0PeerError`` when the runner answers ``ok: false``, dies, or times out. The
runner's stderr goes to ``<data_dir>/mem0_runner.log`` (tail included in errors) unless
``log_path`` says otherwise. Timings: ``spawn_ms`` (process start until ``hello`` answers) and
``init_ms_wall`` (the ``init`` round trip: mem0 import + model loads) are set on the instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

try:
    from . import _common as C
except ImportError:  # imported with bench/peers itself on sys.path
    import _common as C

RUNNER = C.PEERS_DIR / "mem0_runner.py"


class Mem0PeerError(RuntimeError):
    def __init__(self, message: str, *, error: dict | None = None, log_tail: str = ""):
        super().__init__(message + (f"\n--- runner log tail ---\n{log_tail}" if log_tail else ""))
        self.error = error or {}
        self.log_tail = log_tail


class Mem0Peer:
    def __init__(
        self,
        data_dir: str | os.PathLike,
        *,
        collection: str = "mem0",
        hybrid: bool = True,
        require_hybrid: bool = True,
        timeout: float = 300.0,
        start_timeout: float = 180.0,
        log_path: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        python: str | os.PathLike | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.collection = collection
        self.hybrid = hybrid
        self.require_hybrid = require_hybrid
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.log_path = Path(log_path) if log_path else self.data_dir / "mem0_runner.log"
        self.extra_env = dict(env or {})
        self.python = str(python or C.venv_python("mem0"))
        self.proc: asyncio.subprocess.Process | None = None
        self.info: dict[str, Any] = {}
        self.hello: dict[str, Any] = {}
        self.spawn_ms: float | None = None
        self.init_ms_wall: float | None = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._log_fh = None

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> dict:
        """Spawn the runner and ``init`` mem0; returns the ``init`` result."""
        if not Path(self.python).exists():
            raise Mem0PeerError(f"{self.python} not found: run `python bench/peers/setup.py`")
        if problem := C.missing_setup("mem0"):
            raise Mem0PeerError(problem)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_fh = open(self.log_path, "ab")  # noqa: SIM115 - closed in close()
        env = C.peer_env({"MEM0_DIR": str(self.data_dir / ".mem0"), **self.extra_env})
        t0 = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            self.python,
            str(RUNNER),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log_fh,
            env=env,
            cwd=str(self.data_dir),
            limit=256 * 1024 * 1024,
        )
        self.hello = await self.request("hello", timeout=self.start_timeout)
        self.spawn_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        self.info = await self.request(
            "init",
            timeout=self.start_timeout,
            data_dir=str(self.data_dir),
            collection=self.collection,
            hybrid=self.hybrid,
            require_hybrid=self.require_hybrid,
        )
        self.init_ms_wall = (time.perf_counter() - t0) * 1000
        return self.info

    async def close(self, timeout: float = 30.0) -> None:
        """Ask the runner to close mem0 (flushes Qdrant, releases its lock), then reap it."""
        proc = self.proc
        try:
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(Mem0PeerError):
                    await self.request("close", timeout=timeout)
                if proc.stdin and not proc.stdin.is_closing():
                    proc.stdin.close()
                try:
                    await asyncio.wait_for(proc.wait(), timeout)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        finally:
            self.proc = None
            if self._log_fh:
                self._log_fh.close()
                self._log_fh = None

    async def __aenter__(self) -> Mem0Peer:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -------------------------------------------------------------- requests
    def _log_tail(self, n: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-n:].decode("utf-8", "replace")

    async def request(self, op: str, *, timeout: float | None = None, **params: Any) -> dict:
        """Send one request, wait for its response, return ``result`` (or raise)."""
        proc = self.proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise Mem0PeerError("mem0 runner is not running (use `async with` or start())")
        rid = next(self._ids)
        line = json.dumps({"id": rid, "op": op, **params}, ensure_ascii=False) + "\n"
        async with self._lock:
            try:
                proc.stdin.write(line.encode("utf-8"))
                await proc.stdin.drain()
                raw = await asyncio.wait_for(proc.stdout.readline(), timeout or self.timeout)
            except TimeoutError:
                proc.kill()
                raise Mem0PeerError(
                    f"mem0 runner: '{op}' timed out after "
                    f"{timeout or self.timeout:.0f}s; runner killed",
                    log_tail=self._log_tail(),
                ) from None
            except (BrokenPipeError, ConnectionResetError) as e:
                raise Mem0PeerError(f"mem0 runner died ({e})", log_tail=self._log_tail()) from e
        if not raw:
            rc = await proc.wait()
            raise Mem0PeerError(
                f"mem0 runner exited (code {rc}) during '{op}'", log_tail=self._log_tail()
            )
        resp = json.loads(raw)
        if resp.get("id") != rid:
            raise Mem0PeerError(f"mem0 runner: response id {resp.get('id')!r} != {rid}")
        if not resp.get("ok"):
            err = resp.get("error") or {}
            warn = "".join(f"\n  warning: {w}" for w in resp.get("warnings") or [])
            raise Mem0PeerError(
                f"mem0 runner: '{op}' failed: {err.get('type')}: "
                f"{err.get('message')}{warn}\n{err.get('traceback', '')}",
                error=err,
            )
        result = resp.get("result") or {}
        if resp.get("warnings"):
            result.setdefault("_warnings", resp["warnings"])
        return result

    # ------------------------------------------------------------ operations
    async def add(
        self,
        text: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict | None = None,
    ) -> dict:
        return await self.request(
            "add", text=text, user_id=user_id, agent_id=agent_id, run_id=run_id, metadata=metadata
        )

    async def add_many(
        self, items: Iterable[dict], *, concurrency: int = 1, timeout: float | None = None
    ) -> dict:
        """items: ``{"text", "user_id"|"agent_id"|"run_id", "metadata"?}`` dicts."""
        items = list(items)
        return await self.request(
            "add_many",
            items=items,
            concurrency=concurrency,
            timeout=timeout or max(self.timeout, 0.5 * len(items)),
        )

    async def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict | None = None,
        limit: int = 10,
        threshold: float | None = None,
        explain: bool = True,
    ) -> dict:
        return await self.request(
            "search",
            query=query,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            filters=filters,
            limit=limit,
            threshold=threshold,
            explain=explain,
        )

    async def search_many(
        self,
        queries: Iterable[dict],
        *,
        limit: int = 10,
        threshold: float | None = None,
        explain: bool = True,
        timeout: float | None = None,
    ) -> dict:
        """queries: ``{"query", scope..., "filters"?, "limit"?}`` dicts."""
        queries = list(queries)
        return await self.request(
            "search_many",
            queries=queries,
            limit=limit,
            threshold=threshold,
            explain=explain,
            timeout=timeout or max(self.timeout, 0.5 * len(queries)),
        )

    async def get(self, memory_id: str) -> dict:
        return await self.request("get", memory_id=memory_id)

    async def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
    ) -> dict:
        return await self.request(
            "get_all", user_id=user_id, agent_id=agent_id, run_id=run_id, limit=limit
        )

    async def update(
        self, memory_id: str, text: str | None = None, metadata: dict | None = None
    ) -> dict:
        return await self.request("update", memory_id=memory_id, text=text, metadata=metadata)

    async def delete(self, memory_id: str) -> dict:
        return await self.request("delete", memory_id=memory_id)

    async def delete_all(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> dict:
        return await self.request("delete_all", user_id=user_id, agent_id=agent_id, run_id=run_id)

    async def history(self, memory_id: str) -> dict:
        return await self.request("history", memory_id=memory_id)

    async def stats(self) -> dict:
        return await self.request("stats")
