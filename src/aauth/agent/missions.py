"""The agent's side of missions (protocol-10 §F.8, §F.6), as flows.

:func:`propose_mission` POSTs a proposal to the PS's ``mission_endpoint``, follows the 202
while the person reviews it, and checks the approval: the ``AAuth-Mission`` header's ``s256``
must be the SHA-256 of the exact body bytes, kept as received (AG-29, AG-30).
:func:`complete_mission` proposes completion (``interaction_endpoint``, ``type``
``completion``) and waits for the person to accept. A ``403 mission_terminated`` raises
:class:`~aauth.errors.MissionTerminated` (AG-33).

>>> mission = run_sync(propose_mission(ps, proposal, signer), client)   # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from ..errors import ServerError
from ..headers import HeaderError, parse_mission
from ..metadata import PersonServerMetadata, well_known_url
from ..missions import ApprovedMission, MissionProposal, parse_approval
from ..tokens.wire import PERSON_DWK
from .flow import Flow
from .poller import DeferredCallbacks, PollSettings
from .signer import AgentSigner
from .token_client import decode_agent_id, post_deferred

__all__ = ["complete_mission", "person_server_metadata", "propose_mission"]


def person_server_metadata(
    person_server: str, *, allow_loopback_http: bool = False
) -> Flow[PersonServerMetadata]:
    """The PS's ``aauth-person.json``; ServerError when it cannot be read."""
    response = yield httpx.Request("GET", well_known_url(person_server, PERSON_DWK))
    assert response is not None
    if response.status_code != 200:
        raise ServerError(f"cannot read {person_server} metadata (HTTP {response.status_code})")
    try:
        document = json.loads(response.content)
    except ValueError:
        raise ServerError(f"{person_server} metadata is not JSON") from None
    return PersonServerMetadata.from_json(
        document, person_server, allow_loopback_http=allow_loopback_http
    )


def propose_mission(
    person_server: str,
    proposal: MissionProposal,
    signer: AgentSigner,
    *,
    settings: PollSettings | None = None,
    callbacks: DeferredCallbacks | None = None,
    allow_loopback_http: bool = False,
) -> Flow[ApprovedMission]:
    """Propose ``proposal`` to ``person_server``; the approved mission once the person (or a
    policy) approves. PendingDenied when the person denies it."""
    if signer.agent_token is None:
        raise ValueError("proposing a mission needs a signer with an agent token")
    settings = settings or PollSettings(allow_loopback_http=allow_loopback_http)
    metadata = yield from person_server_metadata(
        person_server, allow_loopback_http=allow_loopback_http
    )
    if metadata.mission_endpoint is None:
        raise ServerError(f"{person_server} publishes no mission_endpoint")
    response = yield from post_deferred(
        metadata.mission_endpoint, proposal.body(), signer, settings, callbacks
    )
    header = response.headers.get("aauth-mission")
    if header is None:
        raise ServerError("the mission approval carries no AAuth-Mission header")
    try:
        ref = parse_mission(header, allow_loopback_http=allow_loopback_http)
    except HeaderError as exc:
        raise ServerError(f"the mission approval's AAuth-Mission is malformed: {exc}") from None
    agent = decode_agent_id(signer.agent_token, allow_loopback_http)
    return parse_approval(ref, response.content, agent=agent, approver=person_server)


def complete_mission(
    mission: ApprovedMission,
    summary: str,
    signer: AgentSigner,
    *,
    settings: PollSettings | None = None,
    callbacks: DeferredCallbacks | None = None,
    allow_loopback_http: bool = False,
) -> Flow[dict[str, Any]]:
    """Report the mission done; returns the PS's answer once the person accepted (the mission
    is then terminated). PendingDenied when the person declines: the mission stays active."""
    settings = settings or PollSettings(allow_loopback_http=allow_loopback_http)
    metadata = yield from person_server_metadata(
        mission.ref.approver, allow_loopback_http=allow_loopback_http
    )
    if metadata.interaction_endpoint is None:
        raise ServerError(f"{mission.ref.approver} publishes no interaction_endpoint")
    body = {"type": "completion", "summary": summary, "mission": mission.ref.to_claim()}
    payload = json.dumps(body).encode("utf-8")
    response = yield from post_deferred(
        metadata.interaction_endpoint, payload, signer, settings, callbacks
    )
    try:
        answer = json.loads(response.content or b"{}")
    except ValueError:
        answer = {}
    return answer if isinstance(answer, dict) else {}
