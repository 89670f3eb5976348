"""LLM providers for fact extraction and reconciliation.

Where the model comes from depends on ``llm_provider``, and two functions say it:

* ``create_llm(config)``: the process's own provider: ``OpenAILLM`` for ``"openai"``
  (OpenAI or any OpenAI-compatible URL), ``AnthropicLLM`` for ``"anthropic"``; ``None``
  when the process has no model of its own;
* ``needs_client_sampling(config)``: whether the model is instead the MCP client's, asked
  per tool call (``"sampling"``): the server builds a ``SamplingLLM(ctx, config)`` for each
  call (see ``run_with_sampling``) and hands it to the engine for that call. With
  ``"none"`` there is no model at all and adds are stored verbatim.

Provider modules import their SDK lazily here, so ``provider="none"`` never imports one.
"""

from __future__ import annotations

from ..config import MemoryConfig
from ..errors import InvalidInputError
from .base import LLM, Image, OutputError, Provider, extract_json, parse_output
from .capabilities import Capabilities

__all__ = [
    "LLM",
    "Image",
    "OutputError",
    "Provider",
    "create_llm",
    "extract_json",
    "needs_client_sampling",
    "parse_output",
    "require_llm",
]


def create_llm(config: MemoryConfig) -> LLM | None:
    """The process's own provider, remembering what its endpoint supports in
    ``<data_dir>/llm-capabilities.json``; ``None`` when the process has none (``"none"``,
    and ``"sampling"``, whose model comes with each tool call: ``needs_client_sampling``).

    Raises:
        ConfigError: the provider cannot work as configured (e.g. no API key for the
            hosted API).
    """
    provider = config.llm_provider
    if provider == "openai":
        from .openai import OpenAILLM

        return OpenAILLM(config, capabilities=Capabilities.in_dir(config.data_dir))
    if provider == "anthropic":
        from .anthropic import AnthropicLLM

        return AnthropicLLM(config, capabilities=Capabilities.in_dir(config.data_dir))
    return None


def needs_client_sampling(config: MemoryConfig) -> bool:
    """Whether inference uses the MCP client's model, asked per tool call (``"sampling"``)."""
    return config.llm_provider == "sampling"


def require_llm(llm: LLM | None, config: MemoryConfig, field: str, instead: str) -> LLM:
    """``llm``, or ``InvalidInputError(field, ...)`` saying where a model comes from with
    these settings; ``instead`` ends it with what to do without one ("pass infer=false")."""
    if llm is not None:
        return llm
    if needs_client_sampling(config):
        raise InvalidInputError(
            field,
            "needs the MCP client's model (MEM0_MCP_LLM_PROVIDER=sampling), which comes with an "
            f"MCP tool call: call add_memory through the server, or pass llm=, or {instead}",
        )
    raise InvalidInputError(
        field,
        f"needs an LLM, and the provider is {config.llm_provider!r}; set "
        f"MEM0_MCP_LLM_PROVIDER (openai, anthropic, sampling) or {instead}",
    )
