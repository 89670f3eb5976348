"""LLM providers against the scripted stub (real openai/anthropic SDKs) and a real MCP
client with a sampling callback (in-process MCPServer)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from llm_stub import LLMStub, Reply
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from mem0_mcp import AsyncMemory
from mem0_mcp.config import MemoryConfig
from mem0_mcp.errors import ConfigError, InvalidInputError, LLMError
from mem0_mcp.llms import create_llm, needs_client_sampling
from mem0_mcp.llms.anthropic import AnthropicLLM
from mem0_mcp.llms.base import OutputError, extract_json, parse_output
from mem0_mcp.llms.capabilities import CAPABILITIES_FILE, Capabilities
from mem0_mcp.llms.openai import OpenAILLM
from mem0_mcp.llms.sampling import SamplingLLM, run_with_sampling


class Facts(BaseModel):
    facts: list[str]


class Decision(BaseModel):
    event: str
    id: int | None = None


FACTS = {"facts": ["Likes pizza", "Lives in Lisbon"]}
ASK: dict[str, Any] = {
    "system": "Extract facts.",
    "prompt": "I like pizza and live in Lisbon.",
    "schema": Facts,
    "tool_name": "record_facts",
    "tool_description": "Record the facts found in the conversation.",
}


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CONFIG_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stub() -> Iterator[LLMStub]:
    with LLMStub.running() as server:
        yield server


def config(**overrides: Any) -> MemoryConfig:
    values: dict[str, Any] = {"llm_provider": "openai", "llm_timeout": 5.0, "llm_max_retries": 1}
    values.update(overrides)
    return MemoryConfig(**values)


def openai_llm(stub: LLMStub, **overrides: Any) -> OpenAILLM:
    return OpenAILLM(config(llm_base_url=stub.openai_url, **overrides), backoff=0)


def anthropic_llm(stub: LLMStub, **overrides: Any) -> AnthropicLLM:
    overrides.setdefault("llm_base_url", stub.anthropic_url)
    return AnthropicLLM(config(llm_provider="anthropic", **overrides), backoff=0)


# --- shared helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"facts": ["a"]}',
        'Sure! Here are the facts:\n{"facts": ["a"]}\nAnything else?',
        'Here you go:\n```json\n{"facts": ["a"]}\n```',
        '```\n{"facts": ["a"],}\n```',
        '<think>the user said {x}</think>\n{"facts": ["a"]}',
        'The answer {is} below: {"facts": ["a"]} done',
    ],
)
def test_extract_json_finds_the_object(text: str) -> None:
    assert extract_json(text) == {"facts": ["a"]}


def test_extract_json_without_json_raises() -> None:
    with pytest.raises(OutputError, match="no JSON object"):
        extract_json("I could not find any facts.")


def test_parse_output_forgives_bare_list_and_wrapper() -> None:
    assert parse_output('["a", "b"]', Facts).facts == ["a", "b"]
    assert parse_output({"Facts": {"facts": ["a"]}}, Facts).facts == ["a"]
    with pytest.raises(OutputError, match="output did not match schema: facts"):
        parse_output({"fact": "a", "other": 1}, Facts)


def test_create_llm_by_provider(stub: LLMStub) -> None:
    assert create_llm(config(llm_provider="none")) is None
    assert create_llm(config(llm_provider="sampling")) is None
    llm = create_llm(config(llm_base_url=stub.openai_url))
    assert isinstance(llm, OpenAILLM) and llm.name == "openai"
    llm = create_llm(config(llm_provider="anthropic", llm_base_url=stub.anthropic_url))
    assert isinstance(llm, AnthropicLLM) and llm.name == "anthropic"


def test_hosted_apis_without_key_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        create_llm(config())
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        create_llm(config(llm_provider="anthropic"))


# --- OpenAI ------------------------------------------------------------------------------


async def test_openai_json_schema_happy_path(stub: LLMStub) -> None:
    stub.script(Reply(json=FACTS))
    llm = openai_llm(stub, llm_model="qwen3:4b")
    result = await llm.generate(**ASK)
    assert result == Facts(**FACTS)
    assert (llm.calls, llm.requests, stub.modes) == (1, 1, ["json_schema"])
    sent = stub.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer not-needed"
    assert sent.body["model"] == "qwen3:4b" and sent.body["temperature"] == 0.0
    assert (sent.system, sent.prompt) == (ASK["system"], ASK["prompt"])
    spec = sent.body["response_format"]["json_schema"]
    assert spec["name"] == "record_facts" and spec["strict"] is True
    assert spec["schema"]["required"] == ["facts"]
    assert spec["schema"]["additionalProperties"] is False


async def test_openai_json_schema_refused_falls_back_to_tool_and_remembers(stub: LLMStub) -> None:
    stub.reject("json_schema", 500, "failed to parse grammar")  # llama.cpp-style
    stub.script(Reply(json=FACTS), Reply(json={"facts": []}))
    llm = openai_llm(stub)
    assert (await llm.generate(**ASK)).facts == FACTS["facts"]
    # The SDK retried the 500 once (llm_max_retries=1) before the provider stepped down.
    assert stub.modes == ["json_schema", "json_schema", "tool"]
    assert llm.mode == "tool"
    assert (await llm.generate(**ASK)).facts == []
    assert stub.modes[3:] == ["tool"]
    tool_request = stub.requests[-1].body
    assert tool_request["tool_choice"] == {"type": "function", "function": {"name": "record_facts"}}
    assert tool_request["tools"][0]["function"]["parameters"] == Facts.model_json_schema()


async def test_openai_tool_refused_falls_back_to_json_object(stub: LLMStub) -> None:
    stub.reject("json_schema", 400)
    stub.reject("tool", 400, "this model does not support tools")
    stub.script(Reply(json=FACTS))
    llm = openai_llm(stub)
    assert (await llm.generate(**ASK)) == Facts(**FACTS)
    assert stub.modes == ["json_schema", "tool", "json_object"]
    assert llm.mode == "json_object"
    sent = stub.requests[-1]
    assert sent.body["response_format"] == {"type": "json_object"}
    assert "JSON schema" in sent.system and '"facts"' in sent.system


async def test_openai_text_mode_parses_prose_and_code_fence(stub: LLMStub) -> None:
    stub.script(Reply(text='Sure! Here it is:\n```json\n{"facts": ["Likes pizza",]}\n```\nBye.'))
    llm = openai_llm(stub, llm_structured_output="text")
    assert (await llm.generate(**ASK)).facts == ["Likes pizza"]
    sent = stub.requests[0].body
    assert stub.modes == ["text"] and "tools" not in sent and "response_format" not in sent


async def test_openai_tool_request_answered_with_content_is_parsed(stub: LLMStub) -> None:
    stub.script(Reply(text='{"facts": ["x"]}', as_content=True))
    llm = openai_llm(stub, llm_structured_output="tool")
    assert (await llm.generate(**ASK)).facts == ["x"]


async def test_openai_fixed_mode_is_not_stepped_down(stub: LLMStub) -> None:
    stub.reject("json_schema", 400, "response_format json_schema is not supported")
    llm = openai_llm(stub, llm_structured_output="json_schema")
    with pytest.raises(LLMError) as err:
        await llm.generate(**ASK)
    assert "HTTP 400" in err.value.cause and "not supported" in err.value.cause
    assert stub.modes == ["json_schema"]


async def test_openai_malformed_then_valid_takes_exactly_two_calls(stub: LLMStub) -> None:
    stub.script(Reply(text='{"facts": ["unterminated'), Reply(json=FACTS))
    llm = openai_llm(stub, llm_max_retries=2)
    assert (await llm.generate(**ASK)) == Facts(**FACTS)
    assert len(stub.requests) == 2 and (llm.calls, llm.requests) == (1, 2)
    assert "previous reply was rejected" in stub.requests[1].prompt
    assert ASK["prompt"] in stub.requests[1].prompt


async def test_openai_malformed_until_retries_run_out(stub: LLMStub) -> None:
    stub.script(*[Reply(json={"fact": "Likes pizza"}) for _ in range(3)])
    llm = openai_llm(stub, llm_max_retries=2)
    with pytest.raises(LLMError) as err:
        await llm.generate(**ASK)
    assert err.value.provider == "openai"
    assert "output did not match schema" in err.value.cause and "facts" in err.value.cause
    assert "openai" in str(err.value)
    assert len(stub.requests) == 3


async def test_openai_http_500_repeatedly(stub: LLMStub) -> None:
    stub.script(*[Reply(status=500, error="CUDA out of memory") for _ in range(2)])
    llm = openai_llm(stub, llm_structured_output="json_schema")
    with pytest.raises(LLMError) as err:
        await llm.generate(**ASK)
    assert "HTTP 500" in err.value.cause and "CUDA out of memory" in err.value.cause
    assert len(stub.requests) == 2 and stub.remaining == 0


async def test_openai_auto_mode_500_everywhere_is_bounded(stub: LLMStub) -> None:
    stub.script(*[Reply(status=500) for _ in range(8)])
    llm = openai_llm(stub)
    with pytest.raises(LLMError, match="HTTP 500"):
        await llm.generate(**ASK)
    assert stub.modes == [m for m in ("json_schema", "tool", "json_object", "text") for _ in "ab"]


async def test_openai_503_is_not_a_mode_refusal(stub: LLMStub) -> None:
    stub.script(Reply(status=503, error="loading model"), Reply(status=503, error="loading model"))
    llm = openai_llm(stub)
    with pytest.raises(LLMError, match="HTTP 503"):
        await llm.generate(**ASK)
    assert stub.modes == ["json_schema", "json_schema"] and llm.mode == "json_schema"


async def test_openai_timeout(stub: LLMStub) -> None:
    stub.script(Reply(json=FACTS, delay=3))
    llm = openai_llm(stub, llm_timeout=0.2, llm_max_retries=0)
    started = time.monotonic()
    with pytest.raises(LLMError) as err:
        await llm.generate(**ASK)
    assert time.monotonic() - started < 2
    assert "within 0.2 s" in err.value.cause and "MEM0_MCP_LLM_TIMEOUT" in err.value.cause


async def test_openai_429_then_success(stub: LLMStub) -> None:
    stub.script(Reply(status=429, error="slow down"), Reply(json=FACTS))
    llm = openai_llm(stub)
    assert (await llm.generate(**ASK)) == Facts(**FACTS)
    assert len(stub.requests) == 2 and llm.requests == 1  # the SDK retried transparently


async def test_openai_unknown_model_names_the_setting(stub: LLMStub) -> None:
    stub.script(Reply(status=404, error="model 'nope' not found"))
    llm = openai_llm(stub, llm_model="nope")
    with pytest.raises(LLMError) as err:
        await llm.generate(**ASK)
    assert "HTTP 404" in err.value.cause and "MEM0_MCP_LLM_MODEL" in err.value.cause


async def test_openai_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = OpenAILLM(config(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_max_retries=0))
    with pytest.raises(LLMError, match="cannot connect"):
        await llm.generate(**ASK)


async def test_openai_drops_temperature_when_the_model_rejects_it(stub: LLMStub) -> None:
    stub.script(
        Reply(status=400, error="Unsupported value: 'temperature' does not support 0.0"),
        Reply(json=FACTS),
    )
    llm = openai_llm(stub)
    assert (await llm.generate(**ASK)) == Facts(**FACTS)
    assert "temperature" not in stub.requests[1].body and stub.modes == ["json_schema"] * 2


# --- Anthropic ---------------------------------------------------------------------------


async def test_anthropic_tool_use_happy_path(stub: LLMStub) -> None:
    stub.script(Reply(json=FACTS))
    llm = anthropic_llm(stub)
    assert (await llm.generate(**ASK)) == Facts(**FACTS)
    sent = stub.requests[0]
    assert sent.path == "/v1/messages" and stub.modes == ["anthropic_tool"]
    # This SDK sends the key as a bearer token (older ones used x-api-key).
    key = sent.headers.get("x-api-key") or sent.headers.get("authorization", "")
    assert key.endswith("not-needed") and "anthropic-version" in sent.headers
    assert sent.body["model"] == "claude-haiku-4-5" and sent.body["system"] == ASK["system"]
    assert sent.body["tool_choice"] == {"type": "tool", "name": "record_facts"}
    assert sent.body["tools"][0]["input_schema"] == Facts.model_json_schema()
    assert sent.prompt == ASK["prompt"]


async def test_anthropic_malformed_raises_after_retries(stub: LLMStub) -> None:
    stub.script(Reply(json={"wrong": 1}), Reply(json={"facts": "not a list"}))
    llm = anthropic_llm(stub)
    with pytest.raises(LLMError) as err:
        await llm.generate(**ASK)
    assert err.value.provider == "anthropic" and "output did not match schema" in err.value.cause
    assert len(stub.requests) == 2


async def test_anthropic_malformed_then_valid(stub: LLMStub) -> None:
    stub.script(Reply(text="I think the facts are pizza."), Reply(json=FACTS))
    llm = anthropic_llm(stub)
    assert (await llm.generate(**ASK)) == Facts(**FACTS)
    assert len(stub.requests) == 2


async def test_anthropic_http_errors_and_env_base_url(
    stub: LLMStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.anthropic_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    stub.script(Reply(status=529, error="Overloaded"), Reply(status=529, error="Overloaded"))
    llm = anthropic_llm(stub, llm_base_url=None)
    with pytest.raises(LLMError) as err:
        await llm.generate(**ASK)
    assert "HTTP 529" in err.value.cause and "overloaded" in err.value.cause
    sent = stub.requests[0].headers
    assert (sent.get("x-api-key") or sent.get("authorization", "")).endswith("sk-test")


async def test_anthropic_timeout(stub: LLMStub) -> None:
    stub.script(Reply(json=FACTS, delay=3))
    llm = anthropic_llm(stub, llm_timeout=0.2, llm_max_retries=0)
    with pytest.raises(LLMError, match="within 0.2 s"):
        await llm.generate(**ASK)


# --- MCP sampling ------------------------------------------------------------------------


def sampling_server(**settings: Any) -> MCPServer:
    server = MCPServer("sampling-test")
    llm_config = config(**{"llm_max_retries": 1, **settings})

    @server.tool()
    async def remember(text: str, ctx: Context) -> dict[str, Any] | types.InputRequiredResult:
        """Two LLM calls, like an add: extract, then decide."""

        async def body(llm: SamplingLLM) -> dict[str, Any]:
            facts = await llm.generate(**{**ASK, "prompt": text})
            decision = await llm.generate(
                system="Decide.",
                prompt=json.dumps(facts.facts),
                schema=Decision,
                tool_name="decide",
                tool_description="Decide what to do.",
            )
            return {"facts": facts.facts, "event": decision.event, "calls": llm.calls}

        try:
            return await run_with_sampling(ctx, body, llm_config)
        except LLMError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    async def remember_via_session(text: str, ctx: Context) -> dict[str, Any]:
        """A SamplingLLM built from the bare session (handshake-era protocols only)."""
        try:
            facts = await SamplingLLM(ctx.session, llm_config).generate(**{**ASK, "prompt": text})
        except LLMError as exc:
            raise ToolError(str(exc)) from exc
        return {"facts": facts.facts}

    return server


class Sampler:
    """A client's sampling callback answering from a script; records what it was asked."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.seen: list[types.CreateMessageRequestParams] = []

    async def __call__(
        self, context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        self.seen.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=self.replies.pop(0)),
            model="client-model",
        )


