"""LLM providers for fact extraction and reconciliation.

``create_llm(config)`` builds the process-wide provider from ``llm_provider``:

* ``"none"`` → ``None`` (no inference; adds are stored verbatim);
* ``"openai"`` → ``OpenAILLM`` (OpenAI or any OpenAI-compatible URL);
* ``"anthropic"`` → ``AnthropicLLM``;
* ``"sampling"`` → ``None`` as well: sampling goes through the MCP client of the *current
  request*, so the server builds a ``SamplingLLM(ctx, config)`` per tool call (see
  ``run_with_sampling``) and hands it to the engine for that call.

Provider modules import their SDK lazily here, so ``provider="none"`` never imports one.
"""

from __future__ import annotations

from ..config import MemoryConfig
from .base import LLM, OutputError, extract_json, parse_output

__all__ = ["LLM", "OutputError", "create_llm", "extract_json", "parse_output"]


def create_llm(config: MemoryConfig) -> LLM | None:
    """The configured provider, or ``None`` for ``"none"`` and ``"sampling"`` (see above).

    Raises:
        ConfigError: the provider cannot work as configured (e.g. no API key for the
            hosted API).
    """
    provider = config.llm_provider
    if provider == "openai":
        from .openai import OpenAILLM

        return OpenAILLM(config)
    if provider == "anthropic":
        from .anthropic import AnthropicLLM

        return AnthropicLLM(config)
    return None
