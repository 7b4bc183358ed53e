"""Following a deferred (202) response to its end (protocol-10 §F.4).

The agent long-polls the pending URL with ``Prefer: wait``, honours ``Retry-After``
(up to the deadline, 5 s when absent, +5 s after a 429), surfaces interaction prompts and
clarification questions through callbacks, and stops at an overall deadline — cancelling
the pending request with ``DELETE`` so the server does not keep it alive for nobody.

A clarification (AG-24, AG-25) is answered with a signed POST carrying an ``action``: the
callback's text as ``clarification_response``, an :class:`UpdatedRequest` as
``updated_request``, or None to withdraw (DELETE). The server answers that POST like a poll.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeAlias
from urllib.parse import urljoin, urlsplit

import httpx

from ..errors import (
    AAuthError,
    Gone,
    InvalidCode,
    InvalidRequest,
    MissionTerminated,
    PendingAbandoned,
    PendingDenied,
    PendingExpired,
    ServerError,
)
from ..headers import (
    Capability,
    HeaderError,
    InteractionRequirement,
    Requirement,
    find_requirement,
)
from ..json_body import parse_json_object
from .flow import Ask, Flow, Sleep

__all__ = [
    "Clarification",
    "ClarificationAnswer",
    "ClarificationCallback",
    "DeferredCallbacks",
    "InteractionPrompt",
    "PollSettings",
    "PollTimeout",
    "RequestSigner",
    "UpdatedRequest",
    "callback_capabilities",
    "follow_deferred",
    "is_deferred",
    "pending_location",
    "terminal_error",
]


class RequestSigner(Protocol):
    """Returns the signature headers for a request (the agent's signer, bound to a token)."""

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]: ...


class PollTimeout(AAuthError):
    """The overall deadline passed while the request was still pending."""

    code, status = "timeout", 504


@dataclass(frozen=True)
class PollSettings:
    """Limits for one deferred flow; every wait is bounded by ``deadline`` seconds.

    ``Retry-After`` is honoured as sent, up to what is left of ``deadline`` (AG-20);
    ``max_interval`` caps it further only when set (tests use it to stay fast).
    """

    deadline: float = 300.0
    prefer_wait: int = 30
    default_interval: float = 5.0
    max_interval: float | None = None
    slow_down_increment: float = 5.0
    min_interval: float = 0.5
    allow_loopback_http: bool = False
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)


@dataclass(frozen=True)
class InteractionPrompt:
    """What a person must open: ``url`` and ``code`` (``link`` has the code filled in)."""

    url: str
    code: str
    pending_url: str

    @property
    def link(self) -> str:
        return f"{self.url}?code={self.code}"


@dataclass(frozen=True)
class Clarification:
    """A question asked during consent; answer within ``timeout`` seconds."""

    question: str
    timeout: float | None
    options: tuple[str, ...]
    pending_url: str


@dataclass(frozen=True)
class UpdatedRequest:
    """An answer that replaces the request: a new resource token from the same resource,
    for this agent and key (AG-26), usually for less, and why."""

    resource_token: str
    justification: str | None = None


ClarificationAnswer: TypeAlias = str | UpdatedRequest | None
ClarificationCallback: TypeAlias = Callable[
    [Clarification], ClarificationAnswer | Awaitable[ClarificationAnswer]
]
"""Answers a question asked during consent; sync or async."""


@dataclass
class DeferredCallbacks:
    """Hooks for the person-facing parts of a deferred flow.

    ``on_clarification`` (sync or async) returns the answer text, an
    :class:`UpdatedRequest`, or None to cancel the request.
    """

    on_interaction: Callable[[InteractionPrompt], None] | None = None
    on_clarification: ClarificationCallback | None = None
    on_status: Callable[[str], None] | None = None


def callback_capabilities(callbacks: DeferredCallbacks) -> tuple[Capability, ...]:
    """What the agent can really do for a person: only what a callback is there to do."""
    found: list[Capability] = []
    if callbacks.on_interaction is not None:
        found.append("interaction")
    if callbacks.on_clarification is not None:
        found.append("clarification")
    return tuple(found)


