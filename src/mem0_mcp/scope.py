"""Scope: whose memory it is (``user_id`` / ``agent_id`` / ``run_id``), and the rules for it.

* A stored memory carries at least one id; ids it does not carry are ``None``.
* A memory is *within* a scope when it carries every id the scope sets (ids the scope
  leaves out are unconstrained): ``user_id="alice"`` contains alice's agent- and
  run-scoped memories too.
* A scope *bound* by authentication (a bearer token bound to ``user_id="alice"``) is
  applied to every call: ids the call omits are taken from the binding, ids it names must
  equal the binding's, and naming another is a ``PermissionDeniedError`` — never a silent
  redirect to the bound scope (a misspelt or hostile id must not act on anyone's
  memories without the caller noticing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypedDict

from pydantic import BaseModel, ConfigDict

from .errors import PermissionDeniedError
from .filters import Condition, Filter, Not, all_of

SCOPE_KEYS: Final = ("user_id", "agent_id", "run_id")


class Scope(BaseModel):
    """Who a memory belongs to. At least one id is set on every stored memory."""

    model_config = ConfigDict(frozen=True)

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    def key(self) -> tuple[str | None, str | None, str | None]:
        return (self.user_id, self.agent_id, self.run_id)

    def items(self) -> list[tuple[str, str | None]]:
        """``[("user_id", ...), ("agent_id", ...), ("run_id", ...)]``."""
        return list(zip(SCOPE_KEYS, self.key(), strict=True))

    def within(self, other: Scope) -> bool:
        """True when this (a memory's) scope carries every id ``other`` sets."""
        pairs = zip(self.key(), other.key(), strict=True)
        return all(want is None or mine == want for mine, want in pairs)

    def describe(self) -> str:
        """``user_id='alice', agent_id='x'`` (set ids only), for messages."""
        return ", ".join(f"{k}={v!r}" for k, v in self.items() if v is not None) or "(no ids)"

    @classmethod
    def of(cls, payload: Mapping[str, Any]) -> Scope:
        """The scope a stored memory's payload (or a history row) carries."""
        return cls(**{key: payload.get(key) for key in SCOPE_KEYS})

    def filter(self) -> Filter | None:
        """Memories *within* this scope: carrying every id it sets (others unconstrained)."""
        return all_of(*(Condition(k, "eq", v) for k, v in self.items() if v is not None))

    def exact_filter(self) -> Filter | None:
        """Memories whose scope *is* this one: ids it leaves out must be absent. Duplicates
        are judged here, so alice's note never counts as a copy of her agent's."""
        return all_of(
            *(
                Condition(k, "eq", v) if v is not None else Not(Condition(k, "exists"))
                for k, v in self.items()
            )
        )


class ScopeIds(TypedDict):
    """A call's scope arguments, as ``**ids`` for the engine's calls."""

    user_id: str | None
    agent_id: str | None
    run_id: str | None


def bind(
    bound: Scope | None,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> ScopeIds:
    """The scope ids a call acts on, given the scope its credential is bound to.

    ``user_id`` / ``agent_id`` / ``run_id``: the call's arguments (``None`` or blank = not
    given). With no binding they pass through unchanged. With one, each id the binding
    sets replaces an omitted id; an id that names something else raises
    ``PermissionDeniedError`` naming the bound scope. Ids the binding leaves open narrow
    the call as usual (alice's token may name ``agent_id="planner"``).
    """
    given = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
    out = ScopeIds(user_id=user_id, agent_id=agent_id, run_id=run_id)
    if bound is None:
        return out
    for key, fixed in bound.items():
        value = given[key]
        asked = value.strip() if isinstance(value, str) else value
        if fixed is not None and asked not in (None, "") and asked != fixed:
            raise PermissionDeniedError(
                key,
                f"this credential is bound to {bound.describe()} and cannot act on "
                f"{key}={asked!r}; omit {key} (the bound scope applies) or use a credential "
                "for that scope",
            )
        if fixed is not None:
            out[key] = fixed  # type: ignore[literal-required]
    return out
