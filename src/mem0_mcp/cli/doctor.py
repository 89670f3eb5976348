"""``mem0-mcp doctor``: check everything a server needs, and say how to fix what is wrong.

Checks, in order (each is one line: ``ok`` or ``FAIL`` with the fix):

* settings — they load, and no ``MEM0_MCP_*`` variable names an unknown setting;
* model — the files are installed, ``model.onnx`` matches the pinned sha256 (the copy the
  server runs from, too), the model loads and embeds a sentence into a unit vector;
* data dir — exists or can be created, and is writable;
* store — the vector store opens (or is owned by a running server, named with its pid and
  transport); a Qdrant server URL answers;
* history — ``history.db`` passes SQLite's ``PRAGMA quick_check``;
* LLM — the provider's key is present, its endpoint answers a cheap call, and which
  structured-output mode it accepts (one tiny request).

Exit status 1 when anything failed, 0 otherwise. ``--json`` prints the checks as JSON on
stdout; the report itself goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel

from ..config import DEFAULT_EMBEDDING_MODEL, MemoryConfig, unknown_env_settings
from ..errors import Mem0MCPError

_NETWORK_TIMEOUT = 5.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def add_parsers(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check the model, store, history, LLM and settings",
        description="Check everything a server needs: settings, the embedding model (files, "
        "sha256, one embedding), the data dir, the store (or the server that owns it), the "
        "history database (PRAGMA quick_check) and the LLM provider (key, endpoint, structured "
        "output). Prints one line per check with the fix for each failure; exits 1 if any "
        "failed.",
    )
    common(doctor)
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON on stdout")
    doctor.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from . import settings

    checks = [Check("settings", True, "loaded")]
    try:
        config = settings(args, quiet=True)
    except Mem0MCPError as exc:
        checks = [Check("settings", False, str(exc), "correct the setting it names")]
        config = None
    for problem in unknown_env_settings():
        checks.append(Check("settings", False, problem, "rename or remove the variable"))
    if config is not None:
        checks += asyncio.run(_checks(config))
    for c in checks:
        line = f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}"
        sys.stderr.write(line + (f"\n     fix: {c.fix}" if c.fix else "") + "\n")
    if args.json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    if not all(c.ok for c in checks):
        raise SystemExit(1)


async def _checks(config: MemoryConfig) -> list[Check]:
    out = [await _check_model(config), _check_data_dir(config)]
    out.append(await _check_store(config))
    out.append(_check_history(config))
    out.append(await _check_llm(config))
    return out


async def _guard(name: str, body: Callable[[], Awaitable[Check]], fix: str) -> Check:
    """``body()``, or a failed check carrying the error's message (which says what to do
    for our own errors) and ``fix``."""
    try:
        return await body()
    except Mem0MCPError as exc:
        return Check(name, False, str(exc), fix)
    except Exception as exc:  # a doctor reports, it does not crash
        return Check(name, False, f"{type(exc).__name__}: {exc}", fix)


async def _check_model(config: MemoryConfig) -> Check:
    async def body() -> Check:
        from ..embeddings import Embedder

        origin = ""
        if (
            config.embedding_model_path is None
            and config.embedding_model == DEFAULT_EMBEDDING_MODEL
        ):
            from ..model_bundle import ensure_default_model, source_files
            from ..model_layout import MODEL_SHA256, sha256_of

            source = source_files()["model.onnx"]
            copy = ensure_default_model(config.models_dir) / "model.onnx"
            for path in (source, copy):
                if sha256_of(path) != MODEL_SHA256:
                    return Check(
                        "model",
                        False,
                        f"{path} does not match the pinned sha256 {MODEL_SHA256[:12]}…",
                        f"delete {copy.parent} and reinstall mem0-mcp (pip install "
                        "--force-reinstall mem0-mcp, or make install in a checkout)",
                    )
            origin = f", sha256 ok, from {source.parent}"
        started = time.perf_counter()
        embedder = Embedder(config)
        (vector,) = await embedder.embed(["doctor checks the embedding model"])
        norm = math.sqrt(sum(x * x for x in vector))
        if not math.isclose(norm, 1.0, rel_tol=1e-3):
            return Check("model", False, f"embeddings are not unit vectors (norm {norm:.3f})")
        took = time.perf_counter() - started
        return Check(
            "model",
            True,
            f"{embedder.model_name} ({embedder.dim}-d) embeds in {took:.2f} s{origin}",
        )

    return await _guard(
        "model", body, "reinstall mem0-mcp, or set MEM0_MCP_EMBEDDING_MODEL_PATH to a model folder"
    )


def _check_data_dir(config: MemoryConfig) -> Check:
    path = config.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".doctor-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check(
            "data dir",
            False,
            f"{path}: {exc.strerror}",
            "make it writable, or set MEM0_MCP_DATA_DIR to a folder you own",
        )
    return Check("data dir", True, f"{path} is writable")


async def _check_store(config: MemoryConfig) -> Check:
    from filelock import FileLock, Timeout

    if config.qdrant_url:
        return await _guard("store", lambda: _check_qdrant_server(config), _QDRANT_FIX)
    lock = FileLock(config.data_dir / "owner.lock", thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return Check("store", True, f"in use by {_owner_description(config)}")

    async def body() -> Check:
        from ..embeddings import Embedder
        from ..vector_stores import create_vector_store

        embedder = Embedder(config)  # the model loaded above: cached, no second load
        await embedder.ready()
        store = create_vector_store(config)
        await store.open(embedder.dim)
        try:
            count = await store.count(filter=None)
        finally:
            await store.close()
        return Check("store", True, f"{config.vector_store} store opens, {count} memories")

    try:
        return await _guard(
            "store", body, "stop other programs using the data dir, or restore it from an export"
        )
    finally:
        lock.release()


def _owner_description(config: MemoryConfig) -> str:
    info = config.data_dir / "owner.json"
    try:
        data = json.loads(info.read_text())
        return f"a running mem0-mcp (pid {data['pid']}: mem0-mcp {data['label']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "a running mem0-mcp (its pid is not recorded)"


_QDRANT_FIX = "check MEM0_MCP_QDRANT_URL and MEM0_MCP_QDRANT_API_KEY, and that the server runs"


async def _check_qdrant_server(config: MemoryConfig) -> Check:
    from qdrant_client import AsyncQdrantClient

    client = AsyncQdrantClient(
        url=config.qdrant_url, api_key=config.qdrant_api_key, timeout=int(_NETWORK_TIMEOUT)
    )
    try:
        collections = await asyncio.wait_for(client.get_collections(), _NETWORK_TIMEOUT)
    except Exception as exc:
        return Check("store", False, f"Qdrant server {config.qdrant_url}: {exc}", _QDRANT_FIX)
    finally:
        await client.close()
    names = [c.name for c in collections.collections]
    there = "exists" if config.collection in names else "will be created on first use"
    return Check(
        "store", True, f"Qdrant server {config.qdrant_url} answers; {config.collection!r} {there}"
    )


def _check_history(config: MemoryConfig) -> Check:
    path = config.history_path
    if not path.exists():
        return Check("history", True, f"{path} will be created on first use")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            (result,) = db.execute("PRAGMA quick_check").fetchone()
            (rows,) = db.execute("SELECT COUNT(*) FROM history").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return Check("history", False, f"{path}: {exc}", _HISTORY_FIX)
    if result != "ok":
        return Check("history", False, f"{path}: quick_check says {result}", _HISTORY_FIX)
    return Check("history", True, f"{path} passes quick_check, {rows} rows")


_HISTORY_FIX = (
    "stop the servers, move history.db aside and restore from an export "
    "(mem0-mcp import); `sqlite3 history.db .recover` may save the rows"
)


class _Probe(BaseModel):
    ok: bool


async def _check_llm(config: MemoryConfig) -> Check:
    provider = config.llm_provider
    if provider == "none":
        return Check("LLM", True, "none configured: memories are stored verbatim")
    if provider == "sampling":
        return Check(
            "LLM",
            True,
            "sampling: the connected client's model, checked on each call (a "
            "client without sampling gets a clear tool error)",
        )

    async def body() -> Check:
        from ..llms import create_llm

        # A doctor waits seconds, not the server's 180: no retries, a short timeout.
        quick = config.model_copy(update={"llm_timeout": _NETWORK_TIMEOUT, "llm_max_retries": 0})
        llm: Any = create_llm(quick)
        await asyncio.wait_for(_list_models(llm), _NETWORK_TIMEOUT * 2)
        await llm.generate(
            system="You check that structured output works.",
            prompt='Answer {"ok": true}.',
            schema=_Probe,
            tool_name="probe",
            tool_description="Report that the check worked.",
        )
        mode = getattr(llm, "mode", "?")
        return Check(
            "LLM",
            True,
            f"{provider} at {llm.base_url} ({llm.model}) answers; structured output: {mode}",
        )

    key = "OPENAI_API_KEY" if provider == "openai" else "ANTHROPIC_API_KEY"
    return await _guard("LLM", body, f"check {key}, MEM0_MCP_LLM_MODEL and MEM0_MCP_LLM_BASE_URL")


async def _list_models(llm: Any) -> None:
    """The cheapest authenticated call both APIs have (``GET /models``)."""
    page = llm.client.models.list()
    if hasattr(page, "__aiter__"):
        async for _ in page:
            break
    else:
        await page
