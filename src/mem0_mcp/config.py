"""Settings: one object, read from defaults → config file → environment → CLI flags.

Environment variables are the flat ``MEM0_MCP_<FIELD>`` names (case-insensitive), e.g.
``MEM0_MCP_DATA_DIR``, ``MEM0_MCP_DEFAULT_USER_ID``, ``MEM0_MCP_LLM_PROVIDER``; lists and
objects as JSON. A config file (TOML or YAML, chosen by extension) holds the same field
names in lower case. All three are pydantic-settings sources (``settings_customise_sources``
orders them). API keys are read by the SDKs themselves (``OPENAI_API_KEY``,
``ANTHROPIC_API_KEY``).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from .errors import ConfigError

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class TokenScope(BaseModel):
    """The scope a bearer token is bound to; ids left out are not constrained."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None


class MemoryConfig(BaseSettings):
    """Every setting of the engine and the server.

    Sizes are in bytes (UTF-8), times in seconds. See README.md for the table.
    """

    model_config = SettingsConfigDict(env_prefix="MEM0_MCP_", extra="forbid", validate_default=True)

    # --- storage ---------------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("~/.mem0-mcp"),
        description="Folder holding the embedded vector store, the history database and models.",
    )
    collection: str = Field(default="memories", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    vector_store: Literal["edge", "qdrant"] = Field(
        default="edge",
        description="'edge': Qdrant Edge in-process under data_dir (default). 'qdrant': "
        "qdrant-client, against qdrant_url, or its local mode under data_dir when no URL.",
    )
    qdrant_url: str | None = Field(default=None, description="Qdrant server URL (server mode).")
    qdrant_api_key: str | None = None

    # --- embedder --------------------------------------------------------------------------
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_model_path: Path | None = Field(
        default=None,
        description="Local folder with model.onnx + tokenizer files; overrides the offline bundle.",
    )
    embedding_cache_size: int = Field(default=1024, ge=0, description="Query embeddings cached.")

    # --- scope -----------------------------------------------------------------------------
    default_user_id: str = Field(
        default="default_user",
        min_length=1,
        max_length=256,
        description="user_id used when a call gives no user_id, agent_id or run_id.",
    )

    # --- retrieval -------------------------------------------------------------------------
    search_mode: Literal["hybrid", "dense"] = "hybrid"

    # --- add hygiene -----------------------------------------------------------------------
    dedup_threshold: float = Field(
        default=0.95,
        ge=0.0,
        le=1.0,
        description="Cosine similarity at or above which a verbatim add in the same scope is a "
        "near duplicate (event NONE). 1.0 turns near-duplicate detection off.",
    )

    # --- LLM -------------------------------------------------------------------------------
    llm_provider: Literal["none", "openai", "anthropic", "sampling"] = "none"
    llm_model: str | None = Field(
        default=None, description="Model name; provider default if unset."
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, LM Studio)."
    )
    llm_timeout: float = Field(default=180.0, gt=0, description="Seconds per LLM request.")
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_structured_output: Literal["auto", "json_schema", "tool", "json_object", "text"] = "auto"
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    custom_instructions: str | None = Field(
        default=None, description="Extra guidance appended to the fact-extraction prompt."
    )

    # --- images in add (images.py) ---------------------------------------------------------
    fetch_image_urls: bool = Field(
        default=False,
        description="Fetch http(s) image URLs given to add_memory; off, only data: URIs are taken.",
    )
    image_max_bytes: int = Field(
        # Anthropic's per-image limit; a data: URI this size also fits max_request_bytes.
        default=5 * 1024 * 1024,
        ge=1,
        description="Largest image (decoded bytes), from a data: URI or a fetched URL.",
    )
    image_fetch_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to fetch one image URL, redirects included."
    )
    image_fetch_private_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Non-public networks image URLs may be fetched from, e.g. "
        '["192.168.1.0/24"]; by default only public addresses are (no SSRF into your network).',
    )
    max_images: int = Field(
        default=8, ge=1, description="Most images in one add (each is one LLM call)."
    )

    # --- limits ----------------------------------------------------------------------------
    max_text_bytes: int = Field(default=65536, ge=1, description="Largest memory text (UTF-8).")
    max_messages: int = Field(default=200, ge=1, description="Most messages in one add.")
    max_metadata_bytes: int = Field(default=16384, ge=2, description="Largest metadata (JSON).")
    max_metadata_keys: int = Field(default=64, ge=1)
    max_metadata_depth: int = Field(default=4, ge=1)
    max_id_length: int = Field(default=256, ge=1, description="Longest user_id/agent_id/run_id.")
    max_filter_bytes: int = Field(default=8192, ge=2)
    max_limit: int = Field(default=100, ge=1, le=10000, description="Largest search/list limit.")
    max_request_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest MCP message: an HTTP request body, or one stdio line. 4 MiB, the "
        "mcp SDK's HTTP default, holds a full add of 200 messages with metadata.",
    )

    # --- server ----------------------------------------------------------------------------
    transport: Literal["stdio", "sse", "streamable-http", "http"] = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    read_only: bool = Field(
        default=False,
        description="Offer only the tools that change nothing (search, get, list, history).",
    )
    tool_descriptions: dict[str, str] = Field(
        default_factory=dict,
        description='Replace tools\' descriptions, e.g. {"search_memories": "..."}. Env '
        "MEM0_MCP_TOOL_DESCRIPTIONS as JSON.",
    )
    tool_output: Literal["compact", "full"] = Field(
        default="compact",
        description="Text content of tool results: 'compact' (no null or default fields, no "
        "hash, scores to 3 decimals, times to the second) or 'full' (the structured content as "
        "is). Structured content is always complete.",
    )
    owner_channel: Literal["auto", "unix", "tcp"] = Field(
        default="auto",
        description="How the other serve processes on this data dir reach the one that owns "
        "the store, when this one owns it: 'unix' socket, or 'tcp' on 127.0.0.1 with a secret "
        "in the data dir. 'auto': unix, except on Windows.",
    )

    # --- HTTP authentication ---------------------------------------------------------------
    auth_tokens: dict[str, TokenScope] = Field(
        default_factory=dict,
        description="Bearer tokens accepted on HTTP transports, each mapped to the scope it is "
        'bound to, e.g. {"s3cret": {"user_id": "alice"}, "admin-token": {}} ({} = any scope). '
        "Env: MEM0_MCP_AUTH_TOKENS as JSON.",
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="Serve HTTP on a non-loopback address without auth_tokens (not advised).",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host headers accepted when serving on a non-loopback address (DNS-rebinding "
        'protection), e.g. ["memory.example.com", "10.0.0.5:*"].',
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Origin headers accepted on a non-loopback address."
    )

    @field_validator("data_dir", "embedding_model_path", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("tool_descriptions", mode="after")
    @classmethod
    def _known_tools(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            return value
        from .tools import TOOL_NAMES  # lazily: the tools module imports this one

        for name, text in value.items():
            if name not in TOOL_NAMES:
                hint = difflib.get_close_matches(name, TOOL_NAMES, n=1)
                raise ValueError(
                    f"unknown tool {name!r}"
                    + (f" (did you mean {hint[0]!r}?)" if hint else "")
                    + f"; the tools are {', '.join(TOOL_NAMES)}"
                )
            if not text.strip():
                raise ValueError(f"the description of {name!r} is empty")
        return value

    @property
    def history_path(self) -> Path:
        return self.data_dir / "history.db"

    @property
    def vector_path(self) -> Path:
        return self.data_dir / "vectors" / self.collection

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest first: keyword arguments (CLI flags), the environment, the config file.
        path = _CONFIG_FILE.get()
        if path is None:
            return (init_settings, env_settings)
        if path.suffix.lower() == ".toml":
            file: PydanticBaseSettingsSource = TomlConfigSettingsSource(settings_cls, path)
        else:
            file = YamlConfigSettingsSource(settings_cls, path)
        return (init_settings, env_settings, file)

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> MemoryConfig:
        """Build settings: defaults → ``config_file`` → environment → ``overrides`` (CLI flags).

        ``config_file``: TOML (``.toml``) or YAML (``.yaml`` / ``.yml``) with the settings'
        names in lower case at the top level, read by pydantic-settings' own file sources.
        ``overrides`` whose value is ``None`` are ignored. Raises ``ConfigError`` for an
        unreadable or malformed file, an unknown setting (naming the nearest one) or an
        invalid value (naming the setting, what was wrong and what was given).
        """
        path = None if config_file is None else _checked_file(config_file.expanduser())
        token = _CONFIG_FILE.set(path)
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as exc:
            where = f"config file {path}: " if path else ""
            raise ConfigError(where + _explain_settings(exc)) from None
        except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path}: not valid ({exc})") from None
        finally:
            _CONFIG_FILE.reset(token)


# The file ``MemoryConfig.load`` is reading, for ``settings_customise_sources`` (which
# pydantic-settings calls with no way to pass it).
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("mem0_mcp_config_file", default=None)


def _checked_file(path: Path) -> Path:
    if path.suffix.lower() not in (".toml", ".yaml", ".yml"):
        raise ConfigError(f"config file {path}: use a .toml, .yaml or .yml file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None
    return path


def _explain_settings(error: ValidationError) -> str:
    from .argument_errors import explain  # the same wording as tool-argument errors

    lines = explain(error, MemoryConfig, "a setting", list_valid=False)
    return "invalid settings: " + lines.replace("\n", "; ")


def unknown_env_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One message per ``MEM0_MCP_*`` environment variable that names no setting, with the
    nearest setting's variable, e.g. ``MEM0_MCP_DEFAULT_USERID is not a setting (did you
    mean MEM0_MCP_DEFAULT_USER_ID?)``. A misspelt variable is otherwise silently ignored."""
    env = os.environ if environ is None else environ
    known = [f"MEM0_MCP_{name.upper()}" for name in MemoryConfig.model_fields]
    out = []
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith("MEM0_MCP_") or upper in known:
            continue
        hint = difflib.get_close_matches(upper, known, n=1, cutoff=0.6)
        out.append(
            f"{name} is not a setting"
            + (f" (did you mean {hint[0]}?)" if hint else "")
            + "; it is ignored. Settings are listed in README.md"
        )
    return out
