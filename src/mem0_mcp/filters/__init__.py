"""mem0 filter syntax → a small backend-neutral filter tree → each backend's native filter.

The tree (``Condition`` / ``And`` / ``Or`` / ``Not``) uses payload paths as keys, so
each vector-store backend translates it one to one into its native filter.

One job per module:

* ``tree``: the node types and ``all_of``.
* ``parse``: ``parse_filters`` turns what a caller wrote (mem0's syntax) into the tree,
  validating every key, operator and value, and raising ``InvalidInputError`` naming the key.
* ``shadow``: ``lowercase_shadow`` builds the ``_lc`` payload object the backends match
  case-insensitive (and boolean) conditions against.
* ``lower``: ``translate`` lowers a tree onto a backend through a ``NativeFilterBuilder``,
  so the meaning of every operator is decided here once and both backends agree.

Semantics (the same on every backend, all evaluated natively by the engine):

* ``eq`` on a string is exact (case-sensitive); on a number it is numeric equality (``1``
  matches ``1`` and ``1.0``); on a boolean it matches only JSON booleans. Against a list
  value, ``eq`` / ``in`` / ``contains`` match when any element matches.
* ``ne`` / ``nin`` are the negation of ``eq`` / ``in``: a memory without the key matches.
* ``contains`` is a case-sensitive substring test, ``icontains`` a case-insensitive one
  (Unicode case folding), on the memory text or string metadata.
* ``"*"`` means the key is present and not null (and not an empty list).
"""

from __future__ import annotations

from .lower import Bounds, NativeFilterBuilder, translate
from .parse import (
    COMPARISON_OPS,
    LOGICAL,
    OPERATORS,
    SCOPE_KEYS,
    WILDCARD,
    check_number,
    parse_filters,
)
from .shadow import SHADOW_KEY, lowercase_shadow, shadow_path
from .tree import And, Condition, Filter, Not, Op, Or, all_of

__all__ = [
    "COMPARISON_OPS",
    "LOGICAL",
    "OPERATORS",
    "SCOPE_KEYS",
    "SHADOW_KEY",
    "WILDCARD",
    "And",
    "Bounds",
    "Condition",
    "Filter",
    "NativeFilterBuilder",
    "Not",
    "Op",
    "Or",
    "all_of",
    "check_number",
    "lowercase_shadow",
    "parse_filters",
    "shadow_path",
    "translate",
]
