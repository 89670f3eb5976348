"""Tool-argument validation errors in the project's own words.

pydantic's messages ("Input should be a valid integer [type=int_parsing, ...] For further
information visit https://errors.pydantic.dev/...") are written for Python developers.
An agent needs the field, what was wrong and how to fix it — and, for a misspelt key, the
name it meant: ``userid: not an argument of search_memories; did you mean user_id? ...``.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

# How much of a rejected value is echoed back (values are the caller's own data).
_ECHO_CHARS = 40
_MOST_ERRORS = 5

_TYPE_MESSAGES = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a JSON object",
    "list_type": "must be a list",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "missing": "is required",
}


def explain(
    error: ValidationError, model: type[BaseModel], subject: str, *, list_valid: bool = True
) -> str:
    """One line per problem (at most five), e.g.
    ``limit: must be an integer (got 'ten')`` or
    ``userid: not an argument of search_memories; did you mean user_id? (valid: query, ...)``.

    ``subject`` names what an unknown top-level key is not (``"an argument of
    search_memories"``, ``"a setting"``); ``list_valid`` appends the valid names.
    """
    lines = [_line(item, model, subject, list_valid) for item in error.errors(include_url=False)]
    more = len(lines) - _MOST_ERRORS
    return "\n".join(lines[:_MOST_ERRORS]) + (f"\n(and {more} more)" if more > 0 else "")


def _line(item: Any, model: type[BaseModel], subject: str, list_valid: bool) -> str:
    loc = tuple(item["loc"])
    where = _path(loc)
    kind = item["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        valid = list(owner.model_fields) if owner else []
        name = str(loc[-1])
        hint = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
        what = subject if len(loc) == 1 else f"a field of {_path(loc[:-1])}"
        return (
            f"{where}: not {what}"
            + (f"; did you mean {hint[0]}?" if hint else "")
            + (f" (valid: {', '.join(valid)})" if list_valid else "")
        )
    if kind == "value_error":  # a model validator's own message
        message = str(item["msg"]).removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    ctx = item.get("ctx") or {}
    if kind == "literal_error":
        message = f"must be one of {ctx.get('expected', '?')}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "?")
        sign = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<="}
        message = f"must be {sign.get(kind, '<')} {bound}"
    else:
        message = _TYPE_MESSAGES.get(kind) or _lower_first(str(item["msg"]))
    if kind != "missing" and "input" in item:
        message += f" (got {_echo(item['input'])})"
    return f"{where}: {message}"


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose fields the location ``loc`` (list indexes skipped) points into."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(str(part))
        current = _find_model(field.annotation) if field else None
    return current


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _echo(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _ECHO_CHARS else text[: _ECHO_CHARS - 1] + "…"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
