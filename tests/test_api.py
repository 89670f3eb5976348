"""The engine's interface is written down once (``MemoryAPI``), and both implementations —
the engine itself and the serve process's forwarder — follow it exactly, so they cannot
drift apart across the process boundary. Errors cross that boundary unchanged."""

from __future__ import annotations

import inspect
import json

import pytest

from mem0_mcp import _wire, errors
from mem0_mcp.api import MemoryAPI
from mem0_mcp.config import MemoryConfig
from mem0_mcp.memory import AsyncMemory
from mem0_mcp.owner import SharedMemory
from mem0_mcp.transfer import TransferError

IMPLEMENTATIONS = [AsyncMemory, SharedMemory]
CALLS = [
    name
    for name, member in vars(MemoryAPI).items()
    if inspect.iscoroutinefunction(member) and not name.startswith("_")
]


def _signature(cls: type, name: str) -> inspect.Signature:
    return inspect.signature(getattr(cls, name), eval_str=True)


def test_the_interface_has_every_engine_call() -> None:
    assert sorted(CALLS) == sorted(
        [
            "add",
            "search",
            "get",
            "get_all",
            "update",
            "delete",
            "delete_all",
            "history",
            "scopes",
            "reset",
            "export_to",
            "import_from",
        ]
    )


@pytest.mark.parametrize("cls", IMPLEMENTATIONS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", CALLS)
def test_each_implementation_has_the_interfaces_exact_signature(cls: type, name: str) -> None:
    # Names, kinds (positional / keyword-only), defaults and resolved annotations, in order.
    assert _signature(cls, name) == _signature(MemoryAPI, name)
    assert inspect.iscoroutinefunction(getattr(cls, name))


@pytest.mark.parametrize("cls", IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_each_implementation_offers_nothing_public_the_interface_lacks(cls: type) -> None:
    lifecycle = {"start", "open", "close", "is_owner"}
    offered = {
        name
        for name, member in vars(cls).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }
    assert offered - lifecycle <= set(vars(MemoryAPI)), offered - lifecycle


@pytest.mark.parametrize("cls", IMPLEMENTATIONS, ids=lambda c: c.__name__)
def test_each_implementation_is_a_memory_api(cls: type, tmp_path) -> None:
    instance = cls(MemoryConfig(data_dir=tmp_path))
    assert isinstance(instance, MemoryAPI)
    assert instance.config.data_dir == tmp_path
    assert instance.is_ready is False  # nothing opened yet


def test_the_engine_has_no_alias_the_forwarder_lacks() -> None:
    assert not hasattr(AsyncMemory, "list")


def _every_error_class() -> list[type[errors.Mem0MCPError]]:
    found, todo = [], [errors.Mem0MCPError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_class_is_covered_below() -> None:
    assert {c.__name__ for c in _every_error_class()} >= {
        "Mem0MCPError",
        "InvalidInputError",
        "NotFoundError",
        "ConflictError",
        "ConfigError",
        "LLMError",
        "StoreUnavailableError",
        "OutcomeUnknownError",
        TransferError.__name__,
    }


@pytest.mark.parametrize("cls", _every_error_class(), ids=lambda c: c.__name__)
def test_an_error_crosses_the_owner_channel_as_the_same_type_message_and_fields(
    cls: type[errors.Mem0MCPError],
) -> None:
    names = _wire._arguments(cls)
    original = cls(**{n: f"{n} value ✓" for n in names}) if names else cls("what went wrong ✓")
    wire = json.loads(_wire.dumps(_wire.encode_error(original)))
    again = _wire.decode_error(wire)
    assert type(again) is cls
    assert str(again) == str(original)
    assert {n: getattr(again, n) for n in names} == {n: getattr(original, n) for n in names}


def test_an_unknown_error_type_arrives_as_the_base_error_with_its_message() -> None:
    again = _wire.decode_error({"type": "SomethingNew", "message": "it broke", "args": {}})
    assert type(again) is errors.Mem0MCPError and str(again) == "it broke"


def test_outcome_unknown_is_not_a_store_unavailable_error_so_it_is_never_blindly_retried() -> None:
    assert not issubclass(errors.OutcomeUnknownError, errors.StoreUnavailableError)
    assert issubclass(errors.OutcomeUnknownError, errors.Mem0MCPError)
