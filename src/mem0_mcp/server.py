"""The MCP face: the tools of ``tools.py`` served by an ``MCPServer``, nothing more.

Per call: validate the arguments (strictly; errors in the project's words, see
``argument_errors``), take the caller's identity resolved once per request by
``auth.IdentityMiddleware`` (stdio: the local user), run the tool's engine call, and
return the result as structured content plus compact JSON text (``output``). Engine
errors become tool errors (``isError: true``) carrying the engine's message, which names
the field and the fix; anything unexpected is logged and reported without internals. No
memory logic lives here.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.stdio import stdio_server
from mcp_types import CallToolResult, InputRequiredResult
from mcp_types import Tool as MCPTool
from pydantic import ValidationError

from . import __version__
from .api import MemoryAPI
from .argument_errors import explain
from .auth import identity_of
from .config import MemoryConfig
from .errors import Mem0MCPError
from .output import tool_result
from .stdio import claimed_stdio
from .tools import INSTRUCTIONS, Call, input_schema, offered, output_schema, preparse

log = logging.getLogger(__name__)


class MemoryServer(MCPServer):
    """An ``MCPServer`` whose tools are ``tools.offered(config)``, run on ``memory``.

    ``memory``: the engine API (``api.MemoryAPI``: ``AsyncMemory``, or ``owner.SharedMemory``
    forwarding to the process that owns the store); ``config`` defaults to ``memory.config``.
    """

    def __init__(
        self, memory: MemoryAPI, config: MemoryConfig | None = None, *, name: str = "mem0-mcp"
    ):
        super().__init__(name, instructions=INSTRUCTIONS, version=__version__)
        self.memory = memory
        self.config = config or memory.config
        self._specs = {spec.name: spec for spec in offered(self.config)}
        # Computed once: tools/list is asked for at every connection.
        self._listed = [
            MCPTool(
                name=spec.name,
                title=spec.title,
                description=spec.description,
                input_schema=input_schema(spec, self.config),
                output_schema=output_schema(spec),
                annotations=spec.annotations,
            )
            for spec in self._specs.values()
        ]
        self._schemas = {t.name: t.input_schema for t in self._listed}

    async def run_stdio_async(self) -> None:
        """Serve over stdin / stdout with ``max_request_bytes`` per line (``stdio.py``)."""
        async with claimed_stdio(self.config.max_request_bytes) as wire:
            async with stdio_server(stdin=wire, stdout=wire) as (read, write):  # type: ignore[arg-type]
                lowlevel = self._lowlevel_server
                await lowlevel.run(read, write, lowlevel.create_initialization_options())

    async def list_tools(self) -> list[MCPTool]:
        return list(self._listed)

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        return self._schemas.get(name)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Run tool ``name``. Raises ``ToolError`` (returned to the client as a tool error)
        for an unknown tool, invalid arguments, an engine error or an internal failure."""
        spec = self._specs.get(name)
        if spec is None:
            raise ToolError(f"unknown tool {name!r}; the tools are {', '.join(self._specs)}")
        try:
            args = spec.arguments.model_validate(preparse(arguments, spec.arguments))
        except ValidationError as exc:
            raise ToolError(explain(exc, spec.arguments, f"an argument of {name}")) from exc
        try:
            request = context.request_context.request if context is not None else None
            call = Call(self.memory, self.config, identity_of(request, self.config), context)
            result = await spec.handler(call, args)
        except Mem0MCPError as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:
            log.exception("tool %s failed", name)
            raise ToolError(
                f"{name} failed with an internal error ({type(exc).__name__}); a write is "
                "applied completely or not at all, so search or list to see which. The server "
                "log has the details"
            ) from exc
        if isinstance(result, InputRequiredResult):
            return result
        return tool_result(result, self.config.tool_output)


def build_server(memory: MemoryAPI, *, name: str = "mem0-mcp") -> MemoryServer:
    """The MCP server for ``memory`` (the engine API), configured by ``memory.config``."""
    return MemoryServer(memory, name=name)
