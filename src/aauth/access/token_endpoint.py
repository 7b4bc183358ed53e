"""The access server's token endpoint (protocol-10 §F.7): a person server asks for an agent.

The caller is a trusted person server whose signature was verified (AS-02, phase 11). Here:
the body's ``agent_token`` is verified against its agent provider (AS-02); an agent token
naming another person server (``ps``) is refused, since only the agent's own PS may ask for
it; the ``resource_token`` must come from a resource that chose this AS — checked before any
of its keys are fetched — and be addressed to this AS, for that agent and the agent token's
key (AS-03). The request then runs its steps (:class:`~aauth.access.flow.AccessFlow`).

With a ``subagent_token`` the request is for that sub-agent: its ``parent_agent`` must be the
agent token's agent, the resource token must bind the sub-agent's key, and the token issued
names the parent in ``act`` (AS-04).

With an ``upstream_token`` the request is call-chained (§D.4, AS-08): the agent token is the
intermediary resource's own, and the upstream token must verify as an auth token of the
calling person server or of this AS, minted for that intermediary, with an ``act`` chain within
``max_chain_depth``. The token issued carries that chain; its ``sub`` is derived here from
what the person server supplies, never copied from the upstream token.
"""

from __future__ import annotations

from typing import Any

from .. import jwt
from ..errors import (
    ExpiredAgentToken,
    ExpiredResourceToken,
    InvalidAgentToken,
    InvalidRequest,
    InvalidResourceToken,
    InvalidToken,
)
from ..json_body import parse_json_object
from ..pending import PendingRequest
from ..tokens import AgentTokenClaims, ResourceTokenClaims, TokenVerifier, check_resource_binding
from ..tokens.upstream import verify_upstream_token
from ..tokens.verifier import AGENT_TOKEN, RESOURCE_TOKEN, averify_presented
from .config import AccessServerConfig
from .flow import AccessFlow
from .request import AccessRequest

__all__ = ["AccessTokenEndpoint"]

_MEMBERS = frozenset({"resource_token", "agent_token", "subagent_token", "upstream_token"})


def _body(raw: bytes) -> dict[str, Any]:
    body = parse_json_object(raw)
    for name in ("resource_token", "agent_token"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise InvalidRequest(f"the request needs a string {name!r} (PS-30)")
    for name in ("subagent_token", "upstream_token"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise InvalidRequest(f"{name!r} must be a string")
    return {k: v for k, v in body.items() if k in _MEMBERS}


class AccessTokenEndpoint:
    """Handles token requests from trusted person servers."""

    def __init__(
        self,
        config: AccessServerConfig,
        *,
        tokens: TokenVerifier,
        upstream_tokens: TokenVerifier,
        flow: AccessFlow,
    ) -> None:
        """``upstream_tokens`` verifies auth tokens of this AS and its trusted person servers
        (the issuers a chained request may extend)."""
        self._config = config
        self._tokens = tokens
        self._upstream_tokens = upstream_tokens
        self._flow = flow

    async def request(self, ps: str, raw_body: bytes) -> str | PendingRequest:
        """The auth token granted at once, or the pending request whose steps must run."""
        body = _body(raw_body)
        parent = agent = await self._agent_token(body["agent_token"], ps)
        if body.get("subagent_token"):
            agent = await self._subagent_token(body["subagent_token"], parent, ps)
        resource = await self._resource_token(body["resource_token"], agent, ps)
        act = None
        if body.get("upstream_token"):
            act = await self._upstream(body["upstream_token"], parent, ps, agent is not parent)
        request = AccessRequest(
            ps=ps,
            agent_iss=agent.iss,
            agent=agent.sub,
            cnf_jwk=dict(agent.cnf_jwk),
            agent_exp=min(agent.exp, parent.exp),
            parent_agent=None if agent is parent else parent.sub,
            act=act,
            resource=resource.iss,
            scope=resource.scope,
            account=resource.account,
            mission=None if resource.mission is None else resource.mission.to_claim(),
        )
        return self._flow.start(request)

    async def _agent_token(self, token: str, ps: str) -> AgentTokenClaims:
        agent = await averify_presented(
            self._tokens,
            AGENT_TOKEN,
            token,
            what="agent token",
            invalid=InvalidAgentToken,
            expired=ExpiredAgentToken,
        )
        if agent.parent_agent is not None:
            raise InvalidRequest("a sub-agent's token needs its parent's agent_token (AS-04)")
        if agent.ps is not None and agent.ps != ps:
            raise InvalidAgentToken(f"the agent token names {agent.ps!r} as its person server")
        return agent

    async def _upstream(
        self, token: str, intermediary: AgentTokenClaims, ps: str, for_subagent: bool
    ) -> dict[str, Any]:
        """AS-08: the ``act`` claim of a chained request; only the calling PS's tokens or this
        AS's own may be extended."""
        verified = await verify_upstream_token(
            self._upstream_tokens,
            token,
            intermediary,
            max_depth=self._config.max_chain_depth,
            who="access server",
            for_subagent=for_subagent,
        )
        if verified.claims.iss not in (ps, self._config.identifier):
            raise InvalidRequest(
                f"upstream token: issued by {verified.claims.iss!r}, not by {ps!r} or this AS"
            )
        return verified.actor.claim()

    async def _subagent_token(
        self, token: str, parent: AgentTokenClaims, ps: str
    ) -> AgentTokenClaims:
        """AS-04: a sub-agent of the agent whose token came with it, from the same provider,
        naming no other person server than the one asking (as for the parent)."""
        subagent = await averify_presented(
            self._tokens,
            AGENT_TOKEN,
            token,
            what="subagent token",
            invalid=InvalidAgentToken,
            expired=ExpiredAgentToken,
        )
        if subagent.parent_agent != parent.sub or subagent.iss != parent.iss:
            raise InvalidAgentToken(
                f"the subagent token's parent_agent {subagent.parent_agent!r} is not the agent "
                f"token's agent {parent.sub!r} (AS-04)"
            )
        if subagent.ps is not None and subagent.ps != ps:
            raise InvalidAgentToken(
                f"the subagent token names {subagent.ps!r} as its person server"
            )
        return subagent

    async def _resource_token(
        self, token: str, agent: AgentTokenClaims, ps: str
    ) -> ResourceTokenClaims:
        """AS-03, with every failure as ``invalid_resource_token`` or ``expired_…``."""
        try:
            issuer = jwt.peek(token)[1].get("iss")
        except InvalidToken as exc:
            raise InvalidResourceToken(f"resource token: {exc.description}") from None
        if issuer not in self._config.resources:
            raise InvalidResourceToken(f"resource {str(issuer)[:100]!r} does not use this AS")
        claims = await averify_presented(
            self._tokens,
            RESOURCE_TOKEN,
            token,
            what="resource token",
            invalid=InvalidResourceToken,
            expired=ExpiredResourceToken,
        )
        try:
            check_resource_binding(
                claims,
                audience=self._config.identifier,
                agent=agent.sub,
                agent_jkt=agent.jkt,
                approver=ps,
            )
        except InvalidToken as exc:
            raise InvalidResourceToken(exc.description) from None
        if claims.interaction is not None:
            raise InvalidResourceToken("resource-initiated interaction is not supported here")
        return claims
