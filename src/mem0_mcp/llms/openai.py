"""OpenAI Chat Completions provider (OpenAI, and OpenAI-compatible servers: Ollama, vLLM,
llama.cpp, LM Studio, LiteLLM ...).

Structured output modes, best first: ``json_schema`` (``response_format`` with a strict
schema), ``tool`` (one function tool, ``tool_choice`` forced), ``json_object``
(``response_format={"type": "json_object"}`` plus the schema in the prompt), ``text``
(schema in the prompt, JSON dug out of the reply). With ``llm_structured_output="auto"``
the provider starts at ``json_schema`` and, when the server refuses a mode (HTTP 400,
415, 422, 500 or 501 — llama.cpp answers 500 to some schemas, some servers reject tools),
steps down and keeps the lower mode for every later call (``mode`` attribute) and, built by
``create_llm``, for later processes on the same data dir (``capabilities.py``); the stepping
itself is ``SDKProvider``'s.

Sources: the API key from ``OPENAI_API_KEY`` (a placeholder when a non-OpenAI base URL is
configured without one, since local servers ignore it), the base URL from
``MEM0_MCP_LLM_BASE_URL``, else ``OPENAI_BASE_URL``, else the SDK default. Transport
failures (429, 5xx, connection errors, timeouts) are retried by the SDK
(``llm_max_retries``); malformed output is retried here with feedback to the model.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import openai
from openai import AsyncOpenAI
from pydantic import BaseModel

from ..config import MemoryConfig
from ..errors import ConfigError
from .base import Ask, OutputError, T, parse_output, schema_json, schema_prompt, truncate
from .sdk import LOCAL_PLACEHOLDER_KEY, REFUSAL_STATUSES, SDKProvider

DEFAULT_MODEL = "gpt-4.1-mini"
Mode = Literal["json_schema", "tool", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "tool", "json_object", "text")


class OpenAILLM(SDKProvider):
    """``LLM`` over the official ``openai`` SDK. See the module docstring for modes and
    sources, and ``SDKProvider`` for the constructor (``capabilities``: where what an
    endpoint accepts is remembered across processes; ``create_llm`` passes the data dir's).

    Raises ``ConfigError`` at construction when no API key is available for api.openai.com.
    """

    name = "openai"
    default_model = DEFAULT_MODEL
    modes = MODES
    sdk = openai
    sdk_errors = (openai.OpenAIError,)
    timeout_advice = " for slow local models"
    connect_advice = "MEM0_MCP_LLM_BASE_URL and that the server is running"

    def _make_client(self, config: MemoryConfig) -> AsyncOpenAI:
        base_url = config.llm_base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = os.environ.get("OPENAI_API_KEY")
        if not api_key:
            if base_url is None or "api.openai.com" in base_url:
                raise ConfigError(
                    "MEM0_MCP_LLM_PROVIDER=openai needs OPENAI_API_KEY, or MEM0_MCP_LLM_BASE_URL "
                    "pointing at an OpenAI-compatible server (Ollama, vLLM, llama.cpp)"
                )
            api_key = LOCAL_PLACEHOLDER_KEY
        return AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=config.llm_timeout,
            max_retries=config.llm_max_retries,
        )

    async def _send(self, ask: Ask[Any]) -> Any:
        return await self.client.chat.completions.create(**self._request(ask))

    def _parse(self, response: Any, ask: Ask[T]) -> T:
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
            call = next((c for c in calls if c.function.name == ask.tool_name), calls[0])
            raw = call.function.arguments or ""
        else:
            # A server may ignore the requested mode and answer in text; parse it anyway.
            raw = message.content or ""
        cut_off = "the token limit" if choice.finish_reason == "length" else None
        return parse_output(raw, ask.schema, cut_off=cut_off)

    def _status_hint(self, status: int) -> str | None:
        hint = {
            401: "check OPENAI_API_KEY",
            403: "check OPENAI_API_KEY and the key's permissions for this model",
            404: f"check MEM0_MCP_LLM_MODEL ({self.model!r}) and MEM0_MCP_LLM_BASE_URL",
            429: f"rate limited or out of quota after {self.max_retries + 1} attempt(s)",
        }.get(status)
        if hint is None and status < 500 and status in REFUSAL_STATUSES:
            hint = f"the server rejected the request (structured output mode {self.mode!r})"
        return hint

    def _request(self, ask: Ask[Any]) -> dict[str, Any]:
        mode, system = ask.mode or self.mode, ask.system
        if mode in ("json_object", "text"):
            system = f"{system}\n\n{schema_prompt(ask.schema)}"
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": _user_content(ask)},
            ],
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": ask.tool_name,
                    "description": ask.tool_description,
                    "schema": _strict_schema(ask.schema),
                    "strict": True,
                },
            }
        elif mode == "tool":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": ask.tool_name,
                        "description": ask.tool_description,
                        "parameters": schema_json(ask.schema),
                    },
                }
            ]
            body["tool_choice"] = {"type": "function", "function": {"name": ask.tool_name}}
        elif mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body


def _user_content(ask: Ask[Any]) -> str | list[dict[str, Any]]:
    """The prompt, with its images as ``image_url`` content parts (data URIs) when it has any."""
    if not ask.images:
        return ask.prompt
    parts: list[dict[str, Any]] = [{"type": "text", "text": ask.prompt}]
    for image in ask.images:
        url: dict[str, Any] = {"url": image.data_uri}
        if image.detail:
            url["detail"] = image.detail
        parts.append({"type": "image_url", "image_url": url})
    return parts


def _strict_schema(schema: type[BaseModel]) -> dict[str, Any]:
    # OpenAI's strict mode wants every property required and no extra properties; the
    # SDK's own converter does exactly that (a private module, hence the fallback).
    try:
        from openai.lib._pydantic import to_strict_json_schema

        return to_strict_json_schema(schema)
    except Exception:  # noqa: BLE001 - any failure: send the plain schema
        return schema_json(schema)
