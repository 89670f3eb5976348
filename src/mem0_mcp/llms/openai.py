"""OpenAI Chat Completions provider (OpenAI, and OpenAI-compatible servers: Ollama, vLLM,
llama.cpp, LM Studio, LiteLLM ...).

Structured output modes, best first: ``json_schema`` (``response_format`` with a strict
schema), ``tool`` (one function tool, ``tool_choice`` forced), ``json_object``
(``response_format={"type": "json_object"}`` plus the schema in the prompt), ``text``
(schema in the prompt, JSON dug out of the reply). With ``llm_structured_output="auto"``
the provider starts at ``json_schema`` and, when the server refuses a mode (HTTP 400,
415, 422, 500 or 501 — llama.cpp answers 500 to some schemas, some servers reject tools),
steps down and keeps the lower mode for every later call (``mode`` attribute).

Sources: the API key from ``OPENAI_API_KEY`` (a placeholder when a non-OpenAI base URL is
configured without one, since local servers ignore it), the base URL from
``MEM0_MCP_LLM_BASE_URL``, else ``OPENAI_BASE_URL``, else the SDK default. Transport
failures (429, 5xx, connection errors, timeouts) are retried by the SDK
(``llm_max_retries``); malformed output is retried here with feedback to the model.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Literal, cast

import openai
from openai import AsyncOpenAI
from pydantic import BaseModel

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

DEFAULT_MODEL = "gpt-4.1-mini"
Mode = Literal["json_schema", "tool", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "tool", "json_object", "text")
# Statuses with which servers say "I do not support this request shape". 404 (unknown
# model or URL), 401/403 (key) and 429/502-504 (load) are not about the mode.
REFUSAL_STATUSES = frozenset({400, 415, 422, 500, 501})
LOCAL_PLACEHOLDER_KEY = "not-needed"


class OpenAILLM:
    """``LLM`` over the official ``openai`` SDK. See the module docstring for modes and sources.

    Raises ``ConfigError`` at construction when no API key is available for api.openai.com.
    """

    name = "openai"

    def __init__(
        self,
        config: MemoryConfig,
        *,
        client: AsyncOpenAI | None = None,
        backoff: float = 0.5,
    ) -> None:
        self.model = config.llm_model or DEFAULT_MODEL
        self.max_retries = config.llm_max_retries
        self.timeout = config.llm_timeout
        self.temperature: float | None = config.llm_temperature
        self.backoff = backoff
        self.auto = config.llm_structured_output == "auto"
        self.mode: Mode = "json_schema" if self.auto else cast(Mode, config.llm_structured_output)
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
        """See ``LLM.generate``. Raises ``LLMError("openai", cause)``."""
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
                response = await self.client.chat.completions.create(
                    **self._request(mode, system, prompt, schema, tool_name, description)
                )
            except openai.APIStatusError as exc:
                if (
                    exc.status_code == 400
                    and self.temperature is not None
                    and _about(exc, "temperature")
                ):
                    # Reasoning models (o-series, gpt-5) accept only their default temperature.
                    log.warning("%s rejects temperature; sending none from now on", self.model)
                    self.temperature = None
                    continue
                if self.auto and exc.status_code in REFUSAL_STATUSES and mode != "text":
                    self.mode = MODES[MODES.index(mode) + 1]
                    log.warning(
                        "%s refused structured output mode %r (HTTP %s); using %r from now on",
                        self.base_url,
                        mode,
                        exc.status_code,
                        self.mode,
                    )
                    continue
                raise LLMError(self.name, self._status_cause(exc, mode)) from exc
            except openai.APITimeoutError as exc:
                raise LLMError(
                    self.name,
                    f"no reply from {self.base_url} within {self.timeout:g} s "
                    f"({self.max_retries + 1} attempt(s)); raise MEM0_MCP_LLM_TIMEOUT for slow "
                    "local models",
                ) from exc
            except openai.APIConnectionError as exc:
                raise LLMError(
                    self.name,
                    f"cannot connect to {self.base_url}: {truncate(str(exc.__cause__ or exc))}; "
                    "check MEM0_MCP_LLM_BASE_URL and that the server is running",
                ) from exc
            except openai.OpenAIError as exc:
                raise LLMError(self.name, truncate(f"{type(exc).__name__}: {exc}")) from exc
            return _parse(response, schema, tool_name)

    def _request(
        self,
        mode: Mode,
        system: str,
        prompt: str,
        schema: type[BaseModel],
        tool_name: str,
        description: str,
    ) -> dict[str, Any]:
        if mode in ("json_object", "text"):
            system = f"{system}\n\n{schema_prompt(schema)}"
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": tool_name,
                    "description": description,
                    "schema": _strict_schema(schema),
                    "strict": True,
                },
            }
        elif mode == "tool":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool_name,
                        "description": description,
                        "parameters": schema_json(schema),
                    },
                }
            ]
            body["tool_choice"] = {"type": "function", "function": {"name": tool_name}}
        elif mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    def _status_cause(self, exc: openai.APIStatusError, mode: Mode) -> str:
        status = exc.status_code
        hint = {
            401: "check OPENAI_API_KEY",
            403: "check OPENAI_API_KEY and the key's permissions for this model",
            404: f"check MEM0_MCP_LLM_MODEL ({self.model!r}) and MEM0_MCP_LLM_BASE_URL",
            429: f"rate limited or out of quota after {self.max_retries + 1} attempt(s)",
        }.get(status)
        if hint is None and status >= 500:
            hint = f"server error after {self.max_retries + 1} attempt(s)"
        if hint is None and status in REFUSAL_STATUSES:
            hint = f"the server rejected the request (structured output mode {mode!r})"
        return f"HTTP {status} from {self.base_url}: {truncate(_message(exc))}" + (
            f" ({hint})" if hint else ""
        )


def _make_client(config: MemoryConfig) -> AsyncOpenAI:
    base_url = config.llm_base_url or os.environ.get("OPENAI_BASE_URL") or None
    api_key = os.environ.get("OPENAI_API_KEY")
    if not api_key:
        if base_url is None or "api.openai.com" in base_url:
            raise ConfigError(
                "MEM0_MCP_LLM_PROVIDER=openai needs OPENAI_API_KEY, or MEM0_MCP_LLM_BASE_URL "
                "pointing at an OpenAI-compatible server (Ollama, vLLM, llama.cpp)"
            )
        # Local servers ignore the key, but the SDK refuses to start without one.
        api_key = LOCAL_PLACEHOLDER_KEY
    return AsyncOpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=config.llm_timeout,
        max_retries=config.llm_max_retries,
    )


def _strict_schema(schema: type[BaseModel]) -> dict[str, Any]:
    # OpenAI's strict mode wants every property required and no extra properties; the
    # SDK's own converter does exactly that (a private module, hence the fallback).
    try:
        from openai.lib._pydantic import to_strict_json_schema

        return to_strict_json_schema(schema)
    except Exception:  # noqa: BLE001 - any failure: send the plain schema
        return schema_json(schema)


def _parse(response: Any, schema: type[T], tool_name: str) -> T:
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise OutputError("the server returned no choices")
    choice = choices[0]
    message = choice.message
    refusal = getattr(message, "refusal", None)
    if refusal:
        raise OutputError(f"the model refused: {truncate(refusal, 200)}")
    calls = [c for c in (message.tool_calls or []) if getattr(c, "function", None)]
    if calls:
        call = next((c for c in calls if c.function.name == tool_name), calls[0])
        raw = call.function.arguments or ""
    else:
        # A server may ignore the requested mode and answer in text; parse it anyway.
        raw = message.content or ""
    try:
        return parse_output(raw, schema)
    except OutputError as exc:
        if choice.finish_reason == "length":
            raise OutputError(f"{exc} (the reply was cut off at the token limit)") from exc
        raise


def _about(exc: openai.APIStatusError, word: str) -> bool:
    return word in _message(exc).lower()


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return exc.message
