"""The tools agents see: each one's arguments, description, annotations and engine call.

Arguments are pydantic models with ``extra="forbid"``: an unknown key is an error naming
it and the nearest valid name (``userid`` → ``user_id``), never silently dropped — an
agent that misspells a scope key would otherwise read and write the default user's
memories without noticing. Range checks that depend on settings (``limit`` up to
``max_limit``, text sizes) are the engine's, so the library, the CLI and the tools share
one rule and one message.

Descriptions are as short as they can be while keeping every rule an agent needs:
``tools/list`` is sent to the model with every request (sizes in docs/benchmarks.md).
Input schemas use no ``oneOf`` / ``anyOf`` / ``allOf`` at the top level: Anthropic's API
(and Bedrock, Vertex) reject such a tool, which breaks the whole session in Claude Code
and Claude Desktop. "Exactly one of ``text`` or ``messages``" is therefore enforced here
and stated in the description.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp_types import InputRequiredResult, ToolAnnotations
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from . import models
from .images import PART_SHAPE
from .llms.sampling import run_with_sampling
from .scope import Scope, ScopeIds, bind
from .validation import MAX_OFFSET

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from .api import MemoryAPI
    from .auth import Identity
    from .config import MemoryConfig
    from .llms import LLM

INSTRUCTIONS = (
    "Persistent memory about the user. Call search_memories before answering anything that may "
    "depend on earlier conversations (preferences, facts, decisions); call add_memory when the "
    "user states a durable fact, preference or decision; fix stale memories with update_memory "
    "and remove wrong ones with delete_memory. Omit user_id/agent_id/run_id for the default user."
)

UserId = Annotated[str | None, Field(description="End user's id; omit for the default user.")]
AgentId = Annotated[str | None, Field(description="Agent's id.")]
RunId = Annotated[str | None, Field(description="Session or run id.")]
MemoryId = Annotated[str, Field(description="Memory id, from search or list results.")]
Metadata = Annotated[
    dict[str, Any] | None,
    Field(description='JSON object stored with the memory, e.g. {"topic": "food"}.'),
]
Filters = Annotated[
    dict[str, Any] | None,
    Field(
        description='Filter on metadata and fields, e.g. {"topic": "food"}, '
        '{"created_at": {"gte": "2026-01-01"}}; ops eq ne gt gte lt lte in nin contains '
        'icontains; AND/OR/NOT take lists; "*" = field present.'
    ),
]


class _Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextPart(_Arguments):
    type: Literal["text"]
    text: str


class ImageURL(_Arguments):
    url: str = Field(description="data:image/png;base64,... or https://...")
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(_Arguments):
    type: Literal["image_url"]
    image_url: ImageURL


_PART = TypeAdapter(TextPart | ImagePart)


class ChatMessage(_Arguments):
    role: Literal["user", "assistant", "system"]
    content: str | list[TextPart | ImagePart] = Field(
        description="Text, or text and image_url parts (PNG/JPEG/GIF/WebP)."
    )
    name: str | None = Field(default=None, description="Speaker; stored as actor_id.")

    @field_validator("content", mode="wrap")
    @classmethod
    def _one_error_per_part(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # pydantic reports a bad part once per branch of both unions (six lines of noise).
        try:
            return handler(value)
        except ValidationError:
            if not isinstance(value, list):
                raise ValueError("must be a string or a list of content parts") from None
            for j, part in enumerate(value):
                try:
                    _PART.validate_python(part)
                except ValidationError:
                    raise ValueError(f"part {j} {PART_SHAPE}") from None
            raise


class AddMemoryArguments(_Arguments):
    text: str | None = Field(default=None, description="The fact to remember.")
    messages: list[ChatMessage] | None = Field(
        default=None, description="A conversation to remember, instead of text."
    )
    user_id: UserId = None
    agent_id: AgentId = None
    run_id: RunId = None
    metadata: Metadata = None
    infer: bool | None = Field(
        default=None,
        description="Extract facts with the configured LLM (default when there is one); "
        "false stores the text as is.",
    )
    memory_type: Literal["procedural_memory"] | None = Field(
        default=None,
        description="procedural_memory: store a summary of the agent's run (needs agent_id).",
    )

    @model_validator(mode="after")
    def _text_or_messages(self) -> AddMemoryArguments:
        if (self.text is None) == (self.messages is None):
            raise ValueError("give exactly one of `text` (a string) or `messages` (a list)")
        return self


class SearchMemoriesArguments(_Arguments):
    query: str = Field(description="What to recall, in natural language.")
    user_id: UserId = None
    agent_id: AgentId = None
    run_id: RunId = None
    filters: Filters = None
    limit: int = Field(default=10, description="Most results.")
    threshold: float | None = Field(
        default=None,
        description="Minimum score 0-1. Scores are low by design (good matches 0.05-0.4); "
        "usually leave unset.",
    )


class UpdateMemoryArguments(_Arguments):
    memory_id: MemoryId
    text: str = Field(description="The corrected memory text.")
    metadata: Annotated[
        dict[str, Any] | None, Field(description="Replaces the metadata when given.")
    ] = None


class MemoryIdArguments(_Arguments):
    memory_id: MemoryId


class ListMemoriesArguments(_Arguments):
    user_id: UserId = None
    agent_id: AgentId = None
    run_id: RunId = None
    filters: Filters = None
    limit: int = Field(default=50, description="Page size.")
    offset: int = Field(default=0, description="Skip this many; pass next_offset back.")


class DeleteAllArguments(_Arguments):
    user_id: str | None = Field(default=None, description="Delete this user's memories.")
    agent_id: str | None = Field(default=None, description="Delete this agent's memories.")
    run_id: str | None = Field(default=None, description="Delete this run's memories.")


@dataclass(frozen=True, slots=True)
class Call:
    """One tool call as a handler sees it: validated arguments and the resolved caller."""

    memory: MemoryAPI  # AsyncMemory, or the forwarder to the process that owns the store
    config: MemoryConfig
    identity: Identity
    context: Context[Any, Any] | None

    def scope_ids(self, args: Any) -> ScopeIds:
        """The call's scope ids with the caller's binding applied (``scope.bind``)."""
        return bind(self.identity.bound, args.user_id, args.agent_id, args.run_id)

    @property
    def bound(self) -> Scope | None:
        return self.identity.bound


Handler = Callable[[Call, Any], Awaitable[BaseModel | InputRequiredResult]]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    title: str
    description: str
    arguments: type[_Arguments]
    result: type[BaseModel]
    handler: Handler
    annotations: ToolAnnotations

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.read_only_hint)


async def _add_memory(
    call: Call, args: AddMemoryArguments
) -> models.AddResult | InputRequiredResult:
    messages = [m.model_dump(exclude_none=True) for m in args.messages or []]
    payload: Any = args.text if args.text is not None else messages
    ids = call.scope_ids(args)
    images = any(not isinstance(m.content, str) for m in args.messages or [])

    async def add(llm: LLM | None = None) -> models.AddResult:
        return await call.memory.add(
            payload,
            metadata=args.metadata,
            infer=args.infer,
            llm=llm,
            memory_type=args.memory_type,
            **ids,
        )

    needs_model = args.infer is not False or images
    if call.config.llm_provider == "sampling" and needs_model and call.context:
        # The client's own model does this call's LLM work (facts, images, procedure).
        return await run_with_sampling(call.context, add, call.config)
    return await add()


async def _search_memories(call: Call, args: SearchMemoriesArguments) -> models.SearchResult:
    return await call.memory.search(
        args.query,
        filters=args.filters,
        limit=args.limit,
        threshold=args.threshold,
        **call.scope_ids(args),
    )


async def _update_memory(call: Call, args: UpdateMemoryArguments) -> models.UpdateResult:
    return await call.memory.update(
        args.memory_id, args.text, metadata=args.metadata, scope=call.bound
    )


async def _delete_memory(call: Call, args: MemoryIdArguments) -> models.DeleteResult:
    return await call.memory.delete(args.memory_id, scope=call.bound)


async def _memory_history(call: Call, args: MemoryIdArguments) -> models.HistoryResult:
    return await call.memory.history(args.memory_id, scope=call.bound)


async def _get_memory(call: Call, args: MemoryIdArguments) -> models.MemoryItem:
    return await call.memory.get(args.memory_id, scope=call.bound)


async def _list_memories(call: Call, args: ListMemoriesArguments) -> models.ListResult:
    return await call.memory.get_all(
        filters=args.filters, limit=args.limit, offset=args.offset, **call.scope_ids(args)
    )


async def _delete_all_memories(call: Call, args: DeleteAllArguments) -> models.DeleteAllResult:
    return await call.memory.delete_all(**call.scope_ids(args))


def _writes(*, destructive: bool) -> ToolAnnotations:
    return ToolAnnotations(read_only_hint=False, destructive_hint=destructive, idempotent_hint=True)


_READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "add_memory",
        "Remember",
        "Store a durable fact, preference or decision. Give exactly one of text or messages. "
        "Returns one event per fact: ADD (new), UPDATE (replaced an older memory, shown as "
        "previous_memory), DELETE (removed a contradicted memory) or NONE (already known; id "
        "is the existing memory).",
        AddMemoryArguments,
        models.AddResult,
        _add_memory,
        _writes(destructive=False),
    ),
    ToolSpec(
        "search_memories",
        "Recall",
        "Find the memories most relevant to a query, best first, within the scope.",
        SearchMemoriesArguments,
        models.SearchResult,
        _search_memories,
        _READS,
    ),
    ToolSpec(
        "update_memory",
        "Correct a memory",
        "Replace a memory's text (and metadata, if given). History keeps the old text.",
        UpdateMemoryArguments,
        models.UpdateResult,
        _update_memory,
        _writes(destructive=True),
    ),
    ToolSpec(
        "delete_memory",
        "Forget a memory",
        "Delete one memory. Its history stays available.",
        MemoryIdArguments,
        models.DeleteResult,
        _delete_memory,
        _writes(destructive=True),
    ),
    ToolSpec(
        "memory_history",
        "Memory history",
        "Every change to a memory, oldest first, with old and new text; kept after deletion.",
        MemoryIdArguments,
        models.HistoryResult,
        _memory_history,
        _READS,
    ),
    ToolSpec(
        "get_memory",
        "Get a memory",
        "One memory by id.",
        MemoryIdArguments,
        models.MemoryItem,
        _get_memory,
        _READS,
    ),
    ToolSpec(
        "list_memories",
        "List memories",
        "Memories in the scope, newest first, a page at a time; pass next_offset back as "
        "offset (null on the last page).",
        ListMemoriesArguments,
        models.ListResult,
        _list_memories,
        _READS,
    ),
    ToolSpec(
        "delete_all_memories",
        "Forget a whole scope",
        "Delete every memory of a scope. Needs at least one of user_id, agent_id, run_id (the "
        "default user is never implied). History is kept.",
        DeleteAllArguments,
        models.DeleteAllResult,
        _delete_all_memories,
        _writes(destructive=True),
    ),
)
TOOL_NAMES: tuple[str, ...] = tuple(spec.name for spec in TOOLS)


def offered(config: MemoryConfig) -> list[ToolSpec]:
    """The tools this server offers: all, or only the read-only ones with ``read_only``,
    with descriptions replaced from ``tool_descriptions``."""
    return [
        dataclasses.replace(s, description=config.tool_descriptions.get(s.name, s.description))
        for s in TOOLS
        if s.read_only or not config.read_only
    ]


def input_schema(spec: ToolSpec, config: MemoryConfig) -> dict[str, Any]:
    """The tool's published input schema: compact (no titles, optional fields without their
    ``null`` alternative, definitions inlined), ``additionalProperties: false`` on every
    object, and the settings' ranges (``limit`` ≤ ``max_limit``) written in."""
    schema = compact_schema(spec.arguments.model_json_schema(), nullable=False)
    props = schema.get("properties", {})
    if "limit" in props:
        props["limit"].update(minimum=1, maximum=config.max_limit)
    if "offset" in props:
        props["offset"].update(minimum=0, maximum=MAX_OFFSET)
    if "threshold" in props:
        props["threshold"].update(minimum=0, maximum=1)
    return schema