MODES = ["legacy", "auto"]  # handshake-era back-channel; 2026-07-28 input_required rounds


def tool_json(result: types.CallToolResult) -> Any:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


@pytest.mark.parametrize("mode", MODES)
async def test_sampling_parses_and_validates_client_answers(mode: str) -> None:
    sampler = Sampler('Here you go:\n```json\n{"facts": ["Likes tea"]}\n```', '{"event": "ADD"}')
    async with Client(sampling_server(), sampling_callback=sampler, mode=mode) as client:
        result = await client.call_tool("remember", {"text": "I like tea"})
    assert tool_json(result)["facts"] == ["Likes tea"] and tool_json(result)["event"] == "ADD"
    assert len(sampler.seen) == 2
    first = sampler.seen[0]
    assert first.system_prompt.startswith(ASK["system"]) and '"facts"' in first.system_prompt
    assert first.messages[0].content.text == "I like tea"
    assert first.temperature == 0.0 and first.max_tokens > 0


@pytest.mark.parametrize("mode", MODES)
async def test_sampling_retries_malformed_answer(mode: str) -> None:
    sampler = Sampler("no idea", '{"facts": []}', '{"event": "NONE"}')
    async with Client(sampling_server(), sampling_callback=sampler, mode=mode) as client:
        result = await client.call_tool("remember", {"text": "hello"})
    assert tool_json(result)["event"] == "NONE"
    assert len(sampler.seen) == 3
    assert "previous reply was rejected" in sampler.seen[1].messages[0].content.text


