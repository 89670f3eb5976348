"""Drive ``mcp-server-qdrant`` (in its own venv) over stdio from our venv's ``mcp`` 2.x client.

    from peers.qdrant_mcp import QdrantMCPPeer

    async with QdrantMCPPeer(data_dir, search_limit=10) as peer:
        print(peer.startup_ms)                      # spawn -> initialize answered
        await peer.store("I love pizza", metadata={"id": "m1"})      # {"ms", "reply"}
        r = await peer.find("what food?")           # {"hits": [{"text", "metadata"}], "ms"}

The server (mcp-server-qdrant 0.8.1, FastMCP 2.x on the ``mcp`` 1.x SDK) is configured only
through its environment (names from ``mcp_server_qdrant/settings.py``):

* ``QDRANT_LOCAL_PATH=<data_dir>/qdrant`` - embedded qdrant-client local mode (no server);
* ``COLLECTION_NAME`` - fixed collection, so the tools take no ``collection_name`` argument;
* ``EMBEDDING_PROVIDER=fastembed``, ``EMBEDDING_MODEL=sentence-transformers/all-MiniLM-L6-v2``
  - fastembed resolves the name to the hub repo ``Qdrant/all-MiniLM-L6-v2-onnx``, found in
  ``FASTEMBED_CACHE_PATH`` (laid out by ``setup.py``) with ``HF_HUB_OFFLINE=1``; the server
  stores it as the named vector ``fast-all-minilm-l6-v2`` (cosine, 384-d);
* ``QDRANT_SEARCH_LIMIT`` - how many entries ``qdrant-find`` returns (fixed per process).

Its two tools: ``qdrant-store(information, metadata=None)`` (a new random point id per call,
payload ``{"document", "metadata"}``, nothing returned but a confirmation string) and
``qdrant-find(query)`` (dense-only search; a JSON list of strings, the first a header, then
``<entry><content>…</content><metadata>{json}</metadata></entry>`` per hit, best first, no
scores and no ids). It has no update, delete, history, scoping or dedup: to map hits back to
your items, put your own id in ``metadata`` and read it from ``hit["metadata"]``.

Timings: ``startup_ms`` is process spawn until ``initialize`` is answered - the server loads
the embedding model before it starts reading stdin, so this is what an MCP client waits on.
``store``/``find`` times are the client-side ``tools/call`` round trip.

Use one instance from one asyncio task (the SDK's stdio transport lives in an anyio task
group, entered and left by ``__aenter__``/``__aexit__``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

try:
    from . import _common as C
except ImportError:  # imported with bench/peers itself on sys.path
    import _common as C

LAUNCHER = C.PEERS_DIR / "_qdrant_mcp_launch.py"
STORE_TOOL = "qdrant-store"
FIND_TOOL = "qdrant-find"
_ENTRY_RE = re.compile(
    r"<entry><content>(.*?)</content><metadata>(.*?)</metadata></entry>", re.DOTALL
)


class QdrantMCPError(RuntimeError):
    pass


def server_env(
    data_dir: Path, collection: str, search_limit: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment the server is started with (on top of the SDK's safe defaults)."""
    env = C.peer_env(inherit=False)
    env.update(
        {
            "QDRANT_LOCAL_PATH": str(data_dir / "qdrant"),
            "COLLECTION_NAME": collection,
            "EMBEDDING_PROVIDER": "fastembed",
            "EMBEDDING_MODEL": C.EMBEDDING_MODEL,
            "QDRANT_SEARCH_LIMIT": str(search_limit),
            "FASTMCP_LOG_LEVEL": os.environ.get("FASTMCP_LOG_LEVEL", "WARNING"),
        }
    )
    env.update(extra or {})
    return env


def parse_find(result: Any) -> list[dict]:
    """Hits from a ``qdrant-find`` CallToolResult: ``[{"text", "metadata"}]``, best first."""
    texts: list[str] = []
    for block in getattr(result, "content", None) or []:
        text = getattr(block, "text", None)
        if text is None:
            continue
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = text
        if isinstance(decoded, list):
            texts.extend(str(x) for x in decoded)
        else:
            texts.append(str(decoded))
    hits = []
    for chunk in texts:
        for content, meta in _ENTRY_RE.findall(chunk):
            try:
                metadata = json.loads(meta) if meta else None
            except ValueError:
                metadata = meta
            hits.append({"text": content, "metadata": metadata})
    return hits


