"""mem0 filter syntax → a filter tree (``tree``), validating every key, operator and value.

Errors are ``InvalidInputError`` naming the key (field ``filters.<path>``) and the fix.
``check_number`` is the one rule for numbers the vector store can keep exactly; metadata
validation uses it too.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from ..errors import InvalidInputError
from .tree import And, Condition, Filter, Not, Or, all_of

COMPARISON_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
OPERATORS = (*COMPARISON_OPS, "in", "nin", "contains", "icontains")
LOGICAL = ("AND", "OR", "NOT")
WILDCARD = "*"

SCOPE_KEYS = ("user_id", "agent_id", "run_id", "actor_id", "role", "hash")
_TEXT_KEYS = {"memory": "data", "data": "data"}
_TIME_KEYS = {"created_at": "created_ts", "updated_at": "updated_ts"}
_ID_KEYS = ("id", "memory_id")

# A metadata path segment Qdrant's JSON path accepts bare; anything else gets quoted.
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
# Epoch seconds beyond this (year 5138) are almost surely milliseconds.
_MAX_EPOCH = 1e11


def parse_filters(filters: Mapping[str, Any], *, max_depth: int = 8) -> Filter:
    """Translate mem0 filter syntax into a ``Filter`` tree.

    Syntax (JSON object):

    * ``{"key": value}`` → ``key`` equals ``value``; ``{"key": [a, b]}`` → ``key`` in the list;
      ``{"key": "*"}`` → ``key`` is present and not null.
    * ``{"key": {"op": value, ...}}`` with ops ``eq ne gt gte lt lte in nin contains
      icontains``; several ops on one key must all hold (``{"gte": 1, "lt": 5}``).
    * ``{"AND": [f, ...]}``, ``{"OR": [f, ...]}``, ``{"NOT": [f, ...]}`` (none of them; a
      single object is accepted too), nested up to ``max_depth`` levels.
    * Several keys in one object must all hold.

    Keys: ``user_id agent_id run_id actor_id role hash`` are the stored fields;
    ``memory`` / ``data`` the memory text; ``created_at`` / ``updated_at`` take ISO 8601
    dates or datetimes (a bare date means that whole UTC day, a naive time is UTC) or epoch
    seconds, with ``eq ne gt gte lt lte`` only; ``id`` / ``memory_id`` take UUID strings
    with ``eq ne in nin``. Any other key is a metadata key; dots reach into nested metadata
    (``"address.city"``) and a leading ``"metadata."`` is optional.

    Raises ``InvalidInputError`` (field ``filters.<path>``) naming the key and the fix.
    """
    if not isinstance(filters, Mapping):
        raise InvalidInputError(
            "filters",
            f'must be a JSON object such as {{"topic": "work"}}, not {_kind(filters)}',
        )
    if not filters:
        raise InvalidInputError("filters", "is empty; omit it or give at least one condition")
    return _parse_object(filters, path="", depth=0, max_depth=max_depth)


def _parse_object(obj: Mapping[str, Any], *, path: str, depth: int, max_depth: int) -> Filter:
    parts: list[Filter] = []
    for key, value in obj.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidInputError(_field(path), f"keys must be non-empty strings, got {key!r}")
        here = _join(path, key)
        if key in LOGICAL:
            parts.append(_parse_logical(key, value, path=here, depth=depth, max_depth=max_depth))
        elif key.upper() in LOGICAL or key.lower() in ("$and", "$or", "$not"):
            raise InvalidInputError(
                _field(here), f"write the logical operator in capitals: {key.upper().lstrip('$')!r}"
            )
        else:
            parts.append(_parse_key(key, value, path=here))
    result = all_of(*parts)
    assert result is not None  # obj is non-empty
    return result


def _parse_logical(op: str, value: Any, *, path: str, depth: int, max_depth: int) -> Filter:
    if depth + 1 > max_depth:
        raise InvalidInputError(
            _field(path),
            f"filters are nested more than {max_depth} levels deep; flatten the AND/OR/NOT tree",
        )
    items: Sequence[Any]
    if op == "NOT" and isinstance(value, Mapping):
        items = [value]
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise InvalidInputError(
            _field(path),
            f'{op} takes a list of filter objects, e.g. {{"{op}": [{{...}}, {{...}}]}}',
        )
    if not items:
        raise InvalidInputError(_field(path), f"{op} needs at least one filter object")
    parsed: list[Filter] = []
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]"
        if not isinstance(item, Mapping) or not item:
            raise InvalidInputError(
                _field(item_path),
                f"each {op} item must be a non-empty filter object, not {_kind(item)}",
            )
        parsed.append(_parse_object(item, path=item_path, depth=depth + 1, max_depth=max_depth))
    if op == "AND":
        return parsed[0] if len(parsed) == 1 else And(tuple(parsed))
    either = parsed[0] if len(parsed) == 1 else Or(tuple(parsed))
    return either if op == "OR" else Not(either)


def _parse_key(key: str, value: Any, *, path: str) -> Filter:
    field = _field(path)
    target = _resolve_key(key, field)
    if isinstance(value, Mapping):
        if not value:
            raise InvalidInputError(
                field, f"empty operator object; use one of {', '.join(OPERATORS)}"
            )
        unknown = [k for k in value if k not in OPERATORS]
        if unknown:
            if len(unknown) == len(value) and target.kind == "metadata":
                raise InvalidInputError(
                    field,
                    f"unknown operator {unknown[0]!r}; use one of {', '.join(OPERATORS)} "
                    f"(to reach nested metadata, write the dotted key "
                    f"{key + '.' + str(unknown[0])!r})",
                )
            raise InvalidInputError(
                field, f"unknown operator {unknown[0]!r}; use one of {', '.join(OPERATORS)}"
            )
        conditions = [target.condition(op, v, field) for op, v in value.items()]
        result = all_of(*conditions)
        assert result is not None
        return result
    if isinstance(value, str) and value == WILDCARD:
        return target.exists(field)
    if isinstance(value, list | tuple):
        return target.condition("in", value, field)
    return target.condition("eq", value, field)


@dataclass(frozen=True, slots=True)
class _Target:
    """A resolved filter key: its payload path and which operators/values it accepts."""

    path: str
    kind: Literal["scope", "text", "time", "id", "metadata"]
    name: str  # as the caller wrote it, for messages

    def exists(self, field: str) -> Filter:
        if self.kind == "id":
            raise InvalidInputError(field, f"{self.name!r} is always present; '*' does not apply")
        return Condition(self.path, "exists")

    def condition(self, op: str, value: Any, field: str) -> Filter:
        allowed = _ALLOWED_OPS[self.kind]
        if op not in allowed:
            raise InvalidInputError(
                field,
                f"operator {op!r} does not apply to {self.name!r}; use one of {', '.join(allowed)}",
            )
        if self.kind == "time":
            return _time_condition(self.path, op, value, field)
        if self.kind == "id":
            return _id_condition(op, value, field)
        if op in ("in", "nin"):
            items = _scalar_list(op, value, field)
            if self.kind != "metadata":
                for item in items:
                    _require_str(op, item, field, self.name)
            return Condition(self.path, op, tuple(items))  # type: ignore[arg-type]
        if op in ("contains", "icontains"):
            if not isinstance(value, str) or not value:
                raise InvalidInputError(field, f"{op} needs a non-empty string, got {_kind(value)}")
            return Condition(self.path, op, value)  # type: ignore[arg-type]
        if op in ("gt", "gte", "lt", "lte"):
            if self.kind != "metadata":
                raise InvalidInputError(
                    field, f"{op} does not apply to the text field {self.name!r}"
                )
            return Condition(self.path, op, _number(op, value, field))  # type: ignore[arg-type]
        # eq / ne
        scalar = _scalar(op, value, field)
        if self.kind != "metadata":
            _require_str(op, scalar, field, self.name)
        return Condition(self.path, op, scalar)  # type: ignore[arg-type]


_ALLOWED_OPS: dict[str, tuple[str, ...]] = {
    "scope": ("eq", "ne", "in", "nin", "contains"),
    "text": ("eq", "ne", "in", "nin", "contains", "icontains"),
    "time": COMPARISON_OPS,
    "id": ("eq", "ne", "in", "nin"),
    "metadata": OPERATORS,
}


def _resolve_key(key: str, field: str) -> _Target:
    if key in SCOPE_KEYS:
        return _Target(key, "scope", key)
    if key in _TEXT_KEYS:
        return _Target(_TEXT_KEYS[key], "text", key)
    if key in _TIME_KEYS:
        return _Target(_TIME_KEYS[key], "time", key)
    if key in _ID_KEYS:
        return _Target("id", "id", key)
    name = key[len("metadata.") :] if key.startswith("metadata.") else key
    segments = name.split(".")
    for segment in segments:
        if not segment or '"' in segment or "[" in segment or "]" in segment:
            raise InvalidInputError(
                field,
                f"bad metadata key {key!r}: dots separate nested keys, so no segment may be "
                "empty, and keys may not contain '\"', '[' or ']'",
            )
    quoted = [s if _PLAIN_SEGMENT.match(s) else f'"{s}"' for s in segments]
    return _Target("metadata." + ".".join(quoted), "metadata", key)


def _time_condition(path: str, op: str, value: Any, field: str) -> Filter:
    start, end = _instant(value, field)
    if end is None:  # a point in time
        return Condition(path, op, start)  # type: ignore[arg-type]
    # A bare date names a whole UTC day [start, end).
    day = And((Condition(path, "gte", start), Condition(path, "lt", end)))
    by_op: dict[str, Filter] = {
        "eq": day,
        "ne": Not(day),
        "gt": Condition(path, "gte", end),
        "gte": Condition(path, "gte", start),
        "lt": Condition(path, "lt", start),
        "lte": Condition(path, "lt", end),
    }
    return by_op[op]


def _instant(value: Any, field: str) -> tuple[float, float | None]:
    """Epoch seconds for a time value; with the end of the day too when it is a bare date."""
    hint = (
        "give an ISO 8601 date ('2025-01-31'), datetime ('2025-01-31T09:30:00Z') or epoch seconds"
    )
    if isinstance(value, bool):
        raise InvalidInputError(field, f"expected a date or time, got a boolean; {hint}")
    if isinstance(value, int | float):
        if abs(value) > _MAX_EPOCH or not math.isfinite(value):
            raise InvalidInputError(
                field, f"{value!r} is not a plausible epoch time in seconds (milliseconds?); {hint}"
            )
        return float(value), None
    if not isinstance(value, str):
        raise InvalidInputError(field, f"expected a date or time, got {_kind(value)}; {hint}")
    text = value.strip()
    bare_date = re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        what = f"a valid date ({exc})" if bare_date else "an ISO 8601 date or datetime"
        raise InvalidInputError(field, f"{value!r} is not {what}; {hint}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not bare_date:
        return moment.timestamp(), None
    if moment.date() == date.max:  # the day's end would be past what datetime can hold
        raise InvalidInputError(
            field,
            f"the whole day {value!r} ends past year 9999; give a datetime such as "
            "'9999-12-31T00:00:00Z' instead",
        )
    return moment.timestamp(), (moment + timedelta(days=1)).timestamp()


def _id_condition(op: str, value: Any, field: str) -> Filter:
    values = _scalar_list(op, value, field) if op in ("in", "nin") else [value]
    ids = tuple(_uuid(v, field) for v in values)
    if op in ("eq", "ne"):
        return Condition("id", op, ids[0])  # type: ignore[arg-type]
    return Condition("id", op, ids)  # type: ignore[arg-type]


def _uuid(value: Any, field: str) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInputError(
            field,
            f"memory ids are UUID strings, got {value!r}; take ids from search or list results",
        ) from None


def check_number(value: int | float, field: str) -> None:
    """Raise ``InvalidInputError`` for a number the vector store cannot keep exactly: NaN or
    infinity, or an integer outside the signed 64-bit range (Qdrant's integer payload
    type; a larger one would be turned into an inexact float, or not stored at all)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(field, f"needs a finite number, got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise InvalidInputError(
            field,
            "integers must fit in 64 bits (±9.2e18); store a larger one as a string",
        )


