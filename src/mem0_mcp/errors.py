"""Errors raised by the engine.

Every error carries a message written for the caller (an agent or a person): it says
what was wrong and how to fix it. The MCP server turns each into a tool error
(``isError: true``) and keeps serving.

    Mem0MCPError
    ├── InvalidInputError (+ ValueError)  an argument is wrong; nothing written
    ├── NotFoundError (+ LookupError)     no such memory in the caller's scope
    ├── ConflictError                     another call changed it first; nothing applied
    ├── ConfigError                       the settings cannot work
    ├── LLMError                          the LLM provider failed; nothing applied
    ├── StoreUnavailableError             store closed or unreachable; nothing applied
    ├── OutcomeUnknownError               owner exited mid-write: applied wholly or not at all
    ├── PermissionDeniedError (+ PermissionError)  a scope outside the caller's binding
    └── transfer.TransferError            an export / import file cannot be used

Each class keeps its constructor's arguments as attributes of the same name (or takes
just the message), so an error raised in the process that owns the store is raised again,
same type and same message, in the process that forwarded the call (``_wire.py``).
"""

from __future__ import annotations


class Mem0MCPError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInputError(Mem0MCPError, ValueError):
    """An argument is malformed, out of range or missing.

    ``field`` names the offending argument (e.g. ``"text"``, ``"filters.created_at"``);
    ``message`` says what was wrong with it and how to fix it.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class NotFoundError(Mem0MCPError, LookupError):
    """No memory with the given id exists (in the caller's scope)."""

    def __init__(self, memory_id: str) -> None:
        self.memory_id = memory_id
        super().__init__(
            f"memory_id: no memory with id {memory_id!r} exists in your scope; "
            "use search_memories or list_memories to find the right id"
        )


class ConflictError(Mem0MCPError):
    """A memory this call planned to change was changed or deleted by another call first
    (checked under the write lock that orders all writes); nothing of this call was applied."""

    def __init__(self, memory_id: str) -> None:
        self.memory_id = memory_id
        super().__init__(
            f"memory {memory_id!r} was changed or deleted by another call while this one was "
            "being prepared, so nothing was applied; look at it again (get_memory or "
            "search_memories) and retry"
        )


class ConfigError(Mem0MCPError):
    """The configuration cannot work (bad value, store/model mismatch, missing model)."""


class LLMError(Mem0MCPError):
    """The configured LLM provider failed after retries, or its output could not be validated."""

    def __init__(self, provider: str, cause: str) -> None:
        self.provider = provider
        self.cause = cause
        super().__init__(f"LLM provider {provider!r} failed: {cause}")


class StoreUnavailableError(Mem0MCPError):
    """The store's owner process could not be reached or started."""


class PermissionDeniedError(Mem0MCPError, PermissionError):
    """The call names a scope outside the one its credential is bound to.

    ``field`` names the offending argument (``user_id``, ``agent_id`` or ``run_id``).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class OutcomeUnknownError(Mem0MCPError):
    """The process that owns the store exited while handling a write forwarded to it.

    The write was applied completely or not at all (the journal guarantees that), but
    which is unknown here: it is never repeated on the caller's behalf. Not a
    ``StoreUnavailableError``, whose calls are safe to simply retry.
    """
