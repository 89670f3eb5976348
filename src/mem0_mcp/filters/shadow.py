"""The ``_lc`` shadow: lower-cased (and boolean) copies of a payload for filters to match.

``icontains`` and boolean conditions are lowered onto paths under ``_lc`` (``shadow_path``);
the vector stores write the object (``lowercase_shadow``) on every upsert and leave it out
of what they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SHADOW_KEY = "_lc"


def lowercase_shadow(data: str, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``_lc`` payload object: what case-insensitive and boolean filters match against.

    Shape: ``{"data": <data case-folded>, "metadata": <metadata mirrored>}`` where the
    metadata mirror keeps the same nesting and holds

    * every string, case-folded (``str.casefold``: a stronger ``lower()``, so ``"Straße"``
      and ``"STRASSE"`` meet), also inside lists;
    * every boolean as the integer ``1`` / ``0``.

    Other values (numbers, nulls, objects inside lists) are left out, and so are objects
    that end up empty. ``icontains`` on ``metadata.k`` becomes a substring match of the
    case-folded needle on ``_lc.metadata.k`` (and on ``_lc.data`` for the memory text).
    Booleans are mirrored because Qdrant Edge cannot match a JSON boolean: its
    ``MatchValue(True)`` is turned into the integer 1 on the way in. Since the mirror holds
    no real integers, ``1`` there can only come from ``true``. The vector stores write
    this object themselves on every upsert, so it never goes stale.
    """
    return {"data": data.casefold(), "metadata": _shadow_object(metadata or {})}


def _shadow_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        mirrored = _shadow_value(value)
        if mirrored is not None:
            out[key] = mirrored
    return out


def _shadow_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, Mapping):
        return _shadow_object(value) or None
    if isinstance(value, list | tuple):
        kept = [_shadow_scalar(v) for v in value if isinstance(v, str | bool)]
        return kept or None
    return None


def _shadow_scalar(value: str | bool) -> str | int:
    return int(value) if isinstance(value, bool) else value.casefold()


def shadow_path(key: str) -> str:
    """The ``_lc`` path mirroring payload path ``key`` (``"data"`` or ``"metadata.…"``)."""
    return f"{SHADOW_KEY}.{key}"
