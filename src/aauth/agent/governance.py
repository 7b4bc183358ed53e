"""The agent asking its person server before acting, and reporting after (protocol-10 §F.9).

:func:`request_permission` POSTs the action to the PS's ``permission_endpoint`` and follows a
202 while the person decides. A grant returns :class:`PermissionGranted`; a denial *raises*
:class:`PermissionDenied` (carrying the person's reason), so no code path can mistake it for
a grant and go on to act (AG-32). A tool the mission approved (``approved_tools``) needs no
call at all: it is granted locally, as -10 says. :func:`audit_action` POSTs a record of an
action performed to the ``audit_endpoint`` (always under a mission; 201 expected).

:class:`GovernanceMethods` puts both on :class:`~aauth.agent.AgentAuth`, sync and async,
under the auth's mission, with asking the person a question (§F.6,
:mod:`aauth.agent.question`):

>>> auth.request_permission("SendEmail", description="Send the itinerary")  # doctest: +SKIP
>>> auth.audit("SendEmail", result={"status": "sent"})                      # doctest: +SKIP
>>> auth.ask_person("Book the refundable fare?")                            # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

from ..errors import InvalidRequest, MissionTerminated, PendingDenied, ServerError
from ..json_body import parse_json_object
from ..missions import ApprovedMission
from .flow import Flow, run_async, run_sync
from .missions import person_server_metadata
from .poller import DeferredCallbacks, PollSettings
from .question import ask_person
from .signer import AgentSigner
from .token_client import post_deferred, post_signed, problem_of

__all__ = [
    "GovernanceMethods",
    "PermissionDenied",
    "PermissionGranted",
    "audit_action",
    "request_permission",
]

T = TypeVar("T")


@dataclass(frozen=True)
class PermissionGranted:
    """The agent may perform ``action``. ``asked`` is False when the mission's approved tools
    already covered it and the PS was not called."""

    action: str
    asked: bool = True


class PermissionDenied(PendingDenied):
    """The PS (or the person) denied ``action``: the agent MUST NOT perform it (AG-32).

    ``reason`` is the PS's Markdown explanation, when it gave one.
    """

    def __init__(self, action: str, reason: str | None = None) -> None:
        detail = f"permission to {action!r} was denied" + (f": {reason}" if reason else "")
        super().__init__(detail)
        self.action = action
        self.reason = reason


def _body(
    action: str,
    mission: ApprovedMission | None,
    description: str | None,
    parameters: Mapping[str, Any] | None,
    result: Mapping[str, Any] | None = None,
) -> bytes:
    document: dict[str, Any] = {"action": action}
    if description is not None:
        document["description"] = description
    if parameters is not None:
        document["parameters"] = dict(parameters)
    if result is not None:
        document["result"] = dict(result)
    if mission is not None:
        document["mission"] = mission.ref.to_claim()
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def approved_tools(mission: ApprovedMission) -> frozenset[str]:
    """The names of the tools the mission approved (its blob's ``approved_tools``)."""
    tools = mission.document.get("approved_tools")
    if not isinstance(tools, list):
        return frozenset()
    return frozenset(
        t["name"] for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)
    )


def request_permission(
    person_server: str,
    action: str,
    signer: AgentSigner,
    *,
    description: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    mission: ApprovedMission | None = None,
    settings: PollSettings | None = None,
    callbacks: DeferredCallbacks | None = None,
    allow_loopback_http: bool = False,
) -> Flow[PermissionGranted]:
    """Ask ``person_server`` whether the agent may perform ``action`` (under ``mission``, if
    given); PermissionGranted, or PermissionDenied raised (AG-32). A 202 is followed while
    the person decides (``callbacks.on_interaction`` shows them the code)."""
    if mission is not None and action in approved_tools(mission):
        return PermissionGranted(action, asked=False)
    settings = settings or PollSettings(allow_loopback_http=allow_loopback_http)
    metadata = yield from person_server_metadata(
        person_server, allow_loopback_http=allow_loopback_http
    )
    if metadata.permission_endpoint is None:
        raise ServerError(f"{person_server} publishes no permission_endpoint")
    payload = _body(action, mission, description, parameters)
    response = yield from post_deferred(
        metadata.permission_endpoint, payload, signer, settings, callbacks
    )
    try:
        answer = parse_json_object(response.content, what="the permission answer")
    except InvalidRequest as exc:
        raise ServerError(exc.description) from None
    verdict, reason = answer.get("permission"), answer.get("reason")
    if verdict == "granted":
        return PermissionGranted(action)
    if verdict == "denied":
        raise PermissionDenied(action, reason if isinstance(reason, str) else None)
    raise ServerError(f"the permission answer is neither granted nor denied: {verdict!r}")


