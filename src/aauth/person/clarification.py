"""Clarification chat while consent is pending (protocol-10 "Clarification Chat", §F.4, §G
phase 8).

The person on the consent page, or a configured rule, asks the agent a question; the agent
sees it on its pending URL (``requirement=clarification``) and answers with a signed POST:
an explanation (``clarification_response``) or a narrower request (``updated_request``), or
it withdraws the request (DELETE). Only one question is open at a time, and each round is
capped (PS-29): at most ``max_rounds`` questions, answers of at most ``max_length``
characters, and ``timeout`` seconds to answer, after which the request expires.

The conversation is part of the pending request in the store, so a restart in the middle of
a round loses nothing. While a question is open the request's expiry is pulled in to the
answer deadline; the answer restores it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..errors import AAuthError, InvalidRequest, NotFound
from ..pending import PendingRequest, PendingRequests

__all__ = [
    "ANSWER_ACTIONS",
    "POLICY",
    "ClarificationChat",
    "ClarificationLimits",
    "ClarificationRule",
    "Round",
    "TooManyRounds",
    "conversation",
    "open_question",
]

POLICY = "policy"
"""``asked_by`` of a question a configured rule asked."""

ANSWER_ACTIONS = ("clarification_response", "updated_request")


class TooManyRounds(AAuthError):
    """Every question this request may have has been asked (PS-29)."""

    code, status = "too_many_rounds", 400


@dataclass(frozen=True)
class ClarificationLimits:
    """Caps on one request's conversation (PS-29)."""

    max_rounds: int = 5
    max_length: int = 2000
    timeout: int = 120

    def __post_init__(self) -> None:
        if not 0 < self.max_rounds <= 20:
            raise ValueError("clarification rounds must be 1..20")
        if not 0 < self.max_length <= 16000:
            raise ValueError("clarification length must be 1..16000 characters")
        if not 0 < self.timeout <= 3600:
            raise ValueError("clarification timeout must be 1..3600 seconds")


@dataclass(frozen=True)
class ClarificationRule:
    """Ask ``question`` whenever ``agent`` (or ``*``) asks ``resource`` (or ``*``) for any of
    ``scopes`` and the person must decide."""

    agent: str
    resource: str
    scopes: frozenset[str]
    question: str

    def applies(self, agent: str, resource: str, scope: Sequence[str]) -> bool:
        return (
            self.agent in ("*", agent)
            and self.resource in ("*", resource)
            and bool(self.scopes & set(scope))
        )


@dataclass(frozen=True)
class Round:
    """One question and, once given, the agent's answer. ``action`` says how it answered;
    for ``updated_request`` the answer is the agent's new justification and ``scope`` the
    narrower scope it now asks for."""

    question: str
    asked_by: str
    asked_at: float
    answer: str | None = None
    action: str | None = None
    answered_at: float | None = None
    scope: tuple[str, ...] | None = None

    @property
    def open(self) -> bool:
        return self.action is None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Round:
        scope = data.get("scope")
        return cls(**{**data, "scope": None if scope is None else tuple(scope)})


def conversation(request: PendingRequest) -> tuple[Round, ...]:
    """The request's questions and answers, oldest first."""
    rounds = (request.clarification or {}).get("rounds", [])
    return tuple(Round.from_json(entry) for entry in rounds)


def open_question(request: PendingRequest) -> Round | None:
    """The question the agent has yet to answer, if any."""
    rounds = conversation(request)
    return rounds[-1] if rounds and rounds[-1].open else None


def checked_text(value: object, name: str, limit: int) -> str:
    """Untrusted Markdown from a person or agent: a non-empty string of at most ``limit``
    characters without control characters (line breaks and tabs allowed)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' must be a non-empty string")
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' is longer than {limit} characters (PS-29)")
    if any(not (ch.isprintable() or ch in "\n\r\t") for ch in value):
        raise InvalidRequest(f"'{name}' must not contain control characters")
    return value


def _store(rounds: Sequence[Round], resume: float | None) -> dict[str, Any]:
    return {"rounds": [asdict(r) for r in rounds], "resume_expires_at": resume}


class ClarificationChat:
    """Asks and records answers on pending requests, within :class:`ClarificationLimits`."""

    def __init__(
        self,
        pending: PendingRequests,
        limits: ClarificationLimits | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pending = pending
        self.limits = limits or ClarificationLimits()
        self._clock = clock

    def questions_left(self, request: PendingRequest) -> int:
        return max(0, self.limits.max_rounds - len(conversation(request)))

    def ask(self, request_id: str, question: str, asked_by: str) -> PendingRequest:
        """Put ``question`` to the agent. InvalidRequest while another is open or the request
        has ended; TooManyRounds past the cap."""
        text = checked_text(question, "question", self.limits.max_length)
        problems: list[AAuthError] = []

        def ask(current: PendingRequest) -> PendingRequest | None:
            rounds = conversation(current)
            if current.state.terminal:
                problems.append(InvalidRequest("this request has already ended"))
            elif rounds and rounds[-1].open:
                problems.append(InvalidRequest("the agent has not answered the last question"))
            elif len(rounds) >= self.limits.max_rounds:
                problems.append(
                    TooManyRounds(f"at most {self.limits.max_rounds} questions per request")
                )
            if problems:
                return None
            now = self._clock()
            asked = Round(text, asked_by, now)
            deadline = min(current.expires_at, now + self.limits.timeout)
            stored = _store([*rounds, asked], current.expires_at)
            return replace(current, clarification=stored, expires_at=deadline)

        updated = self._pending.update(request_id, ask)
        if updated is None:
            raise problems[0] if problems else NotFound("no such pending request")
        return updated

    def answer(
        self,
        request: PendingRequest,
        action: str,
        text: str,
        *,
        payload: dict[str, Any] | None = None,
        scope: Sequence[str] | None = None,
    ) -> PendingRequest:
        """Record the agent's answer to the open question; ``payload`` replaces the request's
        (an ``updated_request``). InvalidRequest when nothing is open (or it just closed)."""
        if action not in ANSWER_ACTIONS:
            raise InvalidRequest(f"'action' must be one of {list(ANSWER_ACTIONS)}")

        def record(current: PendingRequest) -> PendingRequest | None:
            rounds = conversation(current)
            if current.state.terminal or not rounds or not rounds[-1].open:
                return None
            answered = replace(
                rounds[-1],
                answer=text,
                action=action,
                answered_at=self._clock(),
                scope=None if scope is None else tuple(scope),
            )
            resume = (current.clarification or {}).get("resume_expires_at")
            expires_at = current.expires_at if resume is None else float(resume)
            return replace(
                current,
                clarification=_store([*rounds[:-1], answered], None),
                expires_at=expires_at,
                payload=current.payload if payload is None else payload,
            )

        updated = self._pending.update(request.id, record)
        if updated is None:
            raise InvalidRequest("no clarification is outstanding for this request")
        return updated
