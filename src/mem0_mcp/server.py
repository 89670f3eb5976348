"""The MCP face: tool schemas and descriptions, arguments → engine calls, engine errors →
MCP tool errors (``isError: true``). No memory logic lives here.

``build_server(memory)`` takes a ``MemoryAPI`` (the engine itself, or a client of the
process that owns the store) and returns an ``MCPServer``.
"""

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import InputRequiredResult, ToolAnnotations
from pydantic import BaseModel, Field

from . import __version__
from .api import MemoryAPI
from .auth import apply_scope, bound_scope
from .errors import Mem0MCPError
from .llms import LLM
from .llms.sampling import run_with_sampling
from .models import (
    AddResult,
    DeleteAllResult,
    DeleteResult,
    HistoryResult,
    ListResult,
    MemoryItem,
    Scope,
    SearchResult,
    UpdateResult,
)

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

INSTRUCTIONS = """\
Persistent memory for this user and agent. Call search_memories before answering anything \
that may depend on what you were told earlier (preferences, facts about the user, past \
decisions). Call add_memory when the user states a durable fact, preference or decision. \
Correct stale memories with update_memory, remove wrong ones with delete_memory. Memories \
are scoped by user_id / agent_id / run_id; omit them to use the default user."""

UserId = Annotated[
    str | None,
    Field(description="Whose memory: the end user's id. Omit for the configured default user."),
]
AgentId = Annotated[str | None, Field(description="The agent's id, to scope memories to an agent.")]
RunId = Annotated[
    str | None, Field(description="A session/conversation id, to scope memories to one run.")
]
MemoryId = Annotated[str, Field(description="The memory's id (a UUID from search or list).")]
Filters = Annotated[
    dict[str, Any] | None,
    Field(
        description='mem0 filter syntax over metadata and built-in fields, e.g. {"topic": "food"}, '
        '{"created_at": {"gte": "2026-01-01"}}, {"OR": [{"topic": "a"}, {"topic": "b"}]}. '
        'Operators: eq ne gt gte lt lte in nin contains icontains; "*" = field present.'
    ),
]
Metadata = Annotated[
    dict[str, Any] | None,
    Field(description='Extra JSON fields to store with the memory, e.g. {"topic": "food"}.'),
]


class ChatMessage(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: str
    name: str | None = Field(default=None, description="Speaker name; stored as actor_id.")


def _tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Engine errors become tool errors with the engine's message (which names the field
    and the fix); anything unexpected is logged and reported without internals."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except Mem0MCPError as exc:
            raise ToolError(str(exc)) from exc

    return wrapper