@pytest.mark.parametrize("mode", MODES)
async def test_sampling_malformed_until_retries_run_out(mode: str) -> None:
    sampler = Sampler('{"facts": 1}', '{"facts": 2}')
    async with Client(sampling_server(), sampling_callback=sampler, mode=mode) as client:
        result = await client.call_tool("remember", {"text": "hello"})
    assert result.is_error
    text = result.content[0].text
    assert "'sampling'" in text and "output did not match schema" in text


@pytest.mark.parametrize("mode", MODES)
async def test_sampling_without_client_capability(mode: str) -> None:
    async with Client(sampling_server(), mode=mode) as client:
        result = await client.call_tool("remember", {"text": "hello"})
    assert result.is_error
    text = result.content[0].text
    assert "does not support sampling" in text and "MEM0_MCP_LLM_PROVIDER" in text


async def test_sampling_refused_by_client() -> None:
    async def refuse(context: Any, params: types.CreateMessageRequestParams) -> types.ErrorData:
        return types.ErrorData(code=-1, message="User rejected sampling request")

    async with Client(sampling_server(), sampling_callback=refuse, mode="legacy") as client:
        result = await client.call_tool("remember", {"text": "hello"})
    assert result.is_error and "User rejected sampling request" in result.content[0].text


async def test_sampling_from_bare_session_with_model_hint() -> None:
    sampler = Sampler('{"facts": ["a"]}')
    server = sampling_server(llm_model="claude-haiku-4-5")
    async with Client(server, sampling_callback=sampler, mode="legacy") as client:
        result = await client.call_tool("remember_via_session", {"text": "x"})
    assert tool_json(result) == {"facts": ["a"]}
    hints = sampler.seen[0].model_preferences.hints
    assert [h.name for h in hints] == ["claude-haiku-4-5"]