class QdrantMCPPeer:
    def __init__(
        self,
        data_dir: str | os.PathLike | None = None,
        *,
        collection: str = "bench",
        search_limit: int = 10,
        init_timeout: float = 120.0,
        call_timeout: float = 120.0,
        log_path: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        guard: bool = True,
    ) -> None:
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="qdrant-mcp-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir).resolve()
        self.collection = collection
        self.search_limit = search_limit
        self.init_timeout = init_timeout
        self.call_timeout = call_timeout
        self.log_path = Path(log_path) if log_path else self.data_dir / "qdrant_mcp.log"
        self.extra_env = env
        self.guard = guard
        self.session = None
        self.server_info: dict[str, Any] = {}
        self.tools: list[str] = []
        self.startup_ms: float | None = None
        self._stack: AsyncExitStack | None = None

    def server_params(self):
        from mcp.client.stdio import StdioServerParameters

        py = C.venv_python("qdrant-mcp")
        if self.guard:
            command, args = str(py), [str(LAUNCHER)]
        else:  # the console script itself, as an MCP client config would name it
            command, args = str(py.parent / "mcp-server-qdrant"), []
        return StdioServerParameters(
            command=command,
            args=args,
            cwd=str(self.data_dir),
            env=server_env(self.data_dir, self.collection, self.search_limit, self.extra_env),
        )

    async def start(self) -> float:
        """Spawn the server and complete the MCP handshake; returns ``startup_ms``."""
        import anyio
        from mcp.client.session import ClientSession
        from mcp.client.stdio import stdio_client

        if problem := C.missing_setup("qdrant-mcp"):
            raise QdrantMCPError(problem)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        params = self.server_params()
        stack = AsyncExitStack()
        self._stack = stack
        errlog = stack.enter_context(open(self.log_path, "a", encoding="utf-8"))  # noqa: SIM115
        t0 = time.perf_counter()
        read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
        session = await stack.enter_async_context(
            ClientSession(read, write, read_timeout_seconds=self.call_timeout)
        )
        try:
            with anyio.fail_after(self.init_timeout):
                init = await session.initialize()
        except TimeoutError as e:
            raise QdrantMCPError(
                f"mcp-server-qdrant did not answer initialize within "
                f"{self.init_timeout:.0f}s; see {self.log_path}"
            ) from e
        self.startup_ms = (time.perf_counter() - t0) * 1000
        self.session = session
        info = getattr(init, "server_info", None) or getattr(init, "serverInfo", None)
        self.server_info = {
            "name": getattr(info, "name", None),
            "version": getattr(info, "version", None),
            "protocol_version": getattr(init, "protocol_version", None),
            "packages": C.installed_versions("qdrant-mcp"),
        }
        listed = await session.list_tools()
        self.tools = [t.name for t in listed.tools]
        missing = {STORE_TOOL, FIND_TOOL} - set(self.tools)
        if missing:
            raise QdrantMCPError(f"mcp-server-qdrant lacks tools {missing}: has {self.tools}")
        return self.startup_ms

    async def close(self) -> None:
        stack, self._stack = self._stack, None
        self.session = None
        try:
            if stack is not None:
                await stack.aclose()
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    async def __aenter__(self) -> QdrantMCPPeer:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, tool: str, arguments: dict[str, Any]) -> tuple[Any, float]:
        if self.session is None:
            raise QdrantMCPError("not started (use `async with` or start())")
        t0 = time.perf_counter()
        result = await self.session.call_tool(tool, arguments)
        ms = (time.perf_counter() - t0) * 1000
        if getattr(result, "is_error", False):
            text = " ".join(getattr(b, "text", "") for b in result.content or [])
            raise QdrantMCPError(f"{tool} failed: {text}")
        return result, ms

    async def store(self, text: str, metadata: dict | None = None) -> dict:
        result, ms = await self._call(STORE_TOOL, {"information": text, "metadata": metadata})
        reply = " ".join(getattr(b, "text", "") for b in result.content or [])
        return {"ms": ms, "reply": reply}

    async def store_many(self, items: list[dict]) -> dict:
        """items: ``{"text", "metadata"?}``; sequential calls. Returns per-item ``ms``."""
        t0 = time.perf_counter()
        times = [(await self.store(it["text"], it.get("metadata")))["ms"] for it in items]
        return {"ms": times, "total_ms": (time.perf_counter() - t0) * 1000}

    async def find(self, query: str) -> dict:
        result, ms = await self._call(FIND_TOOL, {"query": query})
        return {"hits": parse_find(result), "ms": ms}

    async def find_many(self, queries: list[str]) -> dict:
        t0 = time.perf_counter()
        results = [await self.find(q) for q in queries]
        return {"results": results, "total_ms": (time.perf_counter() - t0) * 1000}


async def measure_startup(runs: int = 3, **kwargs: Any) -> list[float]:
    """Cold spawn -> initialize times (ms) for ``runs`` fresh servers, each in a new temp dir."""
    out = []
    for _ in range(runs):
        async with QdrantMCPPeer(None, **kwargs) as peer:
            out.append(peer.startup_ms)
    return out
