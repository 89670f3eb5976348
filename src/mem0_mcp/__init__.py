"""mem0-mcp: persistent, scoped memory for AI agents, as an MCP server and a Python library.

from mem0_mcp import AsyncMemory, MemoryConfig
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["AsyncMemory", "MemoryConfig", "__version__"]

if TYPE_CHECKING:
    from .config import MemoryConfig
    from .memory import AsyncMemory


def __getattr__(name: str) -> Any:
    # Lazy: `python -m mem0_mcp` must not pay for the engine's imports before it needs them.
    if name == "AsyncMemory":
        from .memory import AsyncMemory

        return AsyncMemory
    if name == "MemoryConfig":
        from .config import MemoryConfig

        return MemoryConfig
    raise AttributeError(name)
