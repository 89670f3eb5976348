"""The one LLM interface of the engine, and helpers shared by its providers.

``LLM.generate(system=..., prompt=..., schema=Model, tool_name=..., tool_description=...)``
asks a model for one JSON object and returns it validated as ``Model`` (a pydantic
``BaseModel`` subclass). A provider either returns a valid instance or raises
``LLMError(provider, cause)`` once its retries are spent; it never returns partial or
empty results.

Shared here: ``Provider``, the base class that owns ``generate`` (counters, the bounded
retry-with-feedback loop for malformed output, falling back from refused request shapes)
so that a provider writes only its request and its error mapping; ``extract_json`` (JSON
out of chatty model text), ``parse_output`` (text or object → validated model, raising
``OutputError``) and ``schema_prompt`` (the instruction used by modes where the schema is
not enforced by the server).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from ..config import MemoryConfig
from ..errors import LLMError

T = TypeVar("T", bound=BaseModel)

# Causes are shown to agents and people; a provider's raw error body can be huge.
MAX_CAUSE_CHARS = 400


@dataclass(frozen=True, slots=True)
class Image:
    """An image shown to the model with a request: its bytes, checked to be of
    ``media_type`` (``image/png``, ``image/jpeg``, ``image/gif`` or ``image/webp``), and
    OpenAI's optional ``detail`` (``auto`` / ``low`` / ``high``; other providers ignore it)."""

    media_type: str
    data: bytes
    detail: str | None = None

    @property
    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    @property
    def data_uri(self) -> str:
        return f"data:{self.media_type};base64,{self.base64}"


class LLM(Protocol):
    """An async structured-output model.

    Attributes:
        name: provider name used in errors and logs ("openai", "anthropic", "sampling").
        calls: number of ``generate`` calls made on this instance.
        requests: number of model requests issued (``calls`` plus retries after malformed
            output and structured-output fallbacks; SDK-level transport retries of one
            request are not counted).
    """

    name: str
    calls: int
    requests: int

    async def generate(
        self,
        *,
        system: str,
        prompt: str,
        schema: type[T],
        tool_name: str,
        tool_description: str,
        images: Sequence[Image] = (),
    ) -> T:
        """Ask the model for one object matching ``schema``; return it validated.

        ``tool_name`` (``^[A-Za-z0-9_-]{1,64}$``) and ``tool_description`` name the
        structured output where the provider has a notion of tools or named schemas.
        ``images`` go with ``prompt``, in the provider's own image format.

        Raises:
            LLMError: after retries, with a cause a user can act on (HTTP status and
                message, timeout, missing capability, "output did not match schema: ...").
        """
        ...


class OutputError(Exception):
    """The model answered, but its output could not be parsed or validated (retryable)."""


def truncate(text: str, limit: int = MAX_CAUSE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
# Reasoning models served locally (Qwen, DeepSeek-R1) often prefix their answer with a
# thinking block that may itself contain braces.
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
# Bounds the work on long, bracket-heavy prose (each start is one decode attempt).
MAX_JSON_STARTS = 64


def extract_json(text: str) -> Any:
    """Best-effort JSON value (object or array) out of a model's text reply.

    Thinking blocks (``<think>...</think>``) are dropped first. Then, for the contents of
    each Markdown code fence and finally for the whole reply: the first ``{`` or ``[`` from
    which a JSON object or array decodes, as written or with trailing commas removed
    (so leading prose, bracketed asides and trailing text are skipped).

    Raises:
        OutputError: no JSON object or array could be found.
    """
    cleaned = _THINK.sub("", text).strip()
    if not cleaned:
        raise OutputError("the model returned an empty reply")
    for candidate in [m.group(2) for m in _FENCE.finditer(cleaned)] + [cleaned]:
        value = _decode_first(candidate)
        if value is not None:
            return value
    raise OutputError(f"no JSON object found in the reply: {truncate(cleaned, 200)!r}")


def _decode_first(text: str) -> Any:
    """The first JSON object/array in ``text``, trying each opening bracket in order, each
    as written and with trailing commas removed."""
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"[{\[]", text)][:MAX_JSON_STARTS]
    for start in starts:
        tail = text[start:]
        for variant in (tail, _TRAILING_COMMA.sub(r"\1", tail)):
            try:
                value, _ = decoder.raw_decode(variant)
            except ValueError:
                continue
            if isinstance(value, dict | list):
                return value
    return None


def parse_output(
    raw: str | dict[str, Any] | list[Any], schema: type[T], *, cut_off: str | None = None
) -> T:
    """Validate a model's output (text to be searched for JSON, or a decoded value).

    Small, common deviations are forgiven: a bare array where the schema has a single
    field (``["a"]`` for ``{"facts": [...]}``), and the object wrapped in one extra key
    (``{"Facts": {...}}``). ``cut_off``: the limit a truncated reply hit (e.g.
    ``"max_tokens"``), for the error to say so.

    Raises:
        OutputError: "output did not match schema: <pydantic's first errors>", or no JSON
            found; plus "(the reply was cut off at <cut_off>)".
    """
    try:
        return _validate(raw, schema)
    except OutputError as exc:
        if cut_off is None:
            raise
        raise OutputError(f"{exc} (the reply was cut off at {cut_off})") from exc


def _validate(raw: str | dict[str, Any] | list[Any], schema: type[T]) -> T:
    data = extract_json(raw) if isinstance(raw, str) else raw
    try:
        return schema.model_validate(data)
    except ValidationError as first:
        for alternative in _alternatives(data, schema):
            try:
                return schema.model_validate(alternative)
            except ValidationError:
                continue
        raise OutputError(f"output did not match schema: {_summarise(first)}") from first