_TERMINAL: dict[int, type[AAuthError]] = {
    400: InvalidRequest,
    403: PendingDenied,
    408: PendingExpired,
    410: Gone,
    500: ServerError,
}


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        return parse_json_object(response.content or b"{}")
    except InvalidRequest:
        return {}


def _retry_after(response: httpx.Response, settings: PollSettings) -> float:
    """``Retry-After`` in seconds (delta-seconds or an HTTP-date); 5 s when absent or
    unreadable (AG-20). The deadline, not this function, bounds the wait."""
    raw = response.headers.get("retry-after")
    seconds = settings.default_interval
    if raw is not None:
        try:
            seconds = float(raw)
        except ValueError:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                seconds = parsedate_to_datetime(raw).timestamp() - time.time()
    if not math.isfinite(seconds):
        seconds = settings.default_interval
    seconds = max(seconds, 0.0)
    return seconds if settings.max_interval is None else min(seconds, settings.max_interval)


def terminal_error(response: httpx.Response) -> AAuthError:
    """The error a terminal (non-202, non-200) answer of a pending URL stands for (§F.4)."""
    body = _body(response)
    code = str(body.get("error", ""))
    detail = str(body.get("detail") or body.get("error_description") or code)
    if response.status_code == 403 and code == "abandoned":
        return PendingAbandoned(detail)
    if response.status_code == 403 and code == "mission_terminated":
        return MissionTerminated(detail)
    if response.status_code == 410 and code == "invalid_code":
        return InvalidCode(detail)
    error_cls = _TERMINAL.get(response.status_code, ServerError)
    return error_cls(detail or f"pending request ended with HTTP {response.status_code}")


def _requirement(response: httpx.Response, settings: PollSettings) -> Requirement | None:
    """The requirement on a pending response; a malformed one is ignored (keep polling)."""
    try:
        return find_requirement(
            response.headers.multi_items(), allow_loopback_http=settings.allow_loopback_http
        )
    except HeaderError:
        return None


def is_deferred(response: httpx.Response) -> bool:
    """An AAuth deferred response (§F.4): a 202 with ``Location`` that says it is pending,
    by ``AAuth-Requirement`` or its body; any other 202 is an API's own answer."""
    if response.status_code != 202 or "location" not in response.headers:
        return False
    if "aauth-requirement" in response.headers:
        return True
    status = _body(response).get("status")
    return status in ("pending", "interacting")


def pending_location(response: httpx.Response) -> str:
    """The absolute pending URL of a 202; it must be on the responder's origin (V-31)."""
    location = response.headers.get("location")
    if not location:
        raise ServerError("202 response without a Location header")
    absolute: str = urljoin(str(response.request.url), location)
    here, there = urlsplit(str(response.request.url)), urlsplit(absolute)
    if (here.scheme, here.netloc) != (there.scheme, there.netloc):
        raise ServerError(f"pending URL {absolute} is not on the responder's origin")
    return absolute


def _signed(
    method: str, url: str, sign: RequestSigner, body: bytes | None = None, **headers: str
) -> httpx.Request:
    all_headers = {k.replace("_", "-"): v for k, v in headers.items()}
    if body is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update(sign(method, url, all_headers, body))
    return httpx.Request(method, url, headers=all_headers, content=body)