def build_server(memory: MemoryAPI, *, name: str = "mem0-mcp") -> MCPServer:
    """An ``MCPServer`` whose tools call ``memory``.

    On HTTP transports with ``auth_tokens``, the scope the caller's token is bound to
    overrides the scope arguments, and calls by ``memory_id`` see only that scope.
    """
    server = MCPServer(name, instructions=INSTRUCTIONS, version=__version__)
    config = memory.config
    max_limit = config.max_limit

    def bound(ctx: Context) -> Scope | None:
        return bound_scope(config, ctx.headers)

    @server.tool(
        title="Remember",
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True),
    )
    @_tool_errors
    async def add_memory(
        ctx: Context,
        text: Annotated[
            str | None, Field(description="The fact to remember. Give this or `messages`.")
        ] = None,
        messages: Annotated[
            list[ChatMessage] | None,
            Field(description="A conversation to remember instead of `text`."),
        ] = None,
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
        metadata: Metadata = None,
        infer: Annotated[
            bool | None,
            Field(
                description="Extract and reconcile facts with the configured LLM (default when "
                "one is configured); false stores the text verbatim."
            ),
        ] = None,
    ) -> AddResult | InputRequiredResult:
        """Store a memory. Returns one event per fact: ADD (new), UPDATE (replaced an older
        memory; previous_memory shows it), DELETE (a contradicted memory removed) or NONE
        (already known; id is the existing memory)."""
        if (text is None) == (messages is None):
            raise ToolError("give exactly one of `text` (a string) or `messages` (a list)")
        payload: Any = text if text is not None else [m.model_dump() for m in messages or []]

        ids = apply_scope(bound(ctx), user_id=user_id, agent_id=agent_id, run_id=run_id)

        async def add(llm: LLM | None = None) -> AddResult:
            return await memory.add(payload, metadata=metadata, infer=infer, llm=llm, **ids)

        if config.llm_provider == "sampling" and infer is not False:
            # The client's own model does extraction and reconciliation for this call.
            return await run_with_sampling(ctx, add, memory.config)
        return await add()

    @server.tool(
        title="Recall",
        annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    @_tool_errors
    async def search_memories(
        ctx: Context,
        query: Annotated[str, Field(description="What to recall, in natural language.")],
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
        filters: Filters = None,
        limit: Annotated[int, Field(ge=1, le=max_limit, description="Most results.")] = 10,
        threshold: Annotated[
            float | None,
            Field(
                ge=0,
                le=1,
                description="Drop results scoring below this (0-1). Scores are low by design: "
                "semantic similarity gives at most 0.3, shared rare words the rest, and a good "
                "match often scores 0.05-0.4. Usually leave unset and use `limit`.",
            ),
        ] = None,
    ) -> SearchResult:
        """Find the memories most relevant to a query, best first, within the scope."""
        ids = apply_scope(bound(ctx), user_id=user_id, agent_id=agent_id, run_id=run_id)
        return await memory.search(query, filters=filters, limit=limit, threshold=threshold, **ids)

    @server.tool(
        title="Correct a memory",
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True),
    )
    @_tool_errors
    async def update_memory(
        ctx: Context,
        memory_id: MemoryId,
        text: Annotated[str, Field(description="The corrected memory text.")],
        metadata: Metadata = None,
    ) -> UpdateResult:
        """Replace a memory's text (metadata too, if given). History keeps the old text."""
        return await memory.update(memory_id, text, metadata=metadata, scope=bound(ctx))

    @server.tool(
        title="Forget a memory",
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True),
    )
    @_tool_errors
    async def delete_memory(ctx: Context, memory_id: MemoryId) -> DeleteResult:
        """Delete one memory. Its history stays available through memory_history."""
        return await memory.delete(memory_id, scope=bound(ctx))

    @server.tool(
        title="Memory history",
        annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    @_tool_errors
    async def memory_history(ctx: Context, memory_id: MemoryId) -> HistoryResult:
        """Every change to a memory, oldest first (ADD, UPDATE, DELETE with old and new
        text); still available after the memory is deleted."""
        return await memory.history(memory_id, scope=bound(ctx))

    @server.tool(
        title="Get a memory",
        annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    @_tool_errors
    async def get_memory(ctx: Context, memory_id: MemoryId) -> MemoryItem:
        """One memory by id."""
        return await memory.get(memory_id, scope=bound(ctx))

    @server.tool(
        title="List memories",
        annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    @_tool_errors
    async def list_memories(
        ctx: Context,
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
        filters: Filters = None,
        limit: Annotated[int, Field(ge=1, le=max_limit, description="Page size.")] = 50,
        offset: Annotated[
            int, Field(ge=0, description="Skip this many (use next_offset from the last page).")
        ] = 0,
    ) -> ListResult:
        """Memories in the scope, newest first, one page at a time."""
        ids = apply_scope(bound(ctx), user_id=user_id, agent_id=agent_id, run_id=run_id)
        return await memory.get_all(filters=filters, limit=limit, offset=offset, **ids)

    @server.tool(
        title="Forget everything in a scope",
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True),
    )
    @_tool_errors
    async def delete_all_memories(
        ctx: Context,
        user_id: Annotated[str | None, Field(description="Delete this user's memories.")] = None,
        agent_id: Annotated[str | None, Field(description="Delete this agent's memories.")] = None,
        run_id: Annotated[str | None, Field(description="Delete this run's memories.")] = None,
    ) -> DeleteAllResult:
        """Delete every memory matching the given ids (at least one is required; the
        default user is never implied). History is kept."""
        ids = apply_scope(bound(ctx), user_id=user_id, agent_id=agent_id, run_id=run_id)
        return await memory.delete_all(**ids)

    return server
