"""Images in ``add``: content parts in, text out, before anything is decided or written.

A message's ``content`` is a string, or a list of OpenAI-style content parts (mem0's
format; one part object alone counts as a list of it)::

    [{"type": "text", "text": "My new bike"},
     {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO…", "detail": "low"}}]

Each image is described by the LLM (one call per image, sent in the provider's own image
format), and the message's text becomes its parts in order, each image replaced by its
description; then ``add`` goes on as for text (``infer`` included). Images are never
stored: the add's memories carry ``metadata.images``, one ``{"media_type", "sha256"}`` per
image it was given.

Sources: a ``data:`` URI (base64) is decoded here; an ``http(s)`` URL is fetched only with
``fetch_image_urls`` (``image_fetch.py``: public addresses only, size cap, timeout). Either
must hold a PNG, JPEG, GIF or WebP image (read by Pillow, whatever the URI or the server
claims) of at most ``image_max_bytes``; at most ``max_images`` per add.

Two steps, so that bad input fails before anything is fetched or an LLM is asked:
``prepare`` (synchronous) checks every message and part, ``Prepared.resolve`` loads and
describes the images. Every bad input is an ``InvalidInputError`` naming the part
(``messages[0].content[1].image_url.url``); a model that fails or refuses images is an
``LLMError`` naming the part.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
import PIL.Image
from pydantic import BaseModel, Field

from . import image_fetch, validation
from .config import MemoryConfig
from .errors import InvalidInputError, LLMError
from .llms import LLM, Image, require_llm
from .models import Message

# Pillow format name → media type: what every vision API takes.
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
KINDS = "PNG, JPEG, GIF or WebP"
DETAILS = (None, "auto", "low", "high")
METADATA_KEY = "images"
# Stands for an image in a message's text while the message is checked before describing.
_IMAGE_ONLY = "(image)"
IMAGE_URL = '{"url": "https://... or data:image/png;base64,...", "detail"?: "auto"|"low"|"high"}'
PART_SHAPE = (
    'must be {"type": "text", "text": "..."} or {"type": "image_url", "image_url": '
    + IMAGE_URL
    + "}"
)


DESCRIBE_TOOL = "describe_image"
DESCRIBE_SYSTEM = "\n".join(
    [
        "You describe an image for a long-term memory about the user. Say what it shows that "
        "is worth remembering: people, objects, places, activities, and any visible text "
        "(verbatim), names, numbers and dates.",
        "Be factual and specific; do not guess at what is not visible. One short paragraph, "
        "in the language of the text sent with the image (English if none).",
        'Answer with a JSON object: {"description": "..."}.',
    ]
)


class Description(BaseModel):
    description: str = Field(description="What the image shows, in one short paragraph.")


@dataclass(frozen=True, slots=True)
class Source:
    """An image part of a message, checked but not yet loaded."""

    field: str  # "messages[0].content[1]", for errors
    url: str  # a data: URI or an http(s) URL
    detail: str | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """An add's messages after ``prepare``. Without images, ``messages`` are final;
    with images, ``parts`` holds each message's parts (``None`` for a plain message) and
    ``messages`` only their checked text."""

    messages: list[Message]
    parts: list[list[str | Source] | None] | None = None

    @property
    def sources(self) -> list[Source]:
        return [p for parts in self.parts or [] for p in parts or [] if isinstance(p, Source)]

    async def resolve(
        self, llm: LLM | None, metadata: dict[str, Any], config: MemoryConfig
    ) -> tuple[list[Message], dict[str, Any]]:
        """The messages as text, each image replaced by ``llm``'s description, and
        ``metadata`` with ``images`` added. Without images, returned as they are.

        Raises:
            InvalidInputError: images but no ``llm``; ``metadata`` already has ``images``;
                an image that cannot be decoded, fetched or read, or is too large.
            LLMError: the model failed to describe an image (or takes no images).
        """
        if self.parts is None:
            return self.messages, metadata
        sources = self.sources
        model = require_llm(llm, config, sources[0].field, "send the image as text")
        if METADATA_KEY in metadata:
            raise InvalidInputError(
                f"metadata.{METADATA_KEY}",
                "is set by add for the images it is given; use another key",
            )
        # One at a time: an image that cannot be loaded fails the add before any LLM call.
        images = [await load(s, config) for s in sources]
        loaded = iter(images)
        described: list[Message | dict[str, Any]] = []
        for message, parts in zip(self.messages, self.parts, strict=True):
            if parts is None:
                described.append(message)
                continue
            texts = [
                p if isinstance(p, str) else await describe(model, next(loaded), p, message)
                for p in parts
            ]
            described.append({**message.model_dump(), "content": "\n".join(texts)})
        seen = [
            {"media_type": i.media_type, "sha256": hashlib.sha256(i.data).hexdigest()}
            for i in images
        ]
        meta = validation.metadata({**metadata, METADATA_KEY: seen}, config)
        return validation.messages(described, config), meta


def prepare(value: Any, config: MemoryConfig) -> Prepared:
    """Check ``add``'s ``messages`` (as ``validation.messages``, plus content parts) without
    loading any image. Raises ``InvalidInputError`` naming the message or part."""
    if not isinstance(value, list) or not any(_has_parts(m) for m in value):
        return Prepared(validation.messages(value, config))
    parts: list[list[str | Source] | None] = []
    checked: list[Any] = []
    for i, raw in enumerate(value):
        if not _has_parts(raw):
            parts.append(None)
            checked.append(raw)
            continue
        items = _parts(raw["content"], f"messages[{i}].content", config)
        parts.append(items)
        text = "\n".join(p for p in items if isinstance(p, str)) or _IMAGE_ONLY
        checked.append({**raw, "content": text})
    prepared = Prepared(validation.messages(checked, config), parts)
    count = len(prepared.sources)
    if not count:  # text parts only: their text is all there is
        return Prepared(prepared.messages)
    if count > config.max_images:
        raise InvalidInputError(
            "messages",
            f"holds {count} images; at most {config.max_images} per add (MEM0_MCP_MAX_IMAGES)",
        )
    return prepared


async def load(source: Source, config: MemoryConfig) -> Image:
    """The image ``source`` points to: decoded (off the event loop) or fetched, and read.
    Raises ``InvalidInputError`` naming ``source.field``."""
    field = f"{source.field}.image_url.url"
    if source.url.startswith("data:"):
        data = await asyncio.to_thread(_decode, source.url, field, config.image_max_bytes)
    else:
        data = await image_fetch.fetch(source.url, field, config)
    media_type = await asyncio.to_thread(_identify, data, field)
    return Image(media_type, data, source.detail)


async def describe(llm: LLM, image: Image, source: Source, message: Message) -> str:
    """``llm``'s description of ``image`` (one call), given the message's own text."""
    said = message.content if message.content != _IMAGE_ONLY else ""
    prompt = f"Text sent with the image: {said}" if said else "No text was sent with the image."
    try:
        result = await llm.generate(
            system=DESCRIBE_SYSTEM,
            prompt=prompt,
            schema=Description,
            tool_name=DESCRIBE_TOOL,
            tool_description="Record what the image shows.",
            images=[image],
        )
    except LLMError as exc:
        raise LLMError(
            exc.provider,
            f"describing the image at {source.field}: {exc.cause} (describing images needs a "
            "model that accepts them)",
        ) from exc
    text = " ".join(result.description.split())
    if not text:
        raise LLMError(llm.name, f"it described the image at {source.field} with empty text")
    return text


def _has_parts(message: Any) -> bool:
    return isinstance(message, dict) and isinstance(message.get("content"), list | dict)


def _parts(
    content: list[Any] | dict[str, Any], field: str, config: MemoryConfig
) -> list[str | Source]:
    items = [content] if isinstance(content, dict) else content
    if not items:
        raise InvalidInputError(field, "is an empty list; give text or content parts")
    out: list[str | Source] = []
    for j, part in enumerate(items):
        where = f"{field}[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and set(part) == {"type", "text"} and isinstance(part["text"], str):
            out.append(part["text"])
        elif kind == "image_url" and set(part) == {"type", "image_url"}:
            out.append(_source(part["image_url"], where, config))
        else:
            raise InvalidInputError(where, PART_SHAPE)
    return out


def _source(image: Any, where: str, config: MemoryConfig) -> Source:
    if (
        not isinstance(image, dict)
        or not isinstance(image.get("url"), str)
        or not set(image) <= {"url", "detail"}
    ):
        raise InvalidInputError(f"{where}.image_url", f"must be {IMAGE_URL}")
    if image.get("detail") not in DETAILS:
        raise InvalidInputError(f"{where}.image_url.detail", 'must be "auto", "low" or "high"')
    url = image["url"].strip()
    field = f"{where}.image_url.url"
    if url.startswith("data:"):
        _check_data_uri(url, field, config)
    elif url.startswith(("http://", "https://")):
        if not config.fetch_image_urls:
            raise InvalidInputError(
                field,
                "image URLs are not fetched (MEM0_MCP_FETCH_IMAGE_URLS is off); send the image "
                "as a data: URI (data:image/png;base64,...)",
            )
        try:
            httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise InvalidInputError(field, f"is not a valid URL ({exc})") from None
    else:
        raise InvalidInputError(
            field, "must be an http(s) URL or a data: URI (data:image/png;base64,...)"
        )
    return Source(where, url, image.get("detail"))


def _check_data_uri(url: str, field: str, config: MemoryConfig) -> None:
    header, comma, payload = url[len("data:") :].partition(",")
    params = [p.strip().lower() for p in header.split(";")]
    if not comma or "base64" not in params[1:]:
        raise InvalidInputError(
            field, "a data: URI must be base64, e.g. data:image/png;base64,iVBORw0KG..."
        )
    if params[0] not in FORMATS.values():
        raise InvalidInputError(
            field, f"{params[0] or 'no media type'!r} is not a supported image type; use {KINDS}"
        )
    if len(payload) * 3 // 4 > config.image_max_bytes + 3:  # before decoding it
        raise InvalidInputError(field, image_fetch.too_large(config.image_max_bytes))


def _decode(url: str, field: str, limit: int) -> bytes:
    payload = unquote("".join(url.partition(",")[2].split()))
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(
            field, "is not valid base64 (after 'base64,' only A-Z a-z 0-9 + / = may follow)"
        ) from None
    if len(data) > limit:
        raise InvalidInputError(field, image_fetch.too_large(limit))
    return data


def _identify(data: bytes, field: str) -> str:
    """The media type of the image in ``data``, read by Pillow (headers and, for PNG,
    checksums; no pixels are decoded), whatever the URI or the server claimed."""
    try:
        with PIL.Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            kind = str(image.format)
            image.verify()
    except (OSError, ValueError, SyntaxError, PIL.Image.DecompressionBombError):
        raise InvalidInputError(
            field, f"does not hold a {KINDS} image that can be read; send one of those"
        ) from None
    return FORMATS[kind]