def follow_deferred(
    response: httpx.Response,
    sign: RequestSigner,
    settings: PollSettings | None = None,
    callbacks: DeferredCallbacks | None = None,
) -> Flow[httpx.Response]:
    """Poll the pending URL of ``response`` (a 202) until a final 200; return that response.

    Terminal answers raise: 403 PendingDenied/PendingAbandoned, 408 PendingExpired,
    410 InvalidCode/Gone (never retried, AG-23), 500 ServerError; the deadline raises
    PollTimeout after cancelling the request.
    """
    settings = settings or PollSettings()
    callbacks = callbacks or DeferredCallbacks()
    deadline = settings.clock() + settings.deadline
    location = pending_location(response)
    interval_bonus = 0.0
    prompted: tuple[str, str] | None = None
    current = response
    while True:
        if current.status_code == 200:
            return current
        if current.status_code in (202, 429, 503):
            requirement = _requirement(current, settings)
            if isinstance(requirement, InteractionRequirement) and requirement.url:
                if prompted != (requirement.url, requirement.code) and callbacks.on_interaction:
                    callbacks.on_interaction(
                        InteractionPrompt(requirement.url, requirement.code, location)
                    )
                prompted = (requirement.url, requirement.code)
            body = _body(current)
            if callbacks.on_status and current.status_code == 202:
                callbacks.on_status(str(body.get("status", "pending")))
            if current.status_code == 429:
                interval_bonus += settings.slow_down_increment
            if "clarification" in body and current.status_code == 202:
                reply = yield from _clarify(body, location, sign, callbacks)
                if reply is None:
                    yield from _cancel(location, sign)
                    raise PendingAbandoned("the clarification was declined; request cancelled")
                current = reply  # the server answers the POST as it answers a poll
                continue
            delay = _retry_after(current, settings) + interval_bonus
        else:
            raise terminal_error(current)
        remaining = deadline - settings.clock()
        if remaining <= 0:
            yield from _cancel(location, sign)
            raise PollTimeout(f"still pending after {settings.deadline:.0f} s; cancelled")
        if int(remaining) == 0 < settings.prefer_wait:
            # Under a second left: Prefer: wait counts whole seconds, so no long poll can be
            # asked for; wait out the deadline and look once more instead of spinning.
            delay = max(delay, remaining)
        elif min(settings.prefer_wait, int(remaining)) == 0:
            # No long poll is asked for, so a server saying Retry-After: 0 would be polled in
            # a tight loop: keep a floor between polls.
            delay = max(delay, settings.min_interval)
        if delay > 0:
            yield Sleep(min(delay, remaining))
        wait = max(0, min(settings.prefer_wait, int(deadline - settings.clock())))
        try:
            reply = yield _signed("GET", location, sign, prefer=f"wait={wait}")
        except httpx.TransportError:
            # The server may be restarting; its pending state is durable, so keep polling.
            reply = httpx.Response(503, request=current.request)
        assert reply is not None
        current = reply


def _cancel(location: str, sign: RequestSigner) -> Flow[None]:
    """DELETE the pending request; if the server cannot be reached, it expires on its own."""
    with contextlib.suppress(httpx.TransportError):
        yield _signed("DELETE", location, sign)


def _clarify(
    body: dict[str, Any], location: str, sign: RequestSigner, callbacks: DeferredCallbacks
) -> Flow[httpx.Response | None]:
    """Ask the callback, POST its answer; the reply, or None when the request is withdrawn
    (no callback, or it answered None)."""
    on_clarification = callbacks.on_clarification
    if on_clarification is None:
        return None
    options = body.get("options")
    timeout = body.get("timeout")
    question = Clarification(
        question=str(body["clarification"]),
        timeout=float(timeout) if isinstance(timeout, int | float) else None,
        options=tuple(str(o) for o in options) if isinstance(options, list) else (),
        pending_url=location,
    )
    ask: Ask[ClarificationAnswer] = Ask(lambda: on_clarification(question))
    yield ask
    answer = ask.answer
    if answer is None:
        return None
    payload: dict[str, Any]
    if isinstance(answer, UpdatedRequest):
        payload = {"action": "updated_request", "resource_token": answer.resource_token}
        if answer.justification:
            payload["justification"] = answer.justification
    elif isinstance(answer, str):
        payload = {"action": "clarification_response", "clarification_response": answer}
    else:
        raise TypeError("on_clarification must return a str, an UpdatedRequest or None")
    data = json.dumps(payload).encode("utf-8")
    try:
        reply = yield _signed("POST", location, sign, body=data)
    except httpx.TransportError:
        # The server may be restarting: poll again; an unrecorded answer is asked again.
        reply = httpx.Response(503, request=httpx.Request("POST", location))
    assert reply is not None
    return reply