async def test_sampling_timeout() -> None:
    async def slow(context: Any, params: types.CreateMessageRequestParams) -> Any:
        await anyio.sleep(5)

    server = sampling_server(llm_timeout=0.2)
    async with Client(server, sampling_callback=slow, mode="legacy") as client:
        started = time.monotonic()
        result = await client.call_tool("remember", {"text": "hello"})
    assert time.monotonic() - started < 3
    assert result.is_error and "within 0.2 s" in result.content[0].text


# --- every provider on the shared base ---------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "stop", "limit"),
    [("openai", "length", "the token limit"), ("anthropic", "max_tokens", "max_tokens")],
)
async def test_a_truncated_reply_is_retried_and_the_error_says_it_was_cut_off(
    stub: LLMStub, provider: str, stop: str, limit: str
) -> None:
    cut = Reply(text='{"facts": ["Likes pi', finish_reason=stop)
    stub.script(cut, cut)
    llm = openai_llm(stub) if provider == "openai" else anthropic_llm(stub)
    with pytest.raises(LLMError) as err:
        await llm.generate(**ASK)
    assert f"(the reply was cut off at {limit})" in err.value.cause
    assert "after 2 tries" in err.value.cause and (llm.calls, llm.requests) == (1, 2)
    assert f"cut off at {limit}" in stub.requests[1].prompt  # the feedback says why


