"""Relaying a resource's interaction through the person server (protocol-10 §F.6, "Relaying
Through the Person Server"; AG-31).

An agent with no way to show its person a URL (no ``on_interaction`` callback) hands a
resource's ``requirement=interaction`` to its PS's ``interaction_endpoint``, which reaches the
person on its own pages. The PS's 202 only says the person was reached: its resolution is
never the completion of the interaction. The resource's own pending URL stays authoritative
(AG-31), so the caller keeps polling it, and withdraws the relay once that has ended.
``424 interaction_unavailable`` (PS-23), a PS without an ``interaction_endpoint`` or one
whose metadata cannot be read is not an error: the agent polls the resource as before.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx

from ..errors import ServerError
from ..headers import HeaderError, InteractionRequirement, MissionRef, find_requirement
from .flow import Flow
from .missions import person_server_metadata
from .poller import pending_location
from .signer import AgentSigner
from .token_client import post_signed, problem_of

__all__ = ["relay_interaction", "withdraw_relay"]


def relay_interaction(
    response: httpx.Response,
    person_server: str,
    signer: AgentSigner,
    mission: MissionRef | None = None,
    allow_loopback_http: bool = False,
) -> Flow[str | None]:
    """POST the interaction a resource's 202 ``response`` asks for to the PS; the relay's
    pending URL (202), or None when there is none to relay or the PS cannot relay it. A
    terminal refusal (``user_unreachable``, ``mission_terminated``, …) raises the AAuthError
    it stands for."""
    try:
        requirement = find_requirement(
            response.headers.multi_items(), allow_loopback_http=allow_loopback_http
        )
    except HeaderError:
        return None
    if not isinstance(requirement, InteractionRequirement) or requirement.url is None:
        return None
    try:
        metadata = yield from person_server_metadata(
            person_server, allow_loopback_http=allow_loopback_http
        )
    except ServerError:
        return None
    endpoint = metadata.interaction_endpoint
    if endpoint is None:
        return None
    body: dict[str, Any] = {"type": "interaction", "url": requirement.url}
    body["code"] = requirement.code
    if mission is not None:
        body["mission"] = mission.to_claim()
    payload = json.dumps(body).encode("utf-8")
    answer = yield from post_signed(endpoint, payload, signer, prefer_wait=None)
    if answer.status_code == 202:
        return pending_location(answer)
    if answer.status_code == 424:
        return None  # PS-23: no channel here; the resource's URL is still polled
    raise problem_of(answer)


def withdraw_relay(location: str, signer: AgentSigner) -> Flow[None]:
    """DELETE the relay once the resource's pending URL has ended: the person need not go."""
    headers = signer.sign("DELETE", location, {}, None)
    with contextlib.suppress(httpx.TransportError):
        yield httpx.Request("DELETE", location, headers=headers)
