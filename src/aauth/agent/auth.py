"""``httpx.Auth`` for agents: sign every request, and walk challenge → token → retry alone.

The whole exchange is one generator (:meth:`AgentAuth.flow`). A 202 from the resource is
followed to its end like one from a person server (AG-19); with a ``scope`` configured for a
resource that publishes an ``authorization_endpoint``, the agent asks it for a resource token
up front instead of waiting for a 401 (phase 10). The sync and async drivers
differ only in how they sleep and send: requests to the resource go through the caller's
client (so its transport, proxies and limits apply); requests to the person server go
through the auth's own client, where a failed connection is thrown back into the flow so a
long poll survives a restarting server.

>>> auth = AgentAuth(AgentSigner(key, agent_token))                       # doctest: +SKIP
>>> httpx.get("https://api.example/data", auth=auth)                      # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from ..errors import ExpiredResourceToken, InvalidToken, MissionTerminated
from ..headers import (
    MISSION_HEADER,
    AgentTokenRequirement,
    AuthTokenRequirement,
    Capability,
    HeaderError,
    build_capabilities,
    build_mission,
    find_requirement,
    parse_signature_error,
)
from ..missions import ApprovedMission, MissionProposal
from ..tls import tls_context
from ..tokens import check_resource_challenge, decode_unverified
from ..tokens.verifier import AGENT_TOKEN
from .flow import Ask, Flow, Sleep, ask_async, ask_sync, run_async, run_sync
from .governance import GovernanceMethods
from .missions import complete_mission, person_server_metadata, propose_mission
from .poller import (
    ClarificationCallback,
    DeferredCallbacks,
    PollSettings,
    callback_capabilities,
    follow_deferred,
    is_deferred,
)
from .relay import relay_interaction, withdraw_relay
from .resource_directory import ResourceDirectory
from .signer import AgentSigner
from .token_cache import AuthTokenCache
from .token_client import TokenRequest, request_auth_token

__all__ = ["AgentAuth", "AuthTokenCache"]

_RETRY_LIMIT = 2


def _origin(url: httpx.URL | str) -> str:
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc.lower()}"


class AgentAuth(GovernanceMethods, httpx.Auth):
    """Signs requests as an agent and obtains auth tokens when a resource asks for one.

    ``person_server`` defaults to the ``ps`` claim of the agent token. ``callbacks`` surface
    interaction prompts (URL + code for the person) and clarification questions;
    ``on_clarification`` (sync or async) answers the person's questions during consent: it
    returns the answer text, an :class:`~aauth.agent.UpdatedRequest`, or None to withdraw;
    ``justification`` is shown to the person at consent. ``capabilities`` (sent as
    ``AAuth-Capabilities`` and in token requests) default to what the callbacks can do.
    ``event_hooks`` are installed on the client that talks to the person server (e.g. to log
    that exchange too). For a sub-agent, ``parent`` is its parent's signer: a sub-agent never
    calls the person server itself (AG-34), so its parent asks on its behalf, sending the
    sub-agent's agent token as ``subagent_token``.
    With a ``mission`` (an approval from :meth:`propose_mission`, or given) every request to a
    resource carries ``AAuth-Mission``, covered by the signature (AG-28, AG-29), so resources
    put it in their resource tokens and the PS grants what the mission approved. Once the PS
    answers ``mission_terminated`` the auth refuses every later request (AG-33). Before an
    action no resource governs, :meth:`request_permission` asks the PS (a denial raises,
    AG-32); :meth:`audit` records an action performed (§F.9).
    ``scopes`` maps a resource identifier to the scope to request from its
    ``authorization_endpoint`` before the first call (§F.2), when it publishes one; the
    mission's ``AAuth-Mission`` (or one set on the request) is sent there too, signed.
    ``allow_loopback_http`` is for development on one machine only.
    """

    requires_request_body = True
    requires_response_body = True

    def __init__(
        self,
        signer: AgentSigner,
        *,
        person_server: str | None = None,
        callbacks: DeferredCallbacks | None = None,
        on_clarification: ClarificationCallback | None = None,
        poll: PollSettings | None = None,
        justification: str | None = None,
        capabilities: Sequence[Capability] | None = None,
        cache: AuthTokenCache | None = None,
        allow_loopback_http: bool = False,
        timeout: float = 30.0,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        parent: AgentSigner | None = None,
        mission: ApprovedMission | None = None,
        scopes: Mapping[str, str] | None = None,
    ) -> None:
        for name, value in (("signer", signer), ("parent", parent)):
            if not isinstance(value, AgentSigner) and (name == "signer" or value is not None):
                raise TypeError(
                    f"AgentAuth's {name} must be an AgentSigner(key, agent_token), "
                    f"not {type(value).__name__}"
                )
        self.signer = signer
        self.parent = parent
        self.mission = mission
        self.mission_ended = False
        self.callbacks = callbacks or DeferredCallbacks()
        if on_clarification is not None:
            self.callbacks = replace(self.callbacks, on_clarification=on_clarification)
        self.poll = poll or PollSettings(allow_loopback_http=allow_loopback_http)
        self.justification = justification
        if capabilities is None:
            capabilities = callback_capabilities(self.callbacks)
        self.capabilities = tuple(capabilities)
        self._capabilities_header = build_capabilities(capabilities) if capabilities else None
        self.cache = cache or AuthTokenCache()
        self.resources = ResourceDirectory(allow_loopback_http=allow_loopback_http)
        self._loopback = allow_loopback_http
        self._timeout = timeout
        self._hooks = dict(event_hooks or {})
        self._person_server = person_server
        self._token_endpoints: dict[str, str] = {}
        self.scopes = dict(scopes or {})
        if signer.agent_token is None:
            raise ValueError("AgentAuth needs a signer with an agent token")
        agent = decode_unverified(
            AGENT_TOKEN, signer.agent_token, allow_loopback_http=allow_loopback_http
        )
        self.agent_id = agent.sub
        if (agent.parent_agent is None) != (parent is None):
            raise ValueError("a sub-agent (parent_agent) needs its parent's signer, and only it")
        if self._person_server is None:
            self._person_server = agent.ps

    # -- the flow ----------------------------------------------------------------------------

    def _signed(
        self, request: httpx.Request, token: str | None, extra: Sequence[str] = ()
    ) -> httpx.Request:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SIGNATURE_FIELDS}
        if self._capabilities_header and "aauth-capabilities" not in request.headers:
            headers["AAuth-Capabilities"] = self._capabilities_header
        if self.mission is not None:
            ref = build_mission(self.mission.ref, allow_loopback_http=self._loopback)
            headers = {k: v for k, v in headers.items() if k.lower() != "aauth-mission"}
            headers[MISSION_HEADER] = ref  # the signer covers it (AG-28)
        body = request.content or None
        headers.update(
            self.signer.sign(
                request.method, str(request.url), headers, body, token=token, extra_components=extra
            )
        )
        return httpx.Request(
            request.method,
            request.url,
            headers=headers,
            content=request.content,
            extensions=request.extensions,
        )

    def _token_endpoint(self) -> Flow[str]:
        ps = self._person_server
        if ps is None:
            raise InvalidToken("the agent token names no person server ('ps') and none is set")
        endpoint = self._token_endpoints.get(ps)
        if endpoint is None:
            metadata = yield from person_server_metadata(ps, allow_loopback_http=self._loopback)
            endpoint = metadata.token_endpoint
            self._token_endpoints[ps] = endpoint
        return endpoint

    def _obtain(self, requirement: AuthTokenRequirement, resource: str) -> Flow[str]:
        """AG-11/AG-12: verify the resource token, then get an auth token for it."""
        challenge = yield from self.resources.verify_resource_token(
            resource, requirement.resource_token
        )
        check_resource_challenge(
            challenge, resource=resource, agent=self.agent_id, agent_jkt=self.signer.thumbprint
        )
        endpoint = yield from self._token_endpoint()
        token_request = TokenRequest(
            requirement.resource_token,
            resource,
            self.justification,
            self.capabilities,
            subagent_token=None if self.parent is None else self.signer.agent_token,
        )
        try:
            token, claims = yield from request_auth_token(
                endpoint,
                token_request,
                self.parent or self.signer,
                issuer=challenge.aud,
                settings=self.poll,
                callbacks=self.callbacks,
                allow_loopback_http=self._loopback,
                subagent=None if self.parent is None else self.signer,
            )
        except MissionTerminated:
            self.mission_ended = self.mission is not None
            raise
        self.cache.put(resource, token, claims.exp, self.signer.thumbprint)
        return token

    def _authorization_endpoint(self, resource: str) -> Flow[str | None]:
        """The ``authorization_endpoint`` in the resource's metadata, if it publishes one."""
        metadata = yield from self.resources.metadata(resource)
        endpoint = None if metadata is None else metadata.authorization_endpoint
        if endpoint is not None and _origin(endpoint) != resource:
            return None  # the agent token goes to the resource only
        return endpoint

    def _authorize(self, request: httpx.Request, resource: str, scope: str) -> Flow[str | None]:
        """Phase 10: a resource token from the resource's authorization endpoint, then an
        auth token for it; None when the resource offers no such endpoint or refuses."""
        endpoint = yield from self._authorization_endpoint(resource)
        if endpoint is None:
            return None
        headers = {"content-type": "application/json"}
        mission = request.headers.get("aauth-mission")
        if self.mission is not None:
            mission = build_mission(self.mission.ref, allow_loopback_http=self._loopback)
        if mission is not None:
            headers[MISSION_HEADER] = mission  # covered: the signer signs it when present
        body = json.dumps({"scope": scope}).encode("utf-8")
        headers.update(self.signer.sign("POST", endpoint, headers, body))
        response = yield httpx.Request("POST", endpoint, headers=headers, content=body)
        assert response is not None
        try:
            resource_token = response.json()["resource_token"]
        except (ValueError, KeyError, TypeError):
            return None  # the usual challenge will say what is needed
        if response.status_code != 200 or not isinstance(resource_token, str):
            return None
        token = yield from self._obtain(AuthTokenRequirement(resource_token), resource)
        return token

    def _follow(self, response: httpx.Response, token: str | None) -> Flow[httpx.Response]:
        """AG-19: a 202 from the resource: poll its ``Location`` with GET (never resending
        the body), signed as the request was, until the final answer."""

        def sign(
            method: str, url: str, headers: dict[str, str], body: bytes | None
        ) -> dict[str, str]:
            return self.signer.sign(method, url, headers, body, token=token)

        relay = None  # §F.6: no way to show the person the URL; the PS relays it
        if not (self.callbacks.on_interaction or self.parent or self._person_server is None):
            ref = None if self.mission is None else self.mission.ref
            relay = yield from relay_interaction(
                response, self._person_server, self.signer, ref, self._loopback
            )
        final = yield from follow_deferred(response, sign, self.poll, self.callbacks)
        if relay is not None:  # AG-31: the resource said it is over, not the relay
            yield from withdraw_relay(relay, self.signer)
        return final

    def flow(self, request: httpx.Request) -> Flow[httpx.Response]:
        """Sign ``request``; satisfy the resource's challenges; return the final response."""
        if self.mission_ended:
            raise MissionTerminated("the mission this agent acts under has ended (AG-33)")
        resource = _origin(request.url)
        token = self.cache.get(resource, self.signer.thumbprint)  # AG-18: this key's token
        extra = yield from self.resources.components(resource)  # AG-05, V-46
        scope = self.scopes.get(resource)
        if token is None and scope is not None:
            token = yield from self._authorize(request, resource, scope)
        retries = 0
        renewed = False
        while True:
            response = yield self._signed(request, token, extra)
            assert response is not None
            if is_deferred(response):
                final = yield from self._follow(response, token)
                return final
            if response.status_code != 401 or retries == _RETRY_LIMIT:
                return response
            retries += 1
            needed = _required_input(response)
            if needed and not set(needed) <= set(extra):
                extra = tuple(dict.fromkeys(extra + needed))
                continue
            requirement = _requirement(response, self._loopback)
            if isinstance(requirement, AuthTokenRequirement):
                self.cache.discard(resource)
                try:
                    token = yield from self._obtain(requirement, resource)
                except (InvalidToken, ExpiredResourceToken) as exc:
                    expired = isinstance(exc, ExpiredResourceToken) or exc.expired
                    if not expired or renewed:
                        raise
                    # AG-16: the resource token expired on the way; a fresh challenge and
                    # one new token request, once.
                    renewed, token, retries = True, None, retries - 1
            elif token is not None and (
                isinstance(requirement, AgentTokenRequirement) or _signature_error(response)
            ):
                # AG-18: the auth token is stale (expired, revoked, another key): drop it and
                # present the agent token, which earns a fresh challenge.
                self.cache.discard(resource)
                token = None
            else:
                return response  # nothing this agent can satisfy (AG-14)

    # -- missions ------------------------------------------------------------------------------

    def _person_server_id(self) -> str:
        if self._person_server is None:
            raise InvalidToken("the agent token names no person server ('ps') and none is set")
        return self._person_server

    def _propose(self, proposal: MissionProposal) -> Flow[ApprovedMission]:
        if self.parent is not None:
            raise ValueError("a sub-agent does not call the PS (AG-34): its parent proposes")
        return propose_mission(
            self._person_server_id(),
            proposal,
            self.signer,
            settings=self.poll,
            callbacks=self.callbacks,
            capabilities=self.capabilities,
            allow_loopback_http=self._loopback,
        )

    def _adopt(self, mission: ApprovedMission) -> ApprovedMission:
        """Act under ``mission`` from now on; tokens of other missions are dropped."""
        self.mission, self.mission_ended = mission, False
        self.cache.clear()
        return mission

    def _client(self) -> httpx.Client:
        """A client for the person server (the auth's timeout and hooks)."""
        return httpx.Client(timeout=self._timeout, event_hooks=self._hooks)

    def _async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout, event_hooks=self._async_hooks())

    def propose_mission(self, proposal: MissionProposal) -> ApprovedMission:
        """Propose a mission to the agent's PS, wait for its approval and act under it."""
        with self._client() as client:
            return self._adopt(run_sync(self._propose(proposal), client))

    async def apropose_mission(self, proposal: MissionProposal) -> ApprovedMission:
        """The asynchronous form of :meth:`propose_mission`."""
        async with self._async_client() as client:
            return self._adopt(await run_async(self._propose(proposal), client))

    def _complete(self, summary: str) -> Flow[dict[str, Any]]:
        if self.mission is None:
            raise ValueError("this agent acts under no mission")
        return complete_mission(
            self.mission,
            summary,
            self.signer,
            settings=self.poll,
            callbacks=self.callbacks,
            allow_loopback_http=self._loopback,
        )

    def complete_mission(self, summary: str) -> dict[str, Any]:
        """Report the mission done and wait for the person; once they accept, the mission is
        terminated and this auth refuses further requests."""
        with self._client() as client:
            answer = run_sync(self._complete(summary), client)
        self.mission_ended = True
        return answer

    async def acomplete_mission(self, summary: str) -> dict[str, Any]:
        """The asynchronous form of :meth:`complete_mission`."""
        async with self._async_client() as client:
            answer = await run_async(self._complete(summary), client)
        self.mission_ended = True
        return answer

    def _async_hooks(self) -> dict[str, list[Callable[..., Any]]]:
        """The sync hooks wrapped for the async client (hooks only print or record)."""

        def wrap(hook: Callable[..., Any]) -> Callable[..., Any]:
            async def call(*args: Any) -> None:
                hook(*args)

            return call

        return {event: [wrap(h) for h in hooks] for event, hooks in self._hooks.items()}

    # -- drivers -----------------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        resource = _origin(request.url)
        flow = self.flow(request)
        reply: httpx.Response | None = None
        failure: httpx.TransportError | None = None
        with httpx.Client(
            timeout=self._timeout, event_hooks=self._hooks, verify=tls_context()
        ) as own:
            try:
                while True:
                    step = flow.send(reply) if failure is None else flow.throw(failure)
                    reply = failure = None
                    if isinstance(step, Sleep):
                        time.sleep(max(0.0, step.seconds))
                    elif isinstance(step, Ask):
                        ask_sync(step)
                    elif _origin(step.url) == resource:
                        reply = yield step
                        reply.read()  # requires_response_body: the flow reads bodies
                    else:
                        try:
                            reply = own.send(step)
                        except httpx.TransportError as exc:
                            failure = exc
            except StopIteration:
                return

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        resource = _origin(request.url)
        flow = self.flow(request)
        reply: httpx.Response | None = None
        failure: httpx.TransportError | None = None
        async with httpx.AsyncClient(
            timeout=self._timeout, event_hooks=self._async_hooks(), verify=tls_context()
        ) as own:
            try:
                while True:
                    step = flow.send(reply) if failure is None else flow.throw(failure)
                    reply = failure = None
                    if isinstance(step, Sleep):
                        await anyio.sleep(max(0.0, step.seconds))
                    elif isinstance(step, Ask):
                        await ask_async(step)
                    elif _origin(step.url) == resource:
                        reply = yield step
                        await reply.aread()
                    else:
                        try:
                            reply = await own.send(step)
                        except httpx.TransportError as exc:
                            failure = exc
            except StopIteration:
                return


_SIGNATURE_FIELDS = frozenset({"signature", "signature-input", "signature-key", "content-digest"})


def _requirement(response: httpx.Response, loopback: bool) -> object:
    try:
        return find_requirement(response.headers.multi_items(), allow_loopback_http=loopback)
    except HeaderError:
        return None


def _signature_error(response: httpx.Response) -> bool:
    """Whether the resource refused the signature itself (AG-38: read the header only)."""
    return "signature-error" in response.headers


def _required_input(response: httpx.Response) -> tuple[str, ...]:
    """Components a ``Signature-Error: invalid_input`` asks the agent to cover too."""
    value = response.headers.get("signature-error")
    if value is None:
        return ()
    try:
        info = parse_signature_error(value)
    except HeaderError:
        return ()
    if info.error != "invalid_input":
        return ()
    return tuple(c for c in info.required_input if c != "signature-key")
