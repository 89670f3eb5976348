"""The `mem0-mcp` command as a person uses it: version and help, looking at and fixing
memories whether or not a server owns the data dir, and a `doctor` that finds what is
wrong and says how to fix it. Every test runs the installed command as a subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from llm_stub import LLMStub, Reply
from mcp_harness import MEM0_MCP, call, connect, free_port, http_server, server_env

from mem0_mcp import __version__

COMMANDS = ["serve", "list", "search", "get", "history", "delete", "export", "import", "doctor"]


def _run(env: dict[str, str], *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MEM0_MCP, *args], env=env, capture_output=True, text=True, timeout=120, input=input
    )


def test_version_and_help_for_every_command(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    assert _run(env, "--version").stdout.strip() == f"mem0-mcp {__version__}"
    top = _run(env, "--help").stdout
    for command in COMMANDS:
        assert f"    {command} " in top
        page = _run(env, command, "--help")
        assert page.returncode == 0 and "usage: mem0-mcp " + command in page.stdout
        assert "``" not in page.stdout and "`" not in top


async def _seed_through_a_server(env: dict[str, str]) -> list[str]:
    async with connect("stdio", env) as session:
        ids = []
        for text in ("Alice lives in Lisbon", "Alice is allergic to peanuts"):
            added = await call(session, "add_memory", text=text, user_id="alice")
            ids.append(added["results"][0]["id"])
        await call(session, "update_memory", memory_id=ids[0], text="Alice lives in Porto")
        return ids


@pytest.mark.parametrize("owned", [True, False], ids=["server running", "no server"])
async def test_people_commands_read_and_change_the_store(
    tmp_path: Path, model_dir: Path, owned: bool
) -> None:
    env = server_env(tmp_path / "data", model_dir)
    porto, peanuts = await _seed_through_a_server(env)
    with http_server(env) if owned else _nothing():
        listed = _run(env, "list", "--user-id", "alice")
        assert listed.returncode == 0, listed.stderr
        assert "Alice lives in Porto" in listed.stdout and "2 memories" in listed.stdout
        as_json = json.loads(_run(env, "list", "--user-id", "alice", "--json").stdout)
        assert {m["id"] for m in as_json["results"]} == {porto, peanuts}

        found = json.loads(
            _run(env, "search", "food allergy", "--user-id", "alice", "--json").stdout
        )
        assert found["results"][0]["id"] == peanuts

        history = _run(env, "history", porto)
        assert "UPDATE" in history.stdout and "Alice lives in Lisbon" in history.stdout

        refused = _run(env, "delete", peanuts)  # no terminal to ask on, no --yes
        assert refused.returncode == 2 and "pass --yes" in refused.stderr
        deleted = _run(env, "delete", peanuts, "--yes")
        assert deleted.returncode == 0 and "DELETE" in deleted.stdout
        gone = _run(env, "get", peanuts)
        assert gone.returncode == 2 and "no memory with id" in gone.stderr
        assert "Traceback" not in gone.stderr

        bad = _run(env, "list", "--limit", "500")
        assert bad.returncode == 2 and "limit: is 500" in bad.stderr


class _nothing:  # noqa: N801 - a do-nothing context manager named for the test's reading
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# -- doctor --------------------------------------------------------------------------------


def test_doctor_passes_on_a_good_setup(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    proc = _run(env, "doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    checks = {c["name"]: c for c in json.loads(proc.stdout)}
    assert set(checks) == {"settings", "model", "data dir", "store", "history", "LLM"}
    assert all(c["ok"] for c in checks.values())


def test_doctor_reports_a_store_owned_by_a_running_server(tmp_path: Path, model_dir: Path) -> None:
    env = server_env(tmp_path / "data", model_dir)
    with http_server(env):
        proc = _run(env, "doctor")
    assert proc.returncode == 0
    assert "ok   store: in use by a running mem0-mcp (pid " in proc.stderr
    assert "mem0-mcp serve --transport http)" in proc.stderr


@pytest.mark.parametrize(
    ("extra", "failing", "fix"),
    [
        ({"MEM0_MCP_LLM_PROVIDER": "openai", "OPENAI_API_KEY": ""}, "LLM", "OPENAI_API_KEY"),
        ({"MEM0_MCP_QDRANT_URL": "http://127.0.0.1:{port}"}, "store", "MEM0_MCP_QDRANT_URL"),
        ({"MEM0_MCP_EMBEDDING_MODEL_PATH": "{empty}"}, "model", "MEM0_MCP_EMBEDDING_MODEL_PATH"),
        ({"MEM0_MCP_DEFAULT_USERID": "bob"}, "settings", "did you mean MEM0_MCP_DEFAULT_USER_ID"),
    ],
    ids=["missing key", "unreachable qdrant", "missing model file", "misspelt variable"],
)
def test_doctor_fails_with_the_fix_for_each_broken_setup(
    tmp_path: Path, model_dir: Path, extra: dict[str, str], failing: str, fix: str
) -> None:
    (tmp_path / "empty").mkdir()
    values = {k: v.format(port=free_port(), empty=tmp_path / "empty") for k, v in extra.items()}
    env = {**server_env(tmp_path / "data", model_dir), **values}
    proc = _run(env, "doctor")
    assert proc.returncode == 1
    assert f"FAIL {failing}: " in proc.stderr and fix in proc.stderr
    assert "Traceback" not in proc.stderr


def test_doctor_checks_an_llm_endpoint_and_its_structured_output(
    tmp_path: Path, model_dir: Path
) -> None:
    with LLMStub.running() as stub:
        stub.reject("json_schema")  # like llama.cpp's server
        stub.script(Reply(json={"ok": True}))
        env = server_env(
            tmp_path / "data",
            model_dir,
            MEM0_MCP_LLM_PROVIDER="openai",
            MEM0_MCP_LLM_BASE_URL=stub.openai_url,
            OPENAI_API_KEY="sk-test",
        )
        proc = _run(env, "doctor")
    assert proc.returncode == 0, proc.stderr
    assert f"ok   LLM: openai at {stub.openai_url}/" in proc.stderr
    assert "structured output: tool" in proc.stderr
