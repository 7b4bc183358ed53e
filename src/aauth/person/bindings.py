"""Which person an agent acts for: exactly one (PS-28, §H.7).

An agent is keyed by its agent token's ``(iss, sub)``. Configured bindings are fixed; with
binding on first approval, an unbound agent becomes bound to the first person who approves
one of its requests, atomically, so two people racing cannot both claim it.

When the person changes (the configuration now names someone else, or :meth:`rebind`), the
old binding is revoked first, with what was granted under it (``on_revoke``: the consents the
old person gave, and a ``revocation`` in their audit log), and only then does the new one
take effect (PS-31).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..store.base import Store

__all__ = ["AgentBindings"]

_NS = "agent-binding"


def _key(iss: str, sub: str) -> str:
    return f"{iss}\x00{sub}"


class AgentBindings:
    """Agent → person bindings: ``configured`` (agent ``sub`` → person id) plus stored ones."""

    def __init__(
        self,
        store: Store,
        configured: Mapping[str, str],
        *,
        bind_on_first_approval: bool,
        on_revoke: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self._store = store
        self._configured = dict(configured)
        self._bind_on_first = bind_on_first_approval
        self._on_revoke = on_revoke

    def _stored(self, iss: str, sub: str) -> str | None:
        record = self._store.get(_NS, _key(iss, sub))
        return None if record is None else str(record.value["person"])

    def _revoke(self, iss: str, sub: str, person_id: str) -> None:
        """Undo ``person_id``'s binding and what it granted (PS-31), before anything else."""
        if self._on_revoke is not None:
            self._on_revoke(iss, sub, person_id)
        self._store.delete(_NS, _key(iss, sub))

    def person_for(self, iss: str, sub: str) -> str | None:
        """The person the agent is bound to, if any. A stored binding the configuration has
        since given to someone else is revoked here, on first sight."""
        configured = self._configured.get(sub)
        stored = self._stored(iss, sub)
        if configured is None:
            return stored
        if stored is not None and stored != configured:
            self._revoke(iss, sub, stored)
        return configured

    def rebind(self, iss: str, sub: str, person_id: str) -> None:
        """Bind the agent to ``person_id`` instead of whoever it acts for now (PS-31)."""
        if sub in self._configured:
            raise ValueError(f"{sub} is bound by the configuration; change it there")
        current = self._stored(iss, sub)
        if current == person_id:
            return
        if current is not None:
            self._revoke(iss, sub, current)
        self._store.create(_NS, _key(iss, sub), {"person": person_id}, None)

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
