"""Settings precedence (defaults → file → environment → CLI) and the shipped examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mem0_mcp.config import MemoryConfig
from mem0_mcp.errors import ConfigError

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_defaults() -> None:
    cfg = MemoryConfig()
    assert cfg.data_dir == Path("~/.mem0-mcp").expanduser()
    assert (cfg.transport, cfg.host, cfg.port) == ("stdio", "127.0.0.1", 8765)
    assert (cfg.llm_provider, cfg.vector_store, cfg.default_user_id) == (
        "none",
        "edge",
        "default_user",
    )


def test_file_then_environment_then_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "s.toml"
    file.write_text('default_user_id = "from-file"\nport = 9000\ncollection = "file_coll"\n')
    monkeypatch.setenv("MEM0_MCP_PORT", "9100")
    monkeypatch.setenv("MEM0_MCP_COLLECTION", "env_coll")
    cfg = MemoryConfig.load(file, collection="cli_coll", host=None)
    assert cfg.default_user_id == "from-file"  # file beats default
    assert cfg.port == 9100  # environment beats file
    assert cfg.collection == "cli_coll"  # CLI beats environment
    assert cfg.host == "127.0.0.1"  # a flag left unset changes nothing


def test_yaml_and_the_shipped_examples_load() -> None:
    for name in ("settings.example.toml", "settings.example.yaml"):
        cfg = MemoryConfig.load(CONFIGS / name)
        assert cfg.default_user_id == "me" and cfg.llm_provider == "none"


def test_client_config_examples_are_valid_json_launching_serve() -> None:
    for path in CONFIGS.glob("*.json"):
        data = json.loads(path.read_text())
        servers = data.get("mcpServers") or data.get("servers")
        assert servers, path
        for server in servers.values():
            assert server.get("args") == ["serve"] or server["url"].startswith("http://127.0.0.1")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("nonsense = 1\n", "nonsense: not a setting"),
        ("default_user = 'x'\n", "did you mean default_user_id"),
        ('port = "not a port"\n', "port: must be an integer"),
        ('llm_provider = "gpt"\n', "llm_provider"),
        ("= broken", "not valid"),
    ],
)
def test_bad_config_file_is_a_clear_error(tmp_path: Path, content: str, needle: str) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(content)
    with pytest.raises(ConfigError, match=needle):
        MemoryConfig.load(file)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        MemoryConfig.load(tmp_path / "absent.toml")


def test_an_invalid_environment_value_is_explained_without_pydantic_jargon(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEM0_MCP_PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        MemoryConfig.load()
    assert str(caught.value) == "invalid settings: port: must be an integer (got 'eighty')"


def test_a_yaml_file_is_read_through_the_same_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "s.yml"
    file.write_text("default_user_id: from-yaml\nport: 9000\nread_only: true\n")
    monkeypatch.setenv("MEM0_MCP_PORT", "9100")
    cfg = MemoryConfig.load(file, read_only=False)
    assert (cfg.default_user_id, cfg.port, cfg.read_only) == ("from-yaml", 9100, False)
