"""Which person an agent acts for: exactly one, for good (PS-28, §H.7).

An agent is keyed by its agent token's ``(iss, sub)``. Configured bindings are fixed; with
binding on first approval, an unbound agent becomes bound to the first person who approves
one of its requests, atomically, so two people racing cannot both claim it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..store.base import Store

__all__ = ["AgentBindings"]

_NS = "agent-binding"


def _key(iss: str, sub: str) -> str:
    return f"{iss}\x00{sub}"


class AgentBindings:
    """Agent → person bindings: ``configured`` (agent ``sub`` → person id) plus stored ones."""

    def __init__(
        self, store: Store, configured: Mapping[str, str], *, bind_on_first_approval: bool
    ) -> None:
        self._store = store
        self._configured = dict(configured)
        self._bind_on_first = bind_on_first_approval

    def person_for(self, iss: str, sub: str) -> str | None:
        """The person the agent is bound to, if any."""
        configured = self._configured.get(sub)
        if configured is not None:
            return configured
        record = self._store.get(_NS, _key(iss, sub))
        return None if record is None else str(record.value["person"])

    def may_approve(self, iss: str, sub: str, person_id: str) -> bool:
        """Whether ``person_id`` may decide for this agent (bound to them, or bindable)."""
        bound = self.person_for(iss, sub)
        return bound == person_id if bound is not None else self._bind_on_first

    def reachable(self, iss: str, sub: str) -> bool:
        """Whether any person could ever approve for this agent."""
        return self._bind_on_first or self.person_for(iss, sub) is not None

    def claim(self, iss: str, sub: str, person_id: str) -> bool:
        """Bind the agent to ``person_id`` unless it already is someone's; whether it is theirs."""
        if not self.may_approve(iss, sub, person_id):
            return False
        if sub not in self._configured:
            self._store.create(_NS, _key(iss, sub), {"person": person_id}, None)
        return self.person_for(iss, sub) == person_id
