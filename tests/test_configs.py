"""Every client config shipped in configs/ launches (or reaches) a working server.

Each server a config describes is started the way the client would start it, with only the
package source substituted: ``uvx mem0-mcp serve`` runs ``uvx --from <the wheel built from
this checkout> mem0-mcp serve``, and ``/ABSOLUTE/PATH/TO/mem0-mcp`` is this checkout. The
uvx servers reach PyPI (see fresh_install.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fresh_install import REPO, UVX, Install, installed_wheel, pypi_only_env
from mcp_harness import call, connect, free_port, http_server

from mem0_mcp import MemoryConfig

CONFIGS = REPO / "configs"
UVX_CONFIGS = CONFIGS / "uvx"
CHECKOUT = "/ABSOLUTE/PATH/TO/mem0-mcp"
HTTP_PATHS = {"http": "/mcp", "sse": "/sse"}  # config "type" -> where the server serves it
HTTP_TRANSPORTS = {"http": "streamable-http", "sse": "sse"}


def servers(path: Path) -> dict[str, dict]:
    """The server entries of a client config (``mcpServers``, or VS Code's ``servers``)."""
    data = json.loads(path.read_text())
    return data.get("mcpServers") or data["servers"]


def entries(kind: str) -> list[tuple[Path, str]]:
    """``(config file, server name)`` of each entry launched by `command` or reached by `url`."""
    return [
        (path, name)
        for path in sorted(CONFIGS.rglob("*.json"))
        for name, entry in servers(path).items()
        if kind in entry
    ]


def entry_id(param: tuple[Path, str]) -> str:
    return f"{param[0].relative_to(CONFIGS)}:{param[1]}"


@pytest.fixture(scope="session")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    return installed_wheel(tmp_path_factory.getbasetemp() / "fresh-install")


def launch_argv(entry: dict, request: pytest.FixtureRequest) -> list[str]:
    """The config's command line, with the package source pointed at this checkout."""
    command, args = entry["command"], entry["args"]
    if command == "uvx":
        assert args[0] == "mem0-mcp", "uvx configs run the mem0-mcp package"
        wheel = request.getfixturevalue("install").wheel
        return [UVX, "--from", str(wheel), *args]
    assert command.startswith(f"{CHECKOUT}/"), f"unexpected command {command!r}"
    return [str(REPO / command.removeprefix(f"{CHECKOUT}/")), *args]


def test_every_stdio_config_has_a_uvx_variant_with_the_same_settings():
    launched = [
        path
        for path in sorted(CONFIGS.glob("*.json"))
        if any("command" in entry for entry in servers(path).values())
    ]
    assert launched, "configs/ should hold client configs"
    for path in launched:
        variant = UVX_CONFIGS / path.name
        assert variant.is_file(), f"{path.name} has no uvx variant in configs/uvx/"
        for name, entry in servers(path).items():
            uvx_entry = servers(variant)[name]
            assert uvx_entry["command"] == "uvx"
            assert uvx_entry["args"] == ["mem0-mcp", *entry["args"]]
            assert uvx_entry.get("env") == entry.get("env")
            assert uvx_entry.get("type") == entry.get("type")


def test_configs_set_only_settings_the_server_knows():
    known = {f"MEM0_MCP_{field.upper()}" for field in MemoryConfig.model_fields}
    for path, name in entries("command"):
        unknown = set(servers(path)[name].get("env", {})) - known
        assert not unknown, f"{path.name}:{name} sets unknown settings {sorted(unknown)}"


@pytest.mark.slow
@pytest.mark.parametrize("config", entries("command"), ids=entry_id)
async def test_stdio_config_launches_a_server_that_remembers(
    config: tuple[Path, str], tmp_path: Path, request: pytest.FixtureRequest
):
    path, name = config
    entry = servers(path)[name]
    env = pypi_only_env(
        **{**entry.get("env", {}), "MEM0_MCP_DATA_DIR": str(tmp_path / "data")},
        MEM0_MCP_LOG_LEVEL="WARNING",
    )
    async with connect("stdio", env, server=launch_argv(entry, request)) as session:
        # No user_id: the config's MEM0_MCP_DEFAULT_USER_ID is the scope.
        added = await call(session, "add_memory", text="I keep my bike in the shed")
        assert [r["event"] for r in added["results"]] == ["ADD"]
        found = await call(session, "search_memories", query="where is the bike?")
    assert found["results"][0]["memory"] == "I keep my bike in the shed"


@pytest.mark.slow
@pytest.mark.parametrize("config", entries("url"), ids=entry_id)
async def test_remote_config_reaches_a_server_started_with_uvx(
    config: tuple[Path, str], tmp_path: Path, install: Install
):
    path, name = config
    entry = servers(path)[name]
    url = urlsplit(entry["url"])
    assert url.path == HTTP_PATHS[entry["type"]]
    assert url.port == MemoryConfig.model_fields["port"].default
    port = free_port()  # the config's port, moved to a free one for the test
    env = pypi_only_env(MEM0_MCP_DATA_DIR=str(tmp_path / "data"), MEM0_MCP_LOG_LEVEL="WARNING")
    with http_server(env, "http", port, server=install.uvx_serve) as base:
        assert base == f"{url.scheme}://{url.hostname}:{port}"
        async with connect(HTTP_TRANSPORTS[entry["type"]], env, url=base) as session:
            added = await call(
                session, "add_memory", text="The team standup is at 9:30", user_id="sam"
            )
            assert [r["event"] for r in added["results"]] == ["ADD"]
