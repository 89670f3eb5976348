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

from typing import Final

from pydantic import BaseModel, ConfigDict

from .errors import PermissionDeniedError

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


def bind(bound: Scope | None, **ids: str | None) -> dict[str, str | None]:
    """The scope ids a call acts on, given the scope its credential is bound to.

    ``ids``: the call's ``user_id`` / ``agent_id`` / ``run_id`` arguments (``None`` or
    blank = not given). With no binding they pass through unchanged. With one, each id the
    binding sets replaces an omitted id; an id that names something else raises
    ``PermissionDeniedError`` naming the bound scope. Ids the binding leaves open narrow
    the call as usual (alice's token may name ``agent_id="planner"``).
    """
    if bound is None:
        return dict(ids)
    out: dict[str, str | None] = {}
    for key, value in ids.items():
        fixed = getattr(bound, key)
        given = value.strip() if isinstance(value, str) else value
        if fixed is not None and given not in (None, "") and given != fixed:
            raise PermissionDeniedError(
                key,
                f"this credential is bound to {bound.describe()} and cannot act on "
                f"{key}={given!r}; omit {key} (the bound scope applies) or use a credential "
                "for that scope",
            )
        out[key] = fixed if fixed is not None else value
    return out