# --- what an endpoint supports, remembered across processes ------------------------------


def remembering(stub: LLMStub, data_dir: Path, **overrides: Any) -> Any:
    """A provider as the engine builds it (``create_llm``), on ``data_dir``."""
    if overrides.get("llm_provider") == "anthropic":
        overrides.setdefault("llm_base_url", stub.anthropic_url)
    overrides.setdefault("llm_base_url", stub.openai_url)
    llm = create_llm(config(data_dir=data_dir, **overrides))
    llm.backoff = 0  # type: ignore[union-attr]
    return llm


def remembered(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / CAPABILITIES_FILE).read_text())


async def test_an_endpoint_that_refuses_json_schema_is_not_asked_for_it_again(
    stub: LLMStub, tmp_path: Path
) -> None:
    stub.reject("json_schema", 500, "failed to parse grammar")  # llama.cpp-style
    stub.script(Reply(json=FACTS), Reply(json=FACTS))
    first = remembering(stub, tmp_path)
    assert (await first.generate(**ASK)) == Facts(**FACTS)
    assert stub.modes == ["json_schema", "json_schema", "tool"]
    key = f"openai {first.base_url} gpt-4.1-mini"
    assert remembered(tmp_path) == {key: {"mode": "tool"}}

    restarted = remembering(stub, tmp_path)  # a new provider, as after a restart
    assert restarted.mode == "tool"
    assert (await restarted.generate(**ASK)) == Facts(**FACTS)
    assert stub.modes[3:] == ["tool"] and restarted.requests == 1


