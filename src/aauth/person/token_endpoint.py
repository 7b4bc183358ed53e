"""The person server's token endpoint (protocol-10 §F.3): verify, decide, grant or defer.

The caller's signature and agent token were verified by the server (PS-02). Here: sub-agents
are turned away (PS-06), as are agents whose token names another person server (``ps``,
§D.1); the body is checked; the resource token must be this PS's, for this agent and this key
(PS-03, PS-04, PS-05). A parent may ask for one of its sub-agents (``subagent_token``): that
token must name the signer as ``parent_agent`` and the resource token must be the sub-agent's
(PS-07); the request is then decided exactly as the parent's own. Then the decision: a
configured rule or an earlier consent grants at once (phase 3); otherwise the person must
decide, which needs an agent that can send them to the interaction page (else
``user_unreachable``, PS-14) and yields a pending request (phase 4).

A resource token naming a mission must name an active mission of the (parent) agent (else
``mission_terminated``, PS-21); what that mission approved is granted at once, anything
beyond it goes to the person like any other request (phase 5).

When a configured rule says so and the agent can answer questions, the new pending request
starts with the rule's question (phase 8); :meth:`TokenEndpoint.updated` checks the resource
token of an agent's ``updated_request``.

A resource token addressed to an access server is federated once approved (phase 7,
:mod:`aauth.person.federation`).

The answer to a request that needs the person is never held back for ``Prefer: wait``: it
carries the code the person must see, so delaying it would only delay the consent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from aauth_signing import SignatureError

from ..discovery import Discovery
from ..egress import EgressDenied, EgressPolicy
from ..errors import (
    AAuthError,
    ExpiredAgentToken,
    ExpiredResourceToken,
    InvalidAgentToken,
    InvalidRequest,
    InvalidResourceToken,
    InvalidToken,
    MissionTerminated,
    UserUnreachable,
)
from ..keys import thumbprint
from ..metadata import AgentProviderMetadata, MetadataDocument, ResourceMetadata
from ..pending import PendingRequest, PendingRequests
from ..tokens import AgentTokenClaims, ResourceTokenClaims, TokenVerifier, check_resource_binding
from ..tokens.verifier import AGENT_TOKEN, RESOURCE_TOKEN, TokenKind, averify_presented
from .audit import AuditLog
from .bindings import AgentBindings
from .chaining import UpstreamTokens
from .clarification import POLICY, ClarificationChat
from .config import PersonServerConfig
from .consents import Consents
from .federation import Federation
from .grant import Grant
from .issuance import AuthTokenMinter
from .missions import Mission, Missions
from .persons import Person, PersonDirectory
from .request_body import TokenRequestBody

__all__ = ["TokenEndpoint"]

D = TypeVar("D", bound=MetadataDocument)
C = TypeVar("C", AgentTokenClaims, ResourceTokenClaims)
MAX_NAME = 200
MAX_DESCRIPTION = 1000


def _short(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]


class TokenEndpoint:
    """Handles verified token requests: an auth token now, or a pending request."""

    def __init__(
        self,
        config: PersonServerConfig,
        *,
        tokens: TokenVerifier,
        minter: AuthTokenMinter,
        people: PersonDirectory,
        bindings: AgentBindings,
        consents: Consents,
        pending: PendingRequests,
        discovery: Discovery | None = None,
        upstream: UpstreamTokens | None = None,
        federation: Federation | None = None,
        missions: Missions | None = None,
        chat: ClarificationChat | None = None,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._missions = missions
        self._config = config
        self._chat = chat
        self._audit = audit
        self._tokens = tokens
        self._minter = minter
        self._people = people
        self._bindings = bindings
        self._consents = consents
        self._pending = pending
        self._discovery = discovery
        self._upstream = upstream
        self.federation = federation
        self._clock = clock
        self._egress = EgressPolicy(allow_loopback_http=config.allow_loopback_http)

    async def request(
        self,
        agent: AgentTokenClaims,
        signer_jkt: str,
        raw_body: bytes,
        *,
        agent_token: str | None = None,
    ) -> str | PendingRequest:
        """The auth token granted at once, or the pending request a person must decide.

        ``agent_token`` (the presented token's text) is forwarded when the PS federates.
        """
        if agent.parent_agent is not None:
            raise InvalidRequest("sub-agents cannot call the PS; their parent asks (PS-06)")
        body = TokenRequestBody.parse(raw_body)
        # A chained request is routed here by its upstream token's issuer, not by the
        # intermediary's ``ps`` (-10 "Call Chaining").
        if body.upstream_token is None and agent.ps != self._config.identifier:
            raise InvalidAgentToken(
                f"the agent token names {agent.ps!r} as the agent's person server, not this PS"
            )
        holder, holder_jkt = agent, signer_jkt
        if body.subagent_token is not None:
            holder = await self._subagent(body.subagent_token, agent)
            holder_jkt = holder.jkt
        resource = await self._resource_token(
            body.resource_token, holder.sub, holder_jkt, federate=agent_token is not None
        )
        mission = self._mission(resource, agent)
        upstream = None
        if body.upstream_token is not None:
            if self._upstream is None:
                raise InvalidRequest("call chaining (upstream_token) is not enabled on this PS")
            upstream = await self._upstream.verify(
                body.upstream_token, agent, for_subagent=holder is not agent
            )
        grant = Grant(
            agent_iss=agent.iss,
            agent=agent.sub,
            cnf_jwk=dict(holder.cnf_jwk),
            agent_exp=min(agent.exp, holder.exp),
            subagent=None if holder is agent else holder.sub,
            resource=resource.iss,
            scope=resource.scope,
            account=resource.account,
            justification=body.justification,
            device=body.device,
            platform=body.platform,
            fresh_login="login" in body.prompt,
            mission=None if mission is None else mission.ref.to_claim(),
            can_clarify="clarification" in body.capabilities,
            act=None if upstream is None else upstream.act,
            person=None if upstream is None else upstream.person,
            agent_jti=holder.jti,
            interaction=None if resource.interaction is None else resource.interaction.claim(),
        )
        if resource.aud != self._config.identifier:
            grant = replace(
                grant,
                access_server=resource.aud,
                agent_token=agent_token,
                resource_token=body.resource_token,
                subagent_token=body.subagent_token,
                upstream_token=body.upstream_token,
            )
        # A chained request is decided by the person behind the upstream grant, not a binding.
        bound = grant.person if grant.chained else self._bindings.person_for(agent.iss, agent.sub)
        person = None if bound is None else self._people.get(bound)
        # The resource's own flow needs the person, so nothing is granted without them.
        asks_person = "consent" in body.prompt or grant.interaction is not None
        if mission is not None:
            within = mission.covers(grant.resource, grant.scope)
            decision = "within the mission" if within else "outside the mission"
            self._log(mission, "token requested", grant, decision=decision)
            if within and not asks_person:
                approver = self._people.get(mission.person)
                granted = await self._grant_now(grant, approver)
                self._audited(approver, grant, "within the mission", granted)
                return granted
        how = None if asks_person else self._pre_approved(grant, person)
        if how is not None:
            granted = await self._grant_now(grant, person)
            self._audited(person, grant, how, granted)
            return granted
        if "none" in body.prompt:
            raise UserUnreachable("prompt=none, but this request needs the person's consent")
        if "interaction" not in body.capabilities:
            beyond = " (it goes beyond the approved mission)" if mission is not None else ""
            raise UserUnreachable(
                f"the person must approve this request{beyond} and the agent cannot send them "
                "to the interaction page (no 'interaction' capability)"
            )
        if grant.chained and grant.person is None:
            raise UserUnreachable("the upstream grant names no person who could approve this")
        if not grant.chained and not self._bindings.reachable(agent.iss, agent.sub):
            raise UserUnreachable("no person of this PS may approve requests of this agent")
        lifetime = min(self._config.pending_lifetime, agent.exp - self._clock())
        if lifetime <= 0:
            raise ExpiredAgentToken("the agent token expires before anyone could approve")
        grant = await self._described(grant)
        created = self._pending.create(
            agent.iss,
            agent.sub,
            grant.to_json(),
            requirement="interaction",
            with_code=True,
            lifetime=lifetime,
        )
        self._policy_question(created, grant)
        return created

    async def _grant_now(self, grant: Grant, person: Person | None) -> str | PendingRequest:
        """The approved ``grant``'s auth token: minted here, or, when the resource token names
        an access server, obtained from it (phase 7; it may answer with steps of its own)."""
        if self.federation is not None and grant.access_server is not None:
            # described: the AS may need the person, who may come with the agent's callback
            return await self.federation.begin(await self._described(grant), person)
        return self._minter.mint(grant, person)

    def _policy_question(self, request: PendingRequest, grant: Grant) -> None:
        """Ask the first configured question that applies, when the agent can answer; the
        agent gets it on its first poll (the 202 it has now carries the interaction)."""
        if self._chat is None or not grant.can_clarify:
            return
        for rule in self._config.clarify:
            if rule.applies(grant.agent, grant.resource, grant.scope):
                self._chat.ask(request.id, rule.question, POLICY)
                return

    async def updated(self, grant: Grant, token: str, justification: str | None) -> Grant:
        """``grant`` with an ``updated_request``'s resource token in place of the original:
        same resource, same agent and key (AG-26), and no scope it did not ask for before
        (so the person never approves more than the page showed them)."""
        claims = await self._resource_token(
            token,
            grant.subagent or grant.agent,
            thumbprint(grant.cnf_jwk),
            federate=grant.access_server is not None,
        )
        if claims.aud != (grant.access_server or self._config.identifier):
            raise InvalidResourceToken(f"the updated request is for {claims.aud!r}")
        if claims.iss != grant.resource:
            raise InvalidResourceToken(
                f"the updated request is for {claims.iss!r}, not {grant.resource!r}"
            )
        wider = [s for s in claims.scope if s not in grant.scope]
        if wider:
            raise InvalidResourceToken(f"an updated request may only narrow the scope: {wider}")
        mission = None if claims.mission is None else claims.mission.to_claim()
        if mission != (None if grant.mission is None else dict(grant.mission)):
            raise InvalidResourceToken("an updated request must stay under the same mission")
        return replace(
            grant,
            scope=claims.scope,
            account=claims.account,
            justification=justification or grant.justification,
            resource_token=token if grant.access_server else grant.resource_token,
        )

    async def _subagent(self, token: str, parent: AgentTokenClaims) -> AgentTokenClaims:
        """PS-07: the ``subagent_token`` is a valid agent token of the signer's provider whose
        ``parent_agent`` is the signer. Its key is checked against the resource token's
        ``agent_jkt`` afterwards (the parent, not the sub-agent, signed the request)."""
        claims = await self._verified(
            AGENT_TOKEN, token, "subagent_token", ExpiredAgentToken, InvalidAgentToken
        )
        if claims.parent_agent != parent.sub or claims.iss != parent.iss:
            raise InvalidAgentToken(
                f"subagent_token is not a sub-agent of the signing agent {parent.sub!r} "
                f"(its parent_agent is {claims.parent_agent!r})"
            )
        if claims.ps not in (None, self._config.identifier):
            raise InvalidAgentToken("subagent_token names another person server")
        return claims

    async def _verified(
        self,
        kind: TokenKind[C],
        token: str,
        what: str,
        expired: type[AAuthError],
        invalid: type[AAuthError],
    ) -> C:
        """``token`` verified as ``kind``; any failure becomes ``invalid`` (``expired`` when
        the token has expired), naming ``what``."""
        return await averify_presented(
            self._tokens, kind, token, what=what, invalid=invalid, expired=expired
        )

    def _mission(self, resource: ResourceTokenClaims, agent: AgentTokenClaims) -> Mission | None:
        """The active mission the resource token names, for this very agent (PS-05, PS-21)."""
        if resource.mission is None:
            return None
        if self._missions is None:
            raise MissionTerminated("this mission is not active")
        return self._missions.active_for(resource.mission, agent.iss, agent.sub)

    def _log(self, mission: Mission, event: str, grant: Grant, **details: str) -> None:
        assert self._missions is not None
        self._missions.log(
            mission.s256,
            event,
            resource=grant.resource,
            scope=" ".join(grant.scope),
            justification=grant.justification,
            **details,
        )

    def _audited(
        self, person: Person | None, grant: Grant, how: str, granted: str | PendingRequest
    ) -> None:
        """A grant made without asking, in the person's audit log (PS-32); a federated one
        that the access server has yet to decide is logged as such."""
        if person is not None and self._audit is not None:
            if not isinstance(granted, str):
                how += "; the access server decides next"
            self._audit.record(person.id, "grant", grant.agent, grant.resource, grant.scope, how)

    def _pre_approved(self, grant: Grant, person: Person | None) -> str | None:
        """How a rule, or the bound person's earlier consent, covers the whole request (for
        the audit log); None when neither does.

        Identity scopes need a person: without a bound one a rule cannot grant them.
        """
        identity = set(grant.scope) & set(self._config.scopes_supported)
        if identity and person is None:
            return None
        if self._consents.auto_approved(grant.agent, grant.resource, grant.scope):
            return "auto-approved"
        if person is not None and self._consents.remembered(
            person.id, grant.agent_iss, grant.agent, grant.resource, grant.scope
        ):
            return "remembered consent"
        return None

    async def _resource_token(
        self, token: str, agent: str, agent_jkt: str, *, federate: bool = False
    ) -> ResourceTokenClaims:
        """PS-03 … PS-05 for the agent ``agent`` holding the key ``agent_jkt``, with every
        failure as ``invalid_resource_token`` or ``expired_resource_token``. ``aud`` is this PS,
        or, when the PS can ``federate``, an access server (PS-08)."""
        identifier = self._config.identifier
        claims = await self._verified(
            RESOURCE_TOKEN, token, "resource token", ExpiredResourceToken, InvalidResourceToken
        )
        if claims.aud != identifier and (self.federation is None or not federate):
            raise InvalidResourceToken(
                f"the resource token is for {claims.aud!r}, not this PS, and this PS cannot "
                "federate with access servers"
            )
        try:
            check_resource_binding(
                claims,
                audience=claims.aud,
                agent=agent,
                agent_jkt=agent_jkt,
                approver=identifier,
            )
        except InvalidToken as exc:
            raise InvalidResourceToken(exc.description) from None
        if claims.interaction is not None:
            await self._admitted(claims)
        return claims

    async def _admitted(self, claims: ResourceTokenClaims) -> None:
        """PS-25: a resource's ``interaction.url`` (https, or loopback http where allowed,
        checked when the token was read) passes egress admission before any person is sent
        there. Only for resource tokens to this PS: an AS would refuse them."""
        assert claims.interaction is not None
        if claims.aud != self._config.identifier:
            raise InvalidResourceToken(
                "resource-initiated interaction is supported for resource tokens addressed to "
                "this PS only, not to an access server"
            )
        try:
            await self._egress.aadmit(claims.interaction.url)
        except EgressDenied as exc:
            raise InvalidResourceToken(
                f"the resource token's interaction.url is not admitted: {exc.description}"
            ) from None

    async def _described(self, grant: Grant) -> Grant:
        """``grant`` with what the agent provider and resource publish about themselves,
        when their metadata can be fetched (best effort: consent works without it)."""
        agent_provider = await self._document(grant.agent_iss, AgentProviderMetadata)
        resource = await self._document(grant.resource, ResourceMetadata)
        if agent_provider is not None:
            grant = replace(
                grant,
                agent_name=_short(agent_provider.name, MAX_NAME),
                callback_endpoint=agent_provider.callback_endpoint,
                localhost_callback_allowed=agent_provider.localhost_callback_allowed,
            )
        if resource is not None:
            described = resource.scope_descriptions or {}
            grant = replace(
                grant,
                resource_name=_short(resource.name, MAX_NAME),
                scope_descriptions={
                    s: described[s][:MAX_DESCRIPTION] for s in grant.scope if s in described
                },
            )
        return grant

    async def _document(self, identifier: str, kind: type[D]) -> D | None:
        if self._discovery is None:
            return None
        try:
            return await self._discovery.aget_document(identifier, kind)
        except (AAuthError, SignatureError):
            return None
