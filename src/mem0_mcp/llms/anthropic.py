"""Anthropic Messages provider (the Claude API, and Anthropic-compatible servers).

Structured output comes from one tool whose ``input_schema`` is the pydantic schema, with
``tool_choice={"type": "tool", "name": tool_name}`` forcing the model to call it; the
tool's ``input`` is validated. ``llm_structured_output="text"`` (or, in ``auto``, a server
refusing tools with HTTP 400/415/422/500/501) switches to the schema in the prompt and
JSON parsed from the text reply; ``json_schema``/``json_object``/``tool`` all mean the
forced tool here.

Sources: credentials as the SDK resolves them (``ANTHROPIC_API_KEY``,
``ANTHROPIC_AUTH_TOKEN``, profiles); the base URL from ``MEM0_MCP_LLM_BASE_URL``, else
``ANTHROPIC_BASE_URL``, else the SDK default. The SDK retries 429/5xx/connection errors
and timeouts (``llm_max_retries``); malformed output is retried here. ``llm_temperature``
is not sent: current Claude models and this SDK's ``messages.create`` no longer take it.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import anthropic
from anthropic import AsyncAnthropic

from ..config import MemoryConfig
from ..errors import ConfigError, LLMError
from .base import (
    OutputError,
    T,
    feedback_prompt,
    parse_output,
    retry_output,
    schema_json,
    schema_prompt,
    truncate,
)

log = logging.getLogger(__name__)

DEFAULT_MODEL = "claude-haiku-4-5"
DEFAULT_MAX_TOKENS = 4096
REFUSAL_STATUSES = frozenset({400, 415, 422, 500, 501})
LOCAL_PLACEHOLDER_KEY = "not-needed"
Mode = Literal["tool", "text"]


class AnthropicLLM:
    """``LLM`` over the official ``anthropic`` SDK. See the module docstring.

    Raises ``ConfigError`` at construction when no credential is available for
    api.anthropic.com.
    """

    name = "anthropic"

    def __init__(
        self,
        config: MemoryConfig,
        *,
        client: AsyncAnthropic | None = None,
        backoff: float = 0.5,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        self.model = config.llm_model or DEFAULT_MODEL
        self.max_retries = config.llm_max_retries
        self.timeout = config.llm_timeout
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.auto = config.llm_structured_output == "auto"
        self.mode: Mode = "text" if config.llm_structured_output == "text" else "tool"
        self.calls = 0
        self.requests = 0
        self.client = client or _make_client(config)
        self.base_url = str(self.client.base_url)

    async def generate(
        self,
        *,
        system: str,
        prompt: str,
        schema: type[T],
        tool_name: str,
        tool_description: str,
    ) -> T:
        """See ``LLM.generate``. Raises ``LLMError("anthropic", cause)``."""
        self.calls += 1

        async def attempt(feedback: str | None) -> T:
            return await self._once(
                system, feedback_prompt(prompt, feedback), schema, tool_name, tool_description
            )

        return await retry_output(self.name, self.max_retries, self.backoff, attempt)

    async def _once(
        self, system: str, prompt: str, schema: type[T], tool_name: str, description: str
    ) -> T:
        while True:
            mode = self.mode
            self.requests += 1
            try:
                message = await self.client.messages.create(
                    **self._request(mode, system, prompt, schema, tool_name, description)
                )
            except anthropic.APIStatusError as exc:
                if self.auto and mode == "tool" and exc.status_code in REFUSAL_STATUSES:
                    self.mode = "text"
                    log.warning(
                        "%s refused the forced tool (HTTP %s); using plain JSON text from now on",
                        self.base_url,
                        exc.status_code,
                    )
                    continue
                raise LLMError(self.name, self._status_cause(exc)) from exc
            except anthropic.APITimeoutError as exc:
                raise LLMError(
                    self.name,
                    f"no reply from {self.base_url} within {self.timeout:g} s "
                    f"({self.max_retries + 1} attempt(s)); raise MEM0_MCP_LLM_TIMEOUT",
                ) from exc
            except anthropic.APIConnectionError as exc:
                raise LLMError(
                    self.name,
                    f"cannot connect to {self.base_url}: {truncate(str(exc.__cause__ or exc))}; "
                    "check MEM0_MCP_LLM_BASE_URL / ANTHROPIC_BASE_URL",
                ) from exc
            except (anthropic.AnthropicError, TypeError) as exc:
                # The SDK raises TypeError at request time when no credential resolves.
                raise LLMError(self.name, truncate(f"{type(exc).__name__}: {exc}")) from exc
            return _parse(message, schema, tool_name)

    def _request(
        self, mode: Mode, system: str, prompt: str, schema: Any, tool_name: str, description: str
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system if mode == "tool" else f"{system}\n\n{schema_prompt(schema)}",
            "messages": [{"role": "user", "content": prompt}],
        }
        if mode == "tool":
            body["tools"] = [
                {"name": tool_name, "description": description, "input_schema": schema_json(schema)}
            ]
            body["tool_choice"] = {"type": "tool", "name": tool_name}
        return body

    def _status_cause(self, exc: anthropic.APIStatusError) -> str:
        status = exc.status_code
        hint = {
            401: "check ANTHROPIC_API_KEY",
            403: "check ANTHROPIC_API_KEY and the key's permissions",
            404: f"check MEM0_MCP_LLM_MODEL ({self.model!r}) and MEM0_MCP_LLM_BASE_URL",
            429: f"rate limited after {self.max_retries + 1} attempt(s)",
            529: f"the API is overloaded (after {self.max_retries + 1} attempt(s))",
        }.get(status)
        if hint is None and status >= 500:
            hint = f"server error after {self.max_retries + 1} attempt(s)"
        return f"HTTP {status} from {self.base_url}: {truncate(_message(exc))}" + (
            f" ({hint})" if hint else ""
        )


def _make_client(config: MemoryConfig) -> AsyncAnthropic:
    kwargs: dict[str, Any] = {"timeout": config.llm_timeout, "max_retries": config.llm_max_retries}
    if config.llm_base_url:
        kwargs["base_url"] = config.llm_base_url
    client = AsyncAnthropic(**kwargs)
    if client.api_key or client.auth_token or client.credentials is not None:
        return client
    if "api.anthropic.com" in str(client.base_url):
        raise ConfigError(
            "MEM0_MCP_LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)"
        )
    # Anthropic-compatible local servers ignore the key, but the SDK insists on one.
    return AsyncAnthropic(api_key=LOCAL_PLACEHOLDER_KEY, **kwargs)


def _parse(message: Any, schema: type[T], tool_name: str) -> T:
    blocks = list(getattr(message, "content", None) or [])
    uses = [b for b in blocks if getattr(b, "type", None) == "tool_use"]
    if uses:
        use = next((b for b in uses if b.name == tool_name), uses[0])
        raw: Any = use.input
    else:
        raw = "".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", None) == "text")
    try:
        return parse_output(raw if isinstance(raw, dict | str) else str(raw), schema)
    except OutputError as exc:
        if getattr(message, "stop_reason", None) == "max_tokens":
            raise OutputError(f"{exc} (the reply was cut off at max_tokens)") from exc
        raise


def _message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return exc.message
