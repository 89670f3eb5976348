"""Anthropic Messages provider (the Claude API, and Anthropic-compatible servers).

Structured output comes from one tool whose ``input_schema`` is the pydantic schema, with
``tool_choice={"type": "tool", "name": tool_name}`` forcing the model to call it; the
tool's ``input`` is validated. ``llm_structured_output="text"`` (or, in ``auto``, a server
refusing tools with HTTP 400/415/422/500/501) switches to the schema in the prompt and
JSON parsed from the text reply, kept for later calls and, built by ``create_llm``, for later
processes (``capabilities.py``); ``json_schema``/``json_object``/``tool`` all mean the
forced tool here.

Sources: credentials as the SDK resolves them (``ANTHROPIC_API_KEY``,
``ANTHROPIC_AUTH_TOKEN``, profiles); the base URL from ``MEM0_MCP_LLM_BASE_URL``, else
``ANTHROPIC_BASE_URL``, else the SDK default. The SDK retries 429/5xx/connection errors
and timeouts (``llm_max_retries``); malformed output is retried here. ``llm_temperature``
is not sent: current Claude models and this SDK's ``messages.create`` no longer take it.
"""

from __future__ import annotations

from typing import Any

import anthropic
from anthropic import AsyncAnthropic

from ..config import MemoryConfig
from ..errors import ConfigError
from .base import Ask, T, parse_output, schema_json, schema_prompt
from .sdk import LOCAL_PLACEHOLDER_KEY, SDKProvider

DEFAULT_MODEL = "claude-haiku-4-5"
DEFAULT_MAX_TOKENS = 4096


class AnthropicLLM(SDKProvider):
    """``LLM`` over the official ``anthropic`` SDK. See the module docstring, and
    ``SDKProvider`` for the constructor (``capabilities``: where an endpoint's refusal of
    tools is remembered across processes; ``create_llm`` passes the data dir's).

    Raises ``ConfigError`` at construction when no credential is available for
    api.anthropic.com.
    """

    name = "anthropic"
    default_model = DEFAULT_MODEL
    modes = ("tool", "text")
    sends_temperature = False
    max_tokens = DEFAULT_MAX_TOKENS
    sdk = anthropic
    # The SDK raises TypeError at request time when no credential resolves.
    sdk_errors = (anthropic.AnthropicError, TypeError)
    timeout_advice = ""
    connect_advice = "MEM0_MCP_LLM_BASE_URL / ANTHROPIC_BASE_URL"

    def _make_client(self, config: MemoryConfig) -> AsyncAnthropic:
        kwargs: dict[str, Any] = {
            "timeout": config.llm_timeout,
            "max_retries": config.llm_max_retries,
        }
        if config.llm_base_url:
            kwargs["base_url"] = config.llm_base_url
        client = AsyncAnthropic(**kwargs)
        if client.api_key or client.auth_token or client.credentials is not None:
            return client
        if "api.anthropic.com" in str(client.base_url):
            raise ConfigError(
                "MEM0_MCP_LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)"
            )
        return AsyncAnthropic(api_key=LOCAL_PLACEHOLDER_KEY, **kwargs)

    async def _send(self, ask: Ask[Any]) -> Any:
        return await self.client.messages.create(**self._request(ask))

    def _parse(self, message: Any, ask: Ask[T]) -> T:
        blocks = list(getattr(message, "content", None) or [])
        uses = [b for b in blocks if getattr(b, "type", None) == "tool_use"]
        if uses:
            use = next((b for b in uses if b.name == ask.tool_name), uses[0])
            raw: Any = use.input
        else:
            raw = "".join(
                getattr(b, "text", "") for b in blocks if getattr(b, "type", None) == "text"
            )
        cut_off = "max_tokens" if getattr(message, "stop_reason", None) == "max_tokens" else None
        raw = raw if isinstance(raw, dict | str) else str(raw)
        return parse_output(raw, ask.schema, cut_off=cut_off)

    def _status_hint(self, status: int) -> str | None:
        return {
            401: "check ANTHROPIC_API_KEY",
            403: "check ANTHROPIC_API_KEY and the key's permissions",
            404: f"check MEM0_MCP_LLM_MODEL ({self.model!r}) and MEM0_MCP_LLM_BASE_URL",
            429: f"rate limited after {self.max_retries + 1} attempt(s)",
            529: f"the API is overloaded (after {self.max_retries + 1} attempt(s))",
        }.get(status)

    def _request(self, ask: Ask[Any]) -> dict[str, Any]:
        mode = ask.mode or self.mode
        system = ask.system if mode == "tool" else f"{ask.system}\n\n{schema_prompt(ask.schema)}"
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system,
            "messages": [{"role": "user", "content": _user_content(ask)}],
        }
        if mode == "tool":
            body["tools"] = [
                {
                    "name": ask.tool_name,
                    "description": ask.tool_description,
                    "input_schema": schema_json(ask.schema),
                }
            ]
            body["tool_choice"] = {"type": "tool", "name": ask.tool_name}
        return body


def _user_content(ask: Ask[Any]) -> str | list[dict[str, Any]]:
    """The prompt, after its images as ``image`` blocks with a base64 source (Anthropic
    advises images before the text about them)."""
    if not ask.images:
        return ask.prompt
    blocks: list[dict[str, Any]] = [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": i.media_type, "data": i.base64},
        }
        for i in ask.images
    ]
    return [*blocks, {"type": "text", "text": ask.prompt}]