def _scalar(op: str, value: Any, field: str) -> str | int | float | bool:
    if value is None:
        raise InvalidInputError(
            field,
            f"{op} needs a value; to find memories without this key use "
            '{"NOT": [{"<key>": "*"}]}',
        )
    if isinstance(value, str | bool):
        return value
    if isinstance(value, int | float):
        check_number(value, field)
        return value
    hint = " (use 'in' for a list of values)" if isinstance(value, list | tuple) else ""
    raise InvalidInputError(
        field, f"{op} needs a string, number or boolean, got {_kind(value)}{hint}"
    )


def _scalar_list(op: str, value: Any, field: str) -> list[str | int | float | bool]:
    if not isinstance(value, list | tuple):
        raise InvalidInputError(
            field, f'{op} needs a list of values, e.g. ["a", "b"], got {_kind(value)}'
        )
    if not value:
        raise InvalidInputError(field, f"{op} needs a non-empty list")
    return [_scalar(op, v, field) for v in value]


def _number(op: str, value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            field,
            f"{op} compares numbers, got {_kind(value)}; store numeric metadata as numbers "
            "(dates as epoch seconds) to range-filter it",
        )
    check_number(value, field)
    return value


def _require_str(op: str, value: Any, field: str, name: str) -> None:
    if not isinstance(value, str):
        raise InvalidInputError(field, f"{op} on {name!r} needs a string, got {_kind(value)}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _field(path: str) -> str:
    return f"filters.{path}" if path else "filters"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
