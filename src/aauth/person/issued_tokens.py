"""The auth tokens this person server issued under each agent token (§F.11).

When an agent provider revokes an agent token, the PS refuses it from then on (PS-24) and
SHOULD revoke the auth tokens it issued for that agent, which would otherwise stay usable at
their resources until they expire (up to an hour). Each token is recorded, as it is minted,
under the ``(iss, jti)`` of the agent token whose key it binds (a sub-agent's own token for a
sub-agent) and kept until it expires; the revocation takes them all. Auth tokens an access
server issued are that server's to revoke (V-44), so they are not recorded here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..store.base import Store
from ..store.update import update_record
from ..tokens.auth import MAX_AUTH_TOKEN_LIFETIME

__all__ = ["IssuedTokens"]

_NS = "issued-for-agent-token"
MAX_RECORDED = 256
"""Live tokens kept per agent token; beyond that the oldest is forgotten (a bounded record
of an agent that requests tokens without end: those tokens still expire within an hour)."""


class IssuedTokens:
    """``{"jti", "resource", "exp"}`` of the live auth tokens issued under each agent token."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def record(self, agent_iss: str, agent_jti: str, claims: dict[str, Any]) -> None:
        """Remember the auth token with ``claims`` (its ``jti``, ``aud`` and ``exp``)."""
        entry = {"jti": claims["jti"], "resource": claims["aud"], "exp": claims["exp"]}

        def add(current: dict[str, Any] | None) -> dict[str, Any]:
            now = self._clock()
            kept = [t for t in (current or {}).get("tokens", ()) if t["exp"] > now]
            return {"tokens": [*kept, entry][-MAX_RECORDED:]}

        def last_expiry(value: dict[str, Any]) -> float:
            return float(max(t["exp"] for t in value["tokens"]))

        update_record(self._store, _NS, f"{agent_iss}\x00{agent_jti}", add, last_expiry)

    def take(self, agent_iss: str, agent_jti: str) -> list[dict[str, Any]]:
        """The live tokens issued under this agent token, forgotten as they are returned (one
        compare-and-set: a token another worker records meanwhile is taken too, not lost)."""
        taken: list[dict[str, Any]] = []

        def empty(current: dict[str, Any] | None) -> dict[str, Any] | None:
            taken[:] = [] if current is None else current["tokens"]
            return None if not taken else {"tokens": []}

        later = self._clock() + MAX_AUTH_TOKEN_LIFETIME
        update_record(self._store, _NS, f"{agent_iss}\x00{agent_jti}", empty, later)
        now = self._clock()
        return [t for t in taken if t["exp"] > now]
