"""The agent asking its person a question through the person server (protocol-10 §F.6,
``interaction_endpoint`` with ``type`` ``question``).

An agent with no channel of its own to its person POSTs the question (Markdown) to the PS,
which shows it to the person the agent is bound to and answers ``200 {"answer": …}``,
usually after a 202 the flow follows like any other (``Prefer: wait``, ``Retry-After``).
The answer is the person's Markdown: untrusted text for whatever shows it (§H.6). Every
other outcome raises the AAuthError it stands for: ``PendingDenied`` when the person
declines, ``PendingExpired`` after ``max_wait``, ``InteractionUnavailable`` (424) when the PS
has no person to ask (PS-23), ``UserUnreachable``, ``MissionTerminated`` (PS-21).

>>> answer = run_sync(ask_person(ps, "Refundable fare?", signer), client)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from ..errors import InvalidRequest, ServerError
from ..json_body import parse_json_object
from ..missions import ApprovedMission, markdown_text
from .flow import Flow
from .missions import person_server_metadata
from .poller import DeferredCallbacks, PollSettings
from .signer import AgentSigner
from .token_client import post_deferred

__all__ = ["ask_person"]


def ask_person(
    person_server: str,
    question: str,
    signer: AgentSigner,
    *,
    max_wait: int | None = None,
    mission: ApprovedMission | None = None,
    settings: PollSettings | None = None,
    callbacks: DeferredCallbacks | None = None,
    allow_loopback_http: bool = False,
) -> Flow[str]:
    """Ask the person behind ``person_server`` ``question`` (under ``mission``, if given);
    their answer. ``max_wait`` (seconds) is how long the PS holds the question open; the
    polls' deadline is stretched to cover it. The question gets the checks the PS applies
    (InvalidRequest before anything is sent)."""
    body: dict[str, Any] = {"type": "question", "question": markdown_text(question, "question")}
    if max_wait is not None:
        if isinstance(max_wait, bool) or not isinstance(max_wait, int) or max_wait <= 0:
            raise InvalidRequest("'max_wait' must be a positive number of seconds")
        body["max_wait"] = max_wait
    if mission is not None:
        body["mission"] = mission.ref.to_claim()
    settings = settings or PollSettings(allow_loopback_http=allow_loopback_http)
    if max_wait is not None and max_wait + settings.prefer_wait > settings.deadline:
        settings = replace(settings, deadline=float(max_wait + settings.prefer_wait))
    metadata = yield from person_server_metadata(
        person_server, allow_loopback_http=allow_loopback_http
    )
    if metadata.interaction_endpoint is None:
        raise ServerError(f"{person_server} publishes no interaction_endpoint")
    payload = json.dumps(body).encode("utf-8")
    response = yield from post_deferred(
        metadata.interaction_endpoint, payload, signer, settings, callbacks
    )
    try:
        answer = parse_json_object(response.content, what="the answer").get("answer")
    except InvalidRequest as exc:
        raise ServerError(exc.description) from None
    if not isinstance(answer, str):
        raise ServerError("the person server's answer has no 'answer' string")
    return answer
