"""Images in `add`: content parts with a `data:` URI (or, when enabled, a fetched URL) are
described by the LLM — through the real `openai` / `anthropic` SDKs talking to a scripted
server on 127.0.0.1, or the MCP client's own model over sampling — and the description is
remembered in the image's place. Bad images are errors naming the part, and nothing is
written. Fetching only ever talks to servers the test starts on loopback addresses."""

# ruff: noqa: F811 - pytest fixtures imported from test_infer are redefined as arguments
from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from image_server import ImageServer, image_bytes
from llm_stub import LLMStub, Reply
from mcp_harness import ToolFailed, call, connect, http_server, server_env
from test_infer import facts, llm_config, memory, stub  # noqa: F401 - fixtures

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.errors import InvalidInputError, LLMError
from mem0_mcp.image_fetch import allowed
from mem0_mcp.llms.capabilities import CAPABILITIES_FILE

PNG = image_bytes()


def data_uri(data: bytes = PNG, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def with_image(url: str, text: str | None = None, **image: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    parts.append({"type": "image_url", "image_url": {"url": url, **image}})
    return [{"role": "user", "content": parts}]


def described(text: str) -> Reply:
    return Reply(json={"description": text})


def image_in_request(body: dict[str, Any]) -> dict[str, Any]:
    """The image as the request carried it, in the SDK's own format."""
    (user,) = [m for m in body["messages"] if m["role"] == "user"]
    return next(p for p in user["content"] if p["type"] in ("image_url", "image"))


def sdk_image(provider: str, data: bytes, kind: str = "image/png", detail: str | None = None):
    if provider == "openai":
        url: dict[str, Any] = {"url": data_uri(data, kind)}
        if detail:
            url["detail"] = detail
        return {"type": "image_url", "image_url": url}
    source = {"type": "base64", "media_type": kind, "data": base64.b64encode(data).decode()}
    return {"type": "image", "source": source}


async def stored(memory: AsyncMemory) -> list[Any]:
    return (await memory.get_all(user_id="alice")).results


# --- the engine, with each SDK -----------------------------------------------------------


async def test_an_image_is_described_by_the_model_and_its_description_stored(
    memory: AsyncMemory, stub: LLMStub, llm_config: MemoryConfig
) -> None:
    stub.script(described("A red square on a white wall"))
    added = await memory.add(with_image(data_uri(), detail="low"), user_id="alice", infer=False)
    assert [(e.event, e.memory) for e in added.results] == [("ADD", "A red square on a white wall")]
    [request] = stub.requests
    provider = llm_config.llm_provider
    assert image_in_request(request.body) == sdk_image(provider, PNG, detail="low")
    [item] = await stored(memory)
    sha = hashlib.sha256(PNG).hexdigest()
    assert item.metadata == {"images": [{"media_type": "image/png", "sha256": sha}]}


async def test_text_and_image_parts_become_one_message_whose_facts_are_extracted(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    stub.script(described("A blue bicycle with a basket"), facts("Owns a blue bicycle"))
    added = await memory.add(with_image(data_uri(), text="My new bike!"), user_id="alice")
    assert [(e.event, e.memory) for e in added.results] == [("ADD", "Owns a blue bicycle")]
    describe, extract = stub.requests
    assert "My new bike!" in describe.prompt  # the model sees what was said with the image
    assert "user: My new bike!\nA blue bicycle with a basket" in extract.prompt


async def test_the_image_type_is_read_from_the_bytes_not_from_the_uri(
    memory: AsyncMemory, stub: LLMStub, llm_config: MemoryConfig
) -> None:
    jpeg = image_bytes("JPEG")
    stub.script(described("A red square"))
    await memory.add(with_image(data_uri(jpeg, "image/png")), user_id="alice", infer=False)
    sent = image_in_request(stub.requests[0].body)
    assert sent == sdk_image(llm_config.llm_provider, jpeg, "image/jpeg")
    [item] = await stored(memory)
    assert item.metadata["images"][0]["media_type"] == "image/jpeg"


async def test_several_images_are_described_one_call_each_in_order(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    gif, webp = image_bytes("GIF"), image_bytes("WEBP", color="blue")
    stub.script(described("A red square"), described("A blue square"))
    messages = [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": data_uri(gif)}}]},
        {"role": "user", "content": "and"},
        {"role": "user", "content": {"type": "image_url", "image_url": {"url": data_uri(webp)}}},
    ]
    added = await memory.add(messages, user_id="alice", infer=False)
    assert [e.memory for e in added.results] == ["A red square", "and", "A blue square"]
    assert len(stub.requests) == 2
    [item] = [i for i in await stored(memory) if i.memory == "and"]
    assert [i["media_type"] for i in item.metadata["images"]] == ["image/gif", "image/webp"]


async def test_text_parts_alone_are_text_and_need_no_model(config: MemoryConfig) -> None:
    parts = [{"type": "text", "text": "I live in Lisbon"}, {"type": "text", "text": "and Porto"}]
    async with AsyncMemory(config) as memory:
        added = await memory.add([{"role": "user", "content": parts}], user_id="alice")
        assert [e.memory for e in added.results] == ["I live in Lisbon\nand Porto"]
        assert (await stored(memory))[0].metadata == {}


BMP = image_bytes("BMP", size=(4, 4))


@pytest.mark.parametrize(
    ("content", "field", "says"),
    [
        (with_image("data:image/png;base64,@@@not base64@@@"), ".url", "not valid base64"),
        (with_image(data_uri(b"<svg/>", "image/svg+xml")), ".url", "not a supported image type"),
        (with_image(data_uri(b"hello, not an image")), ".url", "does not hold a PNG, JPEG"),
        (with_image(data_uri(BMP)), ".url", "does not hold a PNG, JPEG"),
        (with_image(data_uri(image_bytes(color="noise"))), ".url", "over the 300-byte limit"),
        (with_image("data:image/png,rawbytes"), ".url", "must be base64"),
        (with_image("https://example.com/cat.png"), ".url", "MEM0_MCP_FETCH_IMAGE_URLS is off"),
        (with_image("ftp://example.com/cat.png"), ".url", "http(s) URL or a data: URI"),
        (with_image(data_uri(), detail="ultra"), ".detail", '"auto", "low" or "high"'),
        ([{"role": "user", "content": [{"type": "image", "url": "x"}]}], "[0]", '"image_url"'),
        ([{"role": "user", "content": []}], "content", "empty list"),
        (with_image(data_uri()) * 3, "messages", "at most 2 per add"),
    ],
)
@pytest.mark.parametrize("llm_config", ["openai"], indirect=True)  # the same for any provider
async def test_a_bad_image_is_an_error_naming_the_part_and_nothing_is_written(
    llm_config: MemoryConfig, stub: LLMStub, content: Any, field: str, says: str
) -> None:
    config = llm_config.model_copy(update={"image_max_bytes": 300, "max_images": 2})
    async with AsyncMemory(config) as memory:
        with pytest.raises(InvalidInputError) as raised:
            await memory.add(content, user_id="alice")
        assert raised.value.field.startswith("messages") and raised.value.field.endswith(field)
        assert says in raised.value.message
        assert stub.requests == [] and await stored(memory) == []


async def test_metadata_images_is_reserved_for_the_images_given(
    memory: AsyncMemory, stub: LLMStub
) -> None:
    with pytest.raises(InvalidInputError, match=r"^metadata\.images: .*use another key"):
        await memory.add(with_image(data_uri()), user_id="alice", metadata={"images": 1})
    assert stub.requests == [] and await stored(memory) == []


async def test_an_image_without_an_llm_is_an_error_naming_the_part(config: MemoryConfig) -> None:
    async with AsyncMemory(config) as memory:
        with pytest.raises(InvalidInputError) as raised:
            await memory.add(with_image(data_uri(), text="look"), user_id="alice")
        assert raised.value.field == "messages[0].content[1]"
        assert "needs an LLM" in raised.value.message
        assert await stored(memory) == []


async def test_a_model_that_refuses_images_is_an_error_and_keeps_its_mode_for_text(
    memory: AsyncMemory, stub: LLMStub, llm_config: MemoryConfig
) -> None:
    stub.respond(lambda _: Reply(status=500, error="image input is not supported"))
    llm = memory.llm
    assert llm is not None
    mode = llm.mode  # type: ignore[attr-defined]
    with pytest.raises(LLMError) as raised:
        await memory.add(with_image(data_uri()), user_id="alice")
    assert "describing the image at messages[0].content[0]" in raised.value.cause
    assert "image input is not supported" in raised.value.cause
    assert "needs a model that accepts them" in raised.value.cause
    lowest = "text" if llm_config.llm_provider == "openai" else "anthropic_text"
    assert stub.modes[-1] == lowest  # tried once more in the plainest mode
    # A refusal of an image says nothing about text requests: nothing is learned.
    assert llm.mode == mode and not (llm_config.data_dir / CAPABILITIES_FILE).exists()  # type: ignore[attr-defined]
    assert await stored(memory) == []


async def test_a_vision_server_refusing_the_structured_mode_answers_images_in_text_mode(
    memory: AsyncMemory, stub: LLMStub, llm_config: MemoryConfig
) -> None:
    best = "json_schema" if llm_config.llm_provider == "openai" else "anthropic_tool"
    stub.reject(best)
    stub.script(described("A red square"))
    added = await memory.add(with_image(data_uri()), user_id="alice", infer=False)
    assert [e.memory for e in added.results] == ["A red square"]
    *refused, answered = stub.modes  # the SDK retries a 500 itself
    assert set(refused) == {best} and answered.endswith("text")
    assert memory.llm.mode == memory.llm.modes[0]  # type: ignore[union-attr]


# --- fetching image URLs (only from servers this test runs on loopback) ----------------------


@pytest.fixture
def images() -> Any:
    with ImageServer.running() as server:
        yield server


@pytest.fixture
def elsewhere() -> Any:
    """A server on another loopback address, outside the allowed network: never contacted."""
    with ImageServer.running("127.0.0.2") as server:
        yield server


@pytest.fixture
async def fetching(config: MemoryConfig, stub: LLMStub, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings = config.model_copy(
        update={
            "llm_provider": "openai",
            "llm_base_url": stub.openai_url,
            "llm_max_retries": 0,
            "fetch_image_urls": True,
            "image_fetch_private_networks": [ipaddress.ip_network("127.0.0.1/32")],
            "image_fetch_timeout": 1.0,
            "image_max_bytes": 50_000,
        }
    )
    async with AsyncMemory(settings) as memory:
        yield memory


@pytest.mark.parametrize("path", ["/img.png", "/to?url=/img.png"])
async def test_a_fetched_image_is_described_and_only_its_hash_is_kept(
    fetching: AsyncMemory, stub: LLMStub, images: ImageServer, path: str
) -> None:
    stub.script(described("A red square"))
    added = await fetching.add(with_image(images.url + path), user_id="alice", infer=False)
    assert [e.memory for e in added.results] == ["A red square"]
    assert image_in_request(stub.requests[0].body) == sdk_image("openai", images.png)
    [item] = await stored(fetching)
    assert item.metadata["images"][0]["sha256"] == hashlib.sha256(images.png).hexdigest()


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/page.html", "does not hold a PNG, JPEG"),
        ("/big", "over the 50000-byte limit"),
        ("/big-chunked", "over the 50000-byte limit"),
        ("/missing.png", "gave HTTP 404"),
        ("/slow", "took over 1 s"),
        ("/loop", "redirects more than 5 times"),
        ("/to?url=ftp://127.0.0.1/x.png", "only http(s) URLs are fetched"),
    ],
)
async def test_an_image_url_that_cannot_be_fetched_is_an_error_and_nothing_is_written(
    fetching: AsyncMemory, stub: LLMStub, images: ImageServer, path: str, says: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        await fetching.add(with_image(images.url + path), user_id="alice")
    assert raised.value.field == "messages[0].content[0].image_url.url"
    assert says in raised.value.message
    assert stub.requests == [] and await stored(fetching) == []


async def test_a_redirect_to_an_address_that_is_not_allowed_is_refused_before_connecting(
    fetching: AsyncMemory, stub: LLMStub, images: ImageServer, elsewhere: ImageServer
) -> None:
    url = f"{images.url}/to?url={elsewhere.url}/img.png"
    with pytest.raises(InvalidInputError, match="redirects to 127.0.0.2 .*not a public address"):
        await fetching.add(with_image(url), user_id="alice")
    assert images.hits == ["/to"] and elsewhere.hits == []
    assert stub.requests == [] and await stored(fetching) == []


async def test_an_image_url_on_an_address_that_is_not_allowed_is_refused_before_connecting(
    fetching: AsyncMemory, elsewhere: ImageServer
) -> None:
    with pytest.raises(InvalidInputError, match="points to 127.0.0.2 .*not a public address"):
        await fetching.add(with_image(f"{elsewhere.url}/img.png"), user_id="alice")
    assert elsewhere.hits == []


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("93.184.215.14", True),
        ("2606:4700::6810:85e5", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
    ],
)
def test_only_public_addresses_are_fetched_from_by_default(address: str, ok: bool) -> None:
    assert allowed(ipaddress.ip_address(address), []) is ok


def test_listed_private_networks_are_allowed_too() -> None:
    lan = [ipaddress.ip_network("192.168.1.0/24")]
    assert allowed(ipaddress.ip_address("192.168.1.10"), lan)
    assert not allowed(ipaddress.ip_address("192.168.2.10"), lan)


# --- over MCP: each transport, each SDK, and the client's own model -------------------------


@pytest.mark.parametrize("transport", ["stdio", "streamable-http"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_an_image_sent_to_add_memory_reaches_the_model_in_its_sdks_format(
    tmp_path: Path, model_dir: Path, stub: LLMStub, provider: str, transport: str
) -> None:
    url = stub.openai_url if provider == "openai" else stub.anthropic_url
    env = server_env(
        tmp_path / "data",
        model_dir,
        MEM0_MCP_LLM_PROVIDER=provider,
        MEM0_MCP_LLM_BASE_URL=url,
        MEM0_MCP_LLM_MAX_RETRIES="0",
    )
    stub.script(described("A red square"), facts("Has a red square painting"))
    jpeg = image_bytes("JPEG")
    server = http_server(env, transport=transport) if transport != "stdio" else nullcontext()
    with server as base:
        async with connect(transport, env, url=base) as session:
            added = await call(
                session, "add_memory", messages=with_image(data_uri(jpeg), text="my painting")
            )
            assert [e["memory"] for e in added["results"]] == ["Has a red square painting"]
            listed = await call(session, "list_memories")
    assert image_in_request(stub.requests[0].body) == sdk_image(provider, jpeg, "image/jpeg")
    [item] = listed["results"]
    sha = hashlib.sha256(jpeg).hexdigest()
    assert item["metadata"] == {"images": [{"media_type": "image/jpeg", "sha256": sha}]}


async def test_bad_images_are_tool_errors_over_mcp_and_nothing_is_written(
    tmp_path: Path, model_dir: Path, stub: LLMStub
) -> None:
    env = server_env(
        tmp_path / "data",
        model_dir,
        MEM0_MCP_LLM_PROVIDER="openai",
        MEM0_MCP_LLM_BASE_URL=stub.openai_url,
        MEM0_MCP_LLM_MAX_RETRIES="0",
        MEM0_MCP_IMAGE_MAX_BYTES="300",
    )
    stub.respond(lambda _: Reply(status=500, error="this model takes no images"))
    cases = [
        (data_uri(b"not an image"), "messages[0].content[0].image_url.url: does not hold"),
        ("data:image/png;base64,%%%", "messages[0].content[0].image_url.url: is not valid base64"),
        (data_uri(b"GIF87a", "image/tiff"), "'image/tiff' is not a supported image type"),
        (data_uri(image_bytes(color="noise")), "over the 300-byte limit"),
        ("https://example.com/a.png", "image URLs are not fetched"),
        (data_uri(), "describing the image at messages[0].content[0]"),
    ]
    async with connect("stdio", env) as session:
        for url, says in cases:
            with pytest.raises(ToolFailed) as raised:
                await call(session, "add_memory", messages=with_image(url))
            assert says in str(raised.value) and "Traceback" not in str(raised.value)
        with pytest.raises(ToolFailed, match=r"^messages\[0\]\.content: part 0 must be \{"):
            bad = [{"role": "user", "content": [{"type": "image_url", "url": "x"}]}]
            await call(session, "add_memory", messages=bad)
        assert (await call(session, "list_memories"))["results"] == []
    assert len(stub.requests) == 2  # only the last case reached the model (and its text retry)


class ClientModel:
    """A client's sampling callback that describes images and records what it was sent."""

    def __init__(self) -> None:
        self.seen: list[types.CreateMessageRequestParams] = []

    async def __call__(
        self, context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        self.seen.append(params)
        answer = {"description": "A red square"}
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=json.dumps(answer)),
            model="client-model",
        )


@pytest.mark.parametrize("forwarded", [False, True])
async def test_an_image_reaches_the_clients_own_model_as_mcp_image_content(
    tmp_path: Path, model_dir: Path, forwarded: bool
) -> None:
    env = server_env(tmp_path / "data", model_dir, MEM0_MCP_LLM_PROVIDER="sampling")
    owner_model = ClientModel()
    caller_model = ClientModel() if forwarded else owner_model
    messages = with_image(data_uri(), text="my painting")
    async with connect("stdio", env, sampling_callback=owner_model) as owner:
        if forwarded:  # a second process, which forwards its calls to the owner
            await call(owner, "list_memories")
            async with connect("stdio", env, sampling_callback=caller_model) as forwarder:
                added = await call(forwarder, "add_memory", messages=messages, infer=False)
        else:
            added = await call(owner, "add_memory", messages=messages, infer=False)
    assert [e["memory"] for e in added["results"]] == ["my painting\nA red square"]
    [params] = caller_model.seen
    image, text = params.messages
    assert isinstance(image.content, types.ImageContent)
    assert (image.content.mime_type, image.content.data) == (
        "image/png",
        base64.b64encode(PNG).decode(),
    )
    assert isinstance(text.content, types.TextContent)
    assert "my painting" in text.content.text
    if forwarded:
        assert owner_model.seen == []