def output_schema(spec: ToolSpec) -> dict[str, Any]:
    """The tool's published output schema: compact, nullable fields kept nullable (the
    structured content carries every field), and no descriptions (they are the result
    models' docstrings, written for Python readers; clients do not show output schemas to
    the model)."""
    return compact_schema(spec.result.model_json_schema(), nullable=True, descriptions=False)


def compact_schema(
    schema: dict[str, Any], *, nullable: bool, descriptions: bool = True
) -> dict[str, Any]:
    """pydantic's JSON schema without titles, ``$defs`` (inlined) and defaults that say
    nothing (``null``, ``additionalProperties: true``); ``anyOf [X, null]`` written as ``X``
    (``nullable=False``) or ``X`` with ``"type": [t, "null"]``."""
    defs = schema.get("$defs", {})
    dropped = {"title", "$defs"} | (set() if descriptions else {"description"})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = walk(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {**target, **{k: walk(v) for k, v in node.items() if k != "$ref"}}
        out = {k: walk(v) for k, v in node.items() if k not in dropped}
        if out.get("default", 0) is None:
            del out["default"]
        if out.get("additionalProperties") is True:
            del out["additionalProperties"]
        options = out.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options and len(options) == 2:
            (kept,) = [o for o in options if o != {"type": "null"}]
            del out["anyOf"]
            if nullable and isinstance(kept.get("type"), str):
                kept = {**kept, "type": [kept["type"], "null"]}
            elif nullable:
                return {**out, "anyOf": options}
            out = {**kept, **out}
        return out

    result = walk(schema)
    assert isinstance(result, dict)
    return result


def preparse(arguments: dict[str, Any], model: type[_Arguments]) -> dict[str, Any]:
    """Undo a client quirk: some send object and list arguments as JSON text
    (``"metadata": "{\\"a\\": 1}"``). For a field that takes an object or a list (never for
    one that takes text), a string that decodes to an object or a list is replaced by it."""
    out = dict(arguments)
    for name, field in model.model_fields.items():
        value = out.get(name)
        if not isinstance(value, str) or not value.startswith(("{", "[")):
            continue
        if not _takes_container(field.annotation):
            continue
        try:
            decoded = json.loads(value)
        except ValueError:
            continue
        if isinstance(decoded, dict | list):
            out[name] = decoded
    return out


def _takes_container(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (dict, list):
        return True
    return any(_takes_container(a) for a in typing.get_args(annotation))