def audit_action(
    mission: ApprovedMission,
    action: str,
    signer: AgentSigner,
    *,
    description: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    result: Mapping[str, Any] | None = None,
    allow_loopback_http: bool = False,
) -> Flow[None]:
    """Record at the mission's PS that the agent performed ``action`` (201); the AAuthError
    the PS answered with otherwise (MissionTerminated once the mission ended)."""
    metadata = yield from person_server_metadata(
        mission.ref.approver, allow_loopback_http=allow_loopback_http
    )
    if metadata.audit_endpoint is None:
        raise ServerError(f"{mission.ref.approver} publishes no audit_endpoint")
    payload = _body(action, mission, description, parameters, result)
    response = yield from post_signed(metadata.audit_endpoint, payload, signer, prefer_wait=None)
    if response.status_code != 201:
        raise problem_of(response)


class _Governed(Protocol):
    """What :class:`GovernanceMethods` needs of the auth it is part of."""

    signer: AgentSigner
    parent: AgentSigner | None
    mission: ApprovedMission | None
    mission_ended: bool
    poll: PollSettings
    callbacks: DeferredCallbacks
    _loopback: bool

    def _person_server_id(self) -> str: ...

    def _client(self) -> httpx.Client: ...

    def _async_client(self) -> httpx.AsyncClient: ...


def _under_mission(auth: _Governed, flow: Flow[T]) -> Flow[T]:
    """``flow`` for ``auth``: refused once its mission ended; ended when the PS says so."""
    if auth.parent is not None:
        raise ValueError("a sub-agent does not call the PS (AG-34): its parent asks")
    if auth.mission_ended:
        raise MissionTerminated("the mission this agent acts under has ended (AG-33)")
    try:
        return (yield from flow)
    except MissionTerminated:
        auth.mission_ended = auth.mission is not None
        raise


def _permission(
    auth: _Governed,
    action: str,
    description: str | None,
    parameters: Mapping[str, Any] | None,
) -> Flow[PermissionGranted]:
    flow = request_permission(
        auth._person_server_id(),
        action,
        auth.signer,
        description=description,
        parameters=parameters,
        mission=auth.mission,
        settings=auth.poll,
        callbacks=auth.callbacks,
        allow_loopback_http=auth._loopback,
    )
    return _under_mission(auth, flow)


def _audit(
    auth: _Governed,
    action: str,
    description: str | None,
    parameters: Mapping[str, Any] | None,
    result: Mapping[str, Any] | None,
) -> Flow[None]:
    if auth.mission is None:
        raise ValueError("an audit record needs a mission: there is no audit outside one")
    flow = audit_action(
        auth.mission,
        action,
        auth.signer,
        description=description,
        parameters=parameters,
        result=result,
        allow_loopback_http=auth._loopback,
    )
    return _under_mission(auth, flow)


def _question(auth: _Governed, question: str, max_wait: int | None) -> Flow[str]:
    flow = ask_person(
        auth._person_server_id(),
        question,
        auth.signer,
        max_wait=max_wait,
        mission=auth.mission,
        settings=auth.poll,
        callbacks=auth.callbacks,
        allow_loopback_http=auth._loopback,
    )
    return _under_mission(auth, flow)


class GovernanceMethods:
    """Permission and audit (§F.9), and questions for the person (§F.6), for
    :class:`~aauth.agent.AgentAuth`, under its mission."""

    def ask_person(self: _Governed, question: str, *, max_wait: int | None = None) -> str:
        """Ask the agent's person ``question`` (Markdown) through the PS and wait for their
        answer (Markdown, untrusted). Raises PendingDenied when they decline, PendingExpired
        once ``max_wait`` seconds have passed, InteractionUnavailable when the PS has no
        person to ask (424), MissionTerminated when the mission has ended."""
        with self._client() as client:
            return run_sync(_question(self, question, max_wait), client)

    async def aask_person(self: _Governed, question: str, *, max_wait: int | None = None) -> str:
        """The asynchronous form of :meth:`ask_person`."""
        async with self._async_client() as client:
            return await run_async(_question(self, question, max_wait), client)

    def request_permission(
        self: _Governed,
        action: str,
        *,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> PermissionGranted:
        """Ask the PS before performing ``action``; returns only when it is granted, raises
        PermissionDenied otherwise: do not perform the action then (AG-32)."""
        with self._client() as client:
            return run_sync(_permission(self, action, description, parameters), client)

    async def arequest_permission(
        self: _Governed,
        action: str,
        *,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> PermissionGranted:
        """The asynchronous form of :meth:`request_permission`."""
        async with self._async_client() as client:
            flow = _permission(self, action, description, parameters)
            return await run_async(flow, client)

    def audit(
        self: _Governed,
        action: str,
        *,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> None:
        """Record at the PS that ``action`` was performed under the mission (201)."""
        with self._client() as client:
            run_sync(_audit(self, action, description, parameters, result), client)

    async def aaudit(
        self: _Governed,
        action: str,
        *,
        description: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> None:
        """The asynchronous form of :meth:`audit`."""
        async with self._async_client() as client:
            await run_async(_audit(self, action, description, parameters, result), client)