async def test_each_model_of_an_endpoint_is_remembered_on_its_own(
    stub: LLMStub, tmp_path: Path
) -> None:
    stub.reject("json_schema", 400)
    stub.script(Reply(json=FACTS))
    await remembering(stub, tmp_path, llm_model="small").generate(**ASK)
    assert remembering(stub, tmp_path, llm_model="small").mode == "tool"
    assert remembering(stub, tmp_path, llm_model="large").mode == "json_schema"


async def test_a_configured_mode_wins_over_a_remembered_one(stub: LLMStub, tmp_path: Path) -> None:
    stub.reject("json_schema", 400)
    stub.script(Reply(json=FACTS))
    await remembering(stub, tmp_path).generate(**ASK)
    assert remembering(stub, tmp_path).mode == "tool"
    fixed = remembering(stub, tmp_path, llm_structured_output="json_schema")
    assert fixed.mode == "json_schema"
    assert remembering(stub, tmp_path, llm_structured_output="text").mode == "text"


async def test_a_model_that_rejects_temperature_is_sent_none_after_a_restart(
    stub: LLMStub, tmp_path: Path
) -> None:
    stub.script(
        Reply(status=400, error="Unsupported value: 'temperature' does not support 0.0"),
        Reply(json=FACTS),
        Reply(json=FACTS),
    )
    await remembering(stub, tmp_path, llm_model="o4-mini").generate(**ASK)
    restarted = remembering(stub, tmp_path, llm_model="o4-mini")
    assert (await restarted.generate(**ASK)) == Facts(**FACTS)
    assert "temperature" not in stub.requests[2].body and restarted.requests == 1