def _alternatives(data: Any, schema: type[BaseModel]) -> list[Any]:
    fields = list(schema.model_fields)
    out: list[Any] = []
    if isinstance(data, list) and len(fields) == 1:
        out.append({fields[0]: data})
    if isinstance(data, dict) and len(data) == 1:
        (inner,) = data.values()
        if isinstance(inner, dict):
            out.append(inner)
        elif isinstance(inner, list) and len(fields) == 1:
            out.append({fields[0]: inner})
    return out


def _summarise(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "<root>"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def schema_json(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema sent to the model (pydantic's, unmodified)."""
    return schema.model_json_schema()


def schema_prompt(schema: type[BaseModel]) -> str:
    """Instruction appended to the system prompt when the server does not enforce the schema."""
    return (
        "Reply with a single JSON object and nothing else (no prose, no code fences). "
        "It must match this JSON schema:\n" + json.dumps(schema_json(schema), separators=(",", ":"))
    )


def feedback_prompt(prompt: str, error: str | None) -> str:
    """The user prompt for a retry: the original plus why the previous reply was rejected."""
    if error is None:
        return prompt
    return (
        f"{prompt}\n\nYour previous reply was rejected ({error}). "
        "Reply again with only a JSON object that matches the schema exactly."
    )


@dataclass(frozen=True)
class Ask(Generic[T]):
    """One structured-output request as a provider sends it (``prompt`` includes any
    feedback about the previous reply). ``mode``: a structured-output mode for this request
    only, overriding the provider's (see ``SDKProvider``)."""

    system: str
    prompt: str
    schema: type[T]
    tool_name: str
    tool_description: str
    images: tuple[Image, ...] = ()
    mode: str | None = None


class Provider(ABC):
    """The shared half of every ``LLM``: ``generate``, with its counters (``calls``,
    ``requests``) and its bounded retry-with-feedback loop for malformed output. A
    provider (``name``) writes only its own wire:

    * ``_send(ask)``: build the request in its current shape and send it; the raw reply;
    * ``_parse(reply, ask)``: the reply validated as ``ask.schema``, else ``OutputError``;
    * ``_error(exc)``: its SDK's exception as an ``LLMError`` (``None``: raise it as is);
    * ``_fall_back(exc, ask)``: (optional) the request to send again when the server
      refused the request's *shape* (structured-output mode, temperature);
    * ``_unavailable()``: (optional) why no request can be made at all.

    ``config`` supplies ``llm_max_retries`` and ``llm_timeout``; ``backoff`` is the first
    wait in seconds between tries after malformed output (doubling, capped at 8).
    """

    name: str

    def __init__(self, config: MemoryConfig, *, backoff: float) -> None:
        self.max_retries = config.llm_max_retries
        self.timeout = config.llm_timeout
        self.backoff = backoff
        self.calls = 0
        self.requests = 0

    async def generate(
        self,
        *,
        system: str,
        prompt: str,
        schema: type[T],
        tool_name: str,
        tool_description: str,
        images: Sequence[Image] = (),
    ) -> T:
        """See ``LLM.generate``. Tries ``llm_max_retries + 1`` times while the output is
        malformed, telling the model why its previous reply was rejected; transport
        failures are not retried here (the SDKs already retried them).

        Raises:
            LLMError: ``(name, cause)``; for malformed output on every try, the last
                reason plus "(after N tries; model output was unusable)".
        """
        self.calls += 1
        reason = self._unavailable()
        if reason is not None:
            raise LLMError(self.name, reason)
        feedback: str | None = None
        tries = self.max_retries + 1
        for n in range(tries):
            if n and self.backoff > 0:
                await asyncio.sleep(min(self.backoff * 2 ** (n - 1), 8.0))
            ask = Ask(
                system,
                feedback_prompt(prompt, feedback),
                schema,
                tool_name,
                tool_description,
                tuple(images),
            )
            try:
                return await self._try(ask)
            except OutputError as exc:
                feedback = truncate(str(exc))
        plural = "y" if tries == 1 else "ies"
        raise LLMError(
            self.name, f"{feedback} (after {tries} tr{plural}; model output was unusable)"
        )

    async def _try(self, ask: Ask[T]) -> T:
        """One try: requests until the server accepts the request's shape (bounded: each
        fall-back steps to a lower shape), then the parsed reply."""
        while True:
            self.requests += 1
            try:
                reply = await self._send(ask)
            except Exception as exc:  # noqa: BLE001 - mapped by the provider, or re-raised
                again = await self._fall_back(exc, ask)
                if again is not None:
                    ask = again
                    continue
                error = self._error(exc)
                if error is None:
                    raise
                raise error from exc
            return self._parse(reply, ask)

    @abstractmethod
    async def _send(self, ask: Ask[Any]) -> Any:
        """Send ``ask`` in the provider's current request shape; the raw reply."""

    @abstractmethod
    def _parse(self, reply: Any, ask: Ask[T]) -> T:
        """The reply validated as ``ask.schema``. Raises ``OutputError`` (retried)."""

    def _error(self, exc: Exception) -> LLMError | None:
        """``exc`` from ``_send`` as an ``LLMError`` with an actionable cause; ``None``
        re-raises it unchanged."""
        return None

    async def _fall_back(self, exc: Exception, ask: Ask[T]) -> Ask[T] | None:
        """The request to send again when ``exc`` says the server refused ``ask``'s shape
        (the provider changed it, or the returned ``Ask`` does); ``None``: no fall-back.
        Must step down a finite ladder."""
        return None

    def _unavailable(self) -> str | None:
        """Why this provider cannot make any request now (an ``LLMError`` cause), or ``None``."""
        return None
