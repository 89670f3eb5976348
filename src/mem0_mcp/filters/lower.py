"""Lowering a filter tree onto a backend: the meaning of every operator, decided once.

A backend supplies a ``NativeFilterBuilder`` (the few native conditions its engine has) and
``translate`` composes them, so both backends agree by construction. The engine-specific
builders live beside their engines in ``mem0_mcp.vector_stores`` (this package never imports
an engine library).
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict, TypeVar, Unpack

from .shadow import shadow_path
from .tree import And, Condition, Filter, Not, Or

T = TypeVar("T")


class Bounds(TypedDict, total=False):
    """The bounds of a ``range`` condition (numbers; absent means unbounded)."""

    gt: float
    gte: float
    lt: float
    lte: float


class NativeFilterBuilder(Protocol[T]):
    """What a backend provides to build its native filter; ``translate`` decides the rest.

    Every method returns one native condition or filter node. ``all_of`` / ``any_of`` /
    ``none_of`` receive at least one item.
    """

    def match_keyword(self, key: str, value: str) -> T: ...
    def match_any(self, key: str, values: list[str]) -> T: ...
    def match_bool(self, key: str, value: bool) -> T: ...
    def range(self, key: str, **bounds: Unpack[Bounds]) -> T: ...
    def substring(self, key: str, text: str) -> T: ...
    def is_empty(self, key: str) -> T: ...
    def has_id(self, ids: list[str]) -> T: ...
    def all_of(self, items: list[T]) -> T: ...
    def any_of(self, items: list[T]) -> T: ...
    def none_of(self, items: list[T]) -> T: ...


def translate(flt: Filter, builder: NativeFilterBuilder[T]) -> T:
    """``flt`` as the backend's native filter (always a filter node, never a bare condition).

    Raises ``ValueError`` for a malformed tree (an unknown op or a value of the wrong type),
    which only code building trees by hand can produce; ``parse_filters`` output is valid.
    """
    node = _lower(flt, builder)
    # And / Or / Not already lower to filter nodes; a lone condition needs wrapping.
    return node if isinstance(flt, And | Or | Not) else builder.all_of([node])


def _lower(flt: Filter, b: NativeFilterBuilder[T]) -> T:
    if isinstance(flt, And):
        return b.all_of([_lower(i, b) for i in flt.items])
    if isinstance(flt, Or):
        return b.any_of([_lower(i, b) for i in flt.items])
    if isinstance(flt, Not):
        return b.none_of([_lower(flt.item, b)])
    if isinstance(flt, Condition):
        return _lower_condition(flt, b)
    raise ValueError(f"not a filter node: {flt!r}")


def _lower_condition(c: Condition, b: NativeFilterBuilder[T]) -> T:
    key, op, value = c.key, c.op, c.value
    if key == "id":
        if op in ("eq", "ne"):
            found = b.has_id([str(value)])
        elif op in ("in", "nin"):
            found = b.has_id([str(v) for v in value])
        else:
            raise ValueError(f"operator {op!r} does not apply to point ids")
        return b.none_of([found]) if op in ("ne", "nin") else found
    if op == "exists":
        return b.none_of([b.is_empty(key)])
    if op in ("eq", "ne"):
        found = _equals(key, value, b)
        return b.none_of([found]) if op == "ne" else found
    if op in ("in", "nin"):
        found = _one_of(key, list(value), b)
        return b.none_of([found]) if op == "nin" else found
    if op in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{op} needs a number, got {value!r}")
        return b.range(key, **{op: float(value)})
    if op == "contains":
        return b.substring(key, str(value))
    if op == "icontains":
        if key != "data" and not key.startswith("metadata."):
            raise ValueError(f"icontains applies to 'data' and metadata keys, not {key!r}")
        return b.substring(shadow_path(key), str(value).casefold())
    raise ValueError(f"unknown operator {op!r}")


def _equals(key: str, value: Any, b: NativeFilterBuilder[T]) -> T:
    if isinstance(value, bool):
        return b.match_bool(key, value)
    if isinstance(value, int | float):
        # A range, not an exact match: Qdrant's exact match never matches a float payload
        # (and 1 must equal 1.0, as in JSON).
        return b.range(key, gte=float(value), lte=float(value))
    if isinstance(value, str):
        return b.match_keyword(key, value)
    raise ValueError(f"cannot compare {key!r} with {value!r}")


def _one_of(key: str, values: list[Any], b: NativeFilterBuilder[T]) -> T:
    strings = [v for v in values if isinstance(v, str)]
    parts = [b.match_any(key, strings)] if strings else []
    parts += [_equals(key, v, b) for v in values if not isinstance(v, str)]
    return parts[0] if len(parts) == 1 else b.any_of(parts)