async def test_anthropic_endpoint_refusing_tools_falls_back_to_text_and_remembers(
    stub: LLMStub, tmp_path: Path
) -> None:
    stub.reject("anthropic_tool", 400, "tools are not supported")
    stub.script(Reply(text='{"facts": ["Likes pizza"]}'), Reply(text='{"facts": []}'))
    first = remembering(stub, tmp_path, llm_provider="anthropic")
    assert (await first.generate(**ASK)).facts == ["Likes pizza"]
    assert stub.modes == ["anthropic_tool", "anthropic_text"] and first.mode == "text"
    assert "JSON schema" in stub.requests[-1].system and "tools" not in stub.requests[-1].body
    restarted = remembering(stub, tmp_path, llm_provider="anthropic")
    assert (await restarted.generate(**ASK)).facts == []
    assert stub.modes[2:] == ["anthropic_text"]


async def test_an_unreadable_capabilities_file_is_ignored_then_rewritten(
    stub: LLMStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / CAPABILITIES_FILE).write_text('{"openai http://x/ m": {"mode": ')
    stub.reject("json_schema", 400)
    stub.script(Reply(json=FACTS))
    llm = remembering(stub, tmp_path)
    assert llm.mode == "json_schema" and "probed again" in caplog.text
    assert (await llm.generate(**ASK)) == Facts(**FACTS)
    assert remembered(tmp_path) == {f"openai {llm.base_url} gpt-4.1-mini": {"mode": "tool"}}
    assert [p.name for p in tmp_path.glob("*.part")] == []


async def test_concurrent_learners_keep_every_endpoint(tmp_path: Path) -> None:
    store = Capabilities.in_dir(tmp_path)
    await asyncio.gather(
        *(store.learn(f"openai http://h{n}/ m", {"mode": "tool"}) for n in range(16))
    )
    await store.learn("openai http://h0/ m", {"temperature": False})
    assert len(remembered(tmp_path)) == 16
    assert store.recall("openai http://h0/ m") == {"mode": "tool", "temperature": False}
    assert store.recall("openai http://elsewhere/ m") == {}


async def test_a_provider_built_directly_remembers_for_itself_only(
    stub: LLMStub, tmp_path: Path
) -> None:
    stub.reject("json_schema", 400)
    stub.script(Reply(json=FACTS))
    llm = openai_llm(stub, data_dir=tmp_path)
    await llm.generate(**ASK)
    assert llm.mode == "tool" and not (tmp_path / CAPABILITIES_FILE).exists()


# --- where the model comes from ----------------------------------------------------------


def test_sampling_means_the_clients_model_per_call_and_none_means_no_model() -> None:
    assert create_llm(config(llm_provider="sampling")) is None
    assert needs_client_sampling(config(llm_provider="sampling"))
    assert create_llm(config(llm_provider="none")) is None
    assert not needs_client_sampling(config(llm_provider="none"))
    assert not needs_client_sampling(config(llm_provider="openai"))


async def test_inferring_with_sampling_outside_a_tool_call_says_what_is_missing(
    tmp_path: Path, model_dir: Path
) -> None:
    settings = MemoryConfig(
        data_dir=tmp_path, embedding_model_path=model_dir, llm_provider="sampling"
    )
    async with AsyncMemory(settings) as memory:
        with pytest.raises(InvalidInputError) as err:
            await memory.add("I like tea", infer=True)
        assert err.value.field == "infer" and "MCP client's model" in str(err.value)
        assert (await memory.add("I like tea")).results[0].event == "ADD"  # verbatim
