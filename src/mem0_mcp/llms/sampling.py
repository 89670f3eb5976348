"""MCP sampling as an LLM provider: the connected client's own model does the work.

``SamplingLLM(ctx)`` is built per tool call from that call's ``Context`` (or its
``ServerSession``). It sends ``sampling/createMessage`` with a system prompt (the caller's
plus a JSON-only instruction with the schema) and the user prompt (after one ``image``
message per image, with its ``mimeType``), digs JSON out of the text reply and validates
it; malformed replies are retried with feedback, up to ``llm_max_retries`` times.

Two transports, chosen by the negotiated protocol:

* handshake-era protocols (<= 2025-11-25, what today's clients speak): the request goes
  to the client mid-call over the back-channel and ``generate`` simply awaits the answer;
* 2026-07-28 and later (no mid-call requests): the tool must *return* an
  ``InputRequiredResult`` and is called again with the answers. ``generate`` looks the
  answer up in ``ctx.input_responses`` / ``ctx.request_state``; when it is missing it
  raises ``SamplingInputRequired``. Wrap the tool body in ``run_with_sampling`` so that
  becomes the tool's result; the client answers and re-calls the tool, whose body then
  runs again from the start (replay), getting the recorded answers back for the requests
  it already made. So the body must not write anything before its last ``generate``
  (the add pipeline extracts and decides before applying, which fits).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import mcp_types as types
from mcp.server.mcpserver import Context
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import REQUEST_TIMEOUT
from mcp_types.version import is_version_at_least
from pydantic import ValidationError

from ..config import MemoryConfig
from ..errors import LLMError
from .base import Ask, OutputError, Provider, T, parse_output, schema_prompt

DEFAULT_MAX_TOKENS = 4096
# Keys of our answers inside `request_state`, and prefix of our `input_requests` keys.
STATE_KEY = "mem0_mcp_sampling"
REQUEST_PREFIX = "mem0-sample-"
INPUT_REQUIRED_VERSION = "2026-07-28"
NO_SAMPLING = (
    "the connected MCP client does not support sampling (it declared no 'sampling' "
    "capability); set MEM0_MCP_LLM_PROVIDER to openai, anthropic or none, or use a client "
    "that supports sampling"
)

R = TypeVar("R")


class SamplingInputRequired(Exception):  # noqa: N818 - a signal, not an error
    """The client's answer is needed first (2026-07-28+). ``result`` is what the tool returns.

    Must propagate out of the pipeline unchanged; ``run_with_sampling`` turns it into the
    tool's result (and also copes with pipelines that wrap it).
    """

    def __init__(self, result: types.InputRequiredResult) -> None:
        super().__init__("waiting for the MCP client's sampling answer")
        self.result = result


class SamplingLLM(Provider):
    """``LLM`` backed by the MCP client's model via ``sampling/createMessage``.

    ``source`` is the tool's ``Context`` (preferred: it carries the request id and the
    2026-07-28 answers) or a bare ``ServerSession`` (handshake-era protocols only).
    ``config`` supplies ``llm_max_retries``, ``llm_timeout`` and ``llm_temperature``.

    Raises ``LLMError("sampling", ...)`` when the client lacks the capability, refuses or
    fails the request, times out, or keeps answering with unusable output; and
    ``SamplingInputRequired`` (2026-07-28+ only) while the client's answer is not in yet.
    ``tool_name``/``tool_description`` are not sent: the client's model gets the schema
    in the system prompt.
    """

    name = "sampling"

    def __init__(
        self,
        source: Context[Any, Any] | ServerSession,
        config: MemoryConfig | None = None,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        backoff: float = 0.0,
    ) -> None:
        config = config or MemoryConfig.model_construct()
        super().__init__(config, backoff=backoff)
        self.ctx = source if isinstance(source, Context) else None
        self.session: ServerSession = source.session if isinstance(source, Context) else source
        self.temperature = config.llm_temperature
        # MEM0_MCP_LLM_MODEL, if set, becomes a model hint the client may honour.
        self.preferences = (
            types.ModelPreferences(hints=[types.ModelHint(name=config.llm_model)])
            if config.llm_model
            else None
        )
        self.max_tokens = max_tokens
        self.answers: dict[str, dict[str, Any]] = _recorded_answers(self.ctx)
        self.pending: types.InputRequiredResult | None = None
        self._asked: dict[str, types.InputRequest] = {}

    @property
    def supported(self) -> bool:
        """Whether the client declared the ``sampling`` capability."""
        capabilities = self.session.client_capabilities
        return capabilities is not None and capabilities.sampling is not None

    def _unavailable(self) -> str | None:
        return None if self.supported else NO_SAMPLING

    async def _send(self, ask: Ask[Any]) -> types.CreateMessageResult:
        text = types.TextContent(type="text", text=ask.prompt)
        # Each image its own message, before the text: a single content block per message is
        # what every protocol version (and so every client) accepts.
        images = [
            types.SamplingMessage(
                role="user",
                content=types.ImageContent(type="image", data=i.base64, mime_type=i.media_type),
            )
            for i in ask.images
        ]
        request = types.CreateMessageRequest(
            params=types.CreateMessageRequestParams(
                messages=[*images, types.SamplingMessage(role="user", content=text)],
                system_prompt=f"{ask.system}\n\n{schema_prompt(ask.schema)}",
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                include_context="none",
                model_preferences=self.preferences,
            )
        )
        if self.session.can_send_request:
            return await self._ask_client(request)
        version = self.session.protocol_version
        if self.ctx is None or not is_version_at_least(version, INPUT_REQUIRED_VERSION):
            raise LLMError(
                self.name,
                f"this connection (protocol {version}) cannot carry a sampling request to the "
                "client (e.g. stateless HTTP); use a stateful transport or another "
                "MEM0_MCP_LLM_PROVIDER",
            )
        key = REQUEST_PREFIX + _digest(request)
        if key in self.answers:
            return _as_result(self.answers[key])
        self._asked[key] = request
        self.pending = types.InputRequiredResult(
            input_requests=dict(self._asked),
            request_state=json.dumps({STATE_KEY: self.answers}, separators=(",", ":")),
        )
        raise SamplingInputRequired(self.pending)

    def _parse(self, reply: types.CreateMessageResult, ask: Ask[T]) -> T:
        cut_off = "max_tokens" if reply.stop_reason == "maxTokens" else None
        return parse_output(_text(reply), ask.schema, cut_off=cut_off)

    async def _ask_client(self, request: types.CreateMessageRequest) -> types.CreateMessageResult:
        related = self.ctx.request_id if self.ctx is not None else None
        try:
            result = await self.session.send_request(
                request,
                types.CreateMessageResult,
                request_read_timeout_seconds=self.timeout,
                metadata=ServerMessageMetadata(related_request_id=related),
            )
        except MCPError as exc:
            if exc.code == REQUEST_TIMEOUT:
                raise LLMError(
                    self.name,
                    f"the MCP client did not answer the sampling request within "
                    f"{self.timeout:g} s (MEM0_MCP_LLM_TIMEOUT)",
                ) from exc
            raise LLMError(
                self.name,
                f"the MCP client refused or failed the sampling request: {exc.message} "
                f"(code {exc.code})",
            ) from exc
        except ValidationError as exc:
            raise LLMError(self.name, "the MCP client sent a malformed sampling result") from exc
        return result


async def run_with_sampling(
    ctx: Context[Any, Any],
    body: Callable[[SamplingLLM], Awaitable[R]],
    config: MemoryConfig | None = None,
) -> R | types.InputRequiredResult:
    """Run ``body(llm)`` with a ``SamplingLLM`` for this tool call.

    Returns ``body``'s result, or (2026-07-28+ connections) the ``InputRequiredResult``
    the tool must return so the client can answer and call again. Tools using it should
    be annotated ``-> ... | InputRequiredResult``.
    """
    llm = SamplingLLM(ctx, config)
    try:
        result = await body(llm)
    except Exception:
        # Covers the signal raised directly and wrapped by the body (ExceptionGroup from a
        # task group, or re-raised as another error type).
        if llm.pending is not None:
            return llm.pending
        raise
    # A body that swallowed the signal produced its result without the model's answer.
    return llm.pending if llm.pending is not None else result


def _recorded_answers(ctx: Context[Any, Any] | None) -> dict[str, dict[str, Any]]:
    """Answers from earlier rounds (``request_state``) plus this round's responses."""
    if ctx is None:
        return {}
    answers: dict[str, dict[str, Any]] = {}
    try:
        state = ctx.request_state
        responses = ctx.input_responses or {}
    except ValueError:  # a Context outside of a request
        return {}
    if state:
        try:
            recorded = json.loads(state).get(STATE_KEY, {})
        except (ValueError, AttributeError):
            recorded = {}
        if isinstance(recorded, dict):
            answers.update({k: v for k, v in recorded.items() if isinstance(v, dict)})
    for key, response in responses.items():
        if key.startswith(REQUEST_PREFIX) and isinstance(
            response, types.CreateMessageResult | types.CreateMessageResultWithTools
        ):
            answers[key] = response.model_dump(mode="json", by_alias=True, exclude_none=True)
    return answers


def _digest(request: types.CreateMessageRequest) -> str:
    # Same request, same key on every round: the replayed body finds its answer.
    wire = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    return hashlib.sha256(json.dumps(wire, sort_keys=True).encode()).hexdigest()[:32]


def _as_result(data: dict[str, Any]) -> types.CreateMessageResult:
    content = data.get("content")
    if isinstance(content, list):  # a tools-capable client's array form
        text = "".join(c.get("text", "") for c in content if isinstance(c, dict))
        data = {**data, "content": {"type": "text", "text": text}}
    try:
        return types.CreateMessageResult.model_validate(data)
    except ValidationError as exc:
        raise LLMError("sampling", "the MCP client sent a malformed sampling result") from exc


def _text(result: types.CreateMessageResult) -> str:
    content = result.content
    if isinstance(content, types.TextContent):
        return content.text
    raise OutputError(f"the client's model replied with {content.type} content, not text")
