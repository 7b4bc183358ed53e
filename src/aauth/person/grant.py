"""What an agent asked a person server for, once verified: the state behind its decision.

A :class:`Grant` is built from the verified agent token, resource token and request body.
It is the payload of the pending request while a person decides, so everything consent needs
(the key to bind, the agent token's expiry, what to show the person) survives a restart
without re-verifying tokens that may have expired meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Grant"]


@dataclass(frozen=True)
class Grant:
    """A verified token request.

    ``agent_iss``/``agent`` identify the agent (its agent token ``iss``/``sub``), ``cnf_jwk``
    and ``agent_exp`` come from that token and bind and cap the auth token (PS-10);
    ``resource``/``scope``/``account`` from the resource token. The rest is shown at consent:
    the agent's own words and, when its metadata could be fetched, names and descriptions.
    ``callback_endpoint``/``localhost_callback_allowed`` (from the agent provider's metadata)
    decide where the person may be sent back to (§H.5). ``mission`` is the resource token's
    ``mission`` claim, checked against an active mission of this agent (phase 5).

    For a parent-mediated sub-agent request (§F.3 ``subagent_token``), ``agent`` is still the
    parent that asked (consent, rules and bindings are the parent's), ``subagent`` names the
    sub-agent the token is for, and ``cnf_jwk``/``agent_exp`` come from the sub-agent's token.
    ``can_clarify`` records that the agent declared the ``clarification`` capability.

    A chained request (``upstream_token``, §D.4) carries the downstream ``act`` claim and the
    ``person`` behind the upstream grant, who alone may decide it; its intermediary is never
    bound to that person.
    ``access_server`` is set when the resource token is addressed to an AS (4-party): the PS
    then federates, forwarding ``agent_token``, ``resource_token``, ``subagent_token`` and
    ``upstream_token`` (the tokens' text) to it.
    ``agent_jti`` is the ``jti`` of the agent token whose key the auth token binds (the
    sub-agent's own for a sub-agent): revoking that agent token revokes the auth token (§F.11).
    ``interaction`` is the resource token's own (``url``, ``code``): the resource needs the
    person on its page first (resource-initiated interaction, PS-25).
    """

    agent_iss: str
    agent: str
    cnf_jwk: Mapping[str, Any]
    agent_exp: float
    resource: str
    scope: tuple[str, ...]
    account: str | None = None
    justification: str | None = None
    device: str | None = None
    platform: str | None = None
    fresh_login: bool = False
    agent_name: str | None = None
    resource_name: str | None = None
    scope_descriptions: Mapping[str, str] = field(default_factory=dict)
    callback_endpoint: str | None = None
    localhost_callback_allowed: bool = False
    mission: Mapping[str, str] | None = None
    subagent: str | None = None
    can_clarify: bool = False
    act: Mapping[str, Any] | None = None
    person: str | None = None
    access_server: str | None = None
    agent_token: str | None = None
    resource_token: str | None = None
    subagent_token: str | None = None
    upstream_token: str | None = None
    agent_jti: str | None = None
    interaction: Mapping[str, str] | None = None

    @property
    def chained(self) -> bool:
        return self.act is not None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cnf_jwk"] = dict(self.cnf_jwk)
        data["scope"] = list(self.scope)
        data["scope_descriptions"] = dict(self.scope_descriptions)
        data["act"] = None if self.act is None else dict(self.act)
        data["mission"] = None if self.mission is None else dict(self.mission)
        data["interaction"] = None if self.interaction is None else dict(self.interaction)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Grant:
        """A grant this server stored earlier with :meth:`to_json`."""
        return cls(**{**data, "scope": tuple(data["scope"])})
