"""A token request an access server has accepted, and the steps still between it and a token.

The :class:`AccessRequest` is built from the verified PS signature, agent token and resource
token, then stored as the payload of the pending request while its steps run, so a restart
(even ``kill -9``) resumes exactly where it stopped without re-verifying tokens that may have
expired meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = [
    "CLAIMS",
    "CLARIFICATION",
    "INTERACTION",
    "PAYMENT",
    "PERSON_STEPS",
    "AccessRequest",
]

PAYMENT = "payment"
"""402: a person settles the PS's billing at this AS (once per PS)."""
INTERACTION = "interaction"
"""202 ``requirement=interaction``: a person approves on this AS's page."""
CLARIFICATION = "clarification"
"""202 ``requirement=clarification``: the PS answers a question."""
CLAIMS = "claims"
"""202 ``requirement=claims``: the PS supplies identity claims (``required_claims``)."""
PERSON_STEPS = frozenset({PAYMENT, INTERACTION})
"""Steps a person completes on a page, entering a single-use code."""


@dataclass(frozen=True)
class AccessRequest:
    """A verified token request at an access server.

    ``ps`` is the person server that asked; ``agent_iss``/``agent``/``cnf_jwk``/``agent_exp``
    come from the agent token, ``resource``/``scope``/``account``/``mission`` from the resource
    token. ``parent_agent`` is set for a sub-agent, whose parent's token was presented too
    (it goes into ``act``, AS-04); ``act`` is the chain of a call-chained request, built from
    its verified ``upstream_token`` (AS-08). ``steps`` are the steps still to complete, the
    first being the current one; ``code`` is the single-use code of the current person-facing
    step. What the steps yield accumulates in ``claims``, ``clarification_answer`` and
    ``approved_by``.
    """

    ps: str
    agent_iss: str
    agent: str
    cnf_jwk: Mapping[str, Any]
    agent_exp: float
    resource: str
    scope: tuple[str, ...]
    account: str | None = None
    mission: Mapping[str, str] | None = None
    parent_agent: str | None = None
    act: Mapping[str, Any] | None = None
    steps: tuple[str, ...] = ()
    code: str | None = None
    claims: Mapping[str, str] = field(default_factory=dict)
    clarification_answer: str | None = None
    approved_by: str | None = None

    @property
    def step(self) -> str | None:
        """The step now awaited; None once every step is done."""
        return self.steps[0] if self.steps else None

    def advanced(self, code: str | None) -> AccessRequest:
        """This request with its current step done; ``code`` is for the next step if a person
        completes it."""
        return replace(self, steps=self.steps[1:], code=code)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cnf_jwk"] = dict(self.cnf_jwk)
        data["scope"] = list(self.scope)
        data["steps"] = list(self.steps)
        data["claims"] = dict(self.claims)
        data["mission"] = None if self.mission is None else dict(self.mission)
        data["act"] = None if self.act is None else dict(self.act)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccessRequest:
        """A request this server stored earlier with :meth:`to_json`."""
        return cls(**{**data, "scope": tuple(data["scope"]), "steps": tuple(data["steps"])})
