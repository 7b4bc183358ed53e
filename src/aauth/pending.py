"""Deferred requests (protocol-10 §F.4): the state behind a ``202`` and its pending URL.

A pending request belongs to the agent that created it: only that agent (same ``iss`` and
``sub``) may poll, answer or cancel it. It moves from ``pending``/``interacting`` to exactly
one terminal state; the first poll that sees ``completed`` receives the result and the
request becomes ``delivered``, after which the URL answers 410 like every other terminal
state does once reported.

State lives in a :class:`~aauth.store.Store`, so it survives a restart; waiting pollers are
woken the moment a decision is written through the store's signal. With a signal that
crosses processes (Redis pub/sub) that is the only wake-up; with an in-process one the store
is also re-read periodically, so a decision made by another process on the same SQLite file
is seen too.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from .errors import (
    AAuthError,
    Gone,
    InvalidCode,
    PendingAbandoned,
    PendingDenied,
    PendingExpired,
    ServerError,
)
from .headers import InteractionRequirement, build_challenge
from .interaction_code import generate_code, normalize_code
from .store.base import Store
from .store.update import StoreContention

__all__ = [
    "PendingRequest",
    "PendingRequests",
    "PendingState",
    "outcome_error",
    "waiting_answer",
]

_NS = "pending"
_CODE_NS = "interaction-code"
_INTERACTION_NS = "interaction"
#: Terminal records are kept this long after expiry so late polls get 410, not 404.
_TOMBSTONE_SECONDS = 24 * 3600
_CODE_DRAWS = 8
MAX_CODE_ATTEMPTS = 5


class PendingState(StrEnum):
    PENDING = "pending"
    INTERACTING = "interacting"
    COMPLETED = "completed"
    DELIVERED = "delivered"
    DENIED = "denied"
    ABANDONED = "abandoned"
    EXPIRED = "expired"
    INVALID_CODE = "invalid_code"
    CANCELLED = "cancelled"
    FAILED = "server_error"

    @property
    def terminal(self) -> bool:
        return self not in (PendingState.PENDING, PendingState.INTERACTING)

    @property
    def succeeded(self) -> bool:
        """Ended with what was asked for (before or after the agent was told)."""
        return self in (PendingState.COMPLETED, PendingState.DELIVERED)


_OUTCOMES: dict[PendingState, tuple[type[AAuthError], str]] = {
    PendingState.DENIED: (PendingDenied, "the person denied the request"),
    PendingState.ABANDONED: (PendingAbandoned, "the person abandoned the request"),
    PendingState.EXPIRED: (PendingExpired, "the request expired before it was decided"),
    PendingState.INVALID_CODE: (InvalidCode, "too many wrong interaction codes were entered"),
}


def outcome_error(state: PendingState) -> AAuthError:
    """The error a pending URL answers for a request that ended in ``state`` (§F.4)."""
    error, detail = _OUTCOMES.get(state, (ServerError, "the request failed"))
    return error(detail)


def waiting_answer(
    request: PendingRequest,
    *,
    interaction_url: str,
    location: str,
    retry_after: int,
    allow_loopback_http: bool = False,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Body and headers of the 202 for a request its person has yet to decide (V-31):
    ``requirement=interaction`` with the request's code, ``Location``, ``Retry-After``."""
    assert request.code is not None
    headers = build_challenge(
        InteractionRequirement(interaction_url, request.code),
        location=location,
        retry_after=retry_after,
        allow_loopback_http=allow_loopback_http,
    )
    interacting = request.state is PendingState.INTERACTING
    return {"status": "interacting" if interacting else "pending"}, headers


@dataclass(frozen=True)
class PendingRequest:
    """One deferred request. ``payload`` is the originating endpoint's data (for a token
    request: the verified resource token claims, justification …); ``result`` is the body
    of the eventual 200."""

    id: str
    owner_iss: str
    owner_sub: str
    state: PendingState
    created_at: float
    expires_at: float
    requirement: str | None = None
    interaction_id: str | None = None
    code: str | None = None
    code_attempts: int = 0
    payload: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    decided_by: str | None = None
    clarification: dict[str, Any] | None = None
    reported: bool = False
    version: int = 0

    def owned_by(self, iss: str, sub: str) -> bool:
        return self.owner_iss == iss and self.owner_sub == sub

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("version")
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], version: int) -> PendingRequest:
        return cls(**{**data, "state": PendingState(data["state"]), "version": version})


class PendingRequests:
    """Create, find, transition and wait on pending requests."""

    def __init__(
        self,
        store: Store,
        *,
        lifetime: float = 600.0,
        recheck_interval: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._lifetime = lifetime
        self._recheck = recheck_interval
        self._clock = clock

    def create(
        self,
        owner_iss: str,
        owner_sub: str,
        payload: dict[str, Any],
        *,
        requirement: str | None = None,
        with_code: bool = False,
        with_page: bool = False,
        lifetime: float | None = None,
    ) -> PendingRequest:
        """A new pending request; with ``with_code`` it also gets an interaction id + code,
        with ``with_page`` an interaction id alone (the person reaches it on their own
        signed-in pages: there is no code to type, and its 202 says ``approval``)."""
        now = self._clock()
        expires_at = now + (lifetime or self._lifetime)
        keep_until = expires_at + _TOMBSTONE_SECONDS
        request_id = secrets.token_urlsafe(24)
        interaction_id = code = None
        if with_code or with_page:
            interaction_id = secrets.token_urlsafe(16)
        if with_code:
            code = self._claim_code(request_id, keep_until)
        request = PendingRequest(
            id=request_id,
            owner_iss=owner_iss,
            owner_sub=owner_sub,
            state=PendingState.PENDING,
            created_at=now,
            expires_at=expires_at,
            requirement=requirement,
            interaction_id=interaction_id,
            code=code,
            payload=payload,
        )
        if not self._store.create(_NS, request.id, request.to_json(), keep_until):
            raise RuntimeError("pending request id collision")
        if interaction_id is not None:
            self._store.create(_INTERACTION_NS, interaction_id, {"id": request.id}, keep_until)
        return replace(request, version=1)

    def _claim_code(self, request_id: str, keep_until: float) -> str:
        """A fresh code that no request holds (nor held within the tombstone period), claimed
        for ``request_id``: two requests never share a code, however unlikely at 40 bits."""
        for _ in range(_CODE_DRAWS):
            code = generate_code()
            key = normalize_code(code)
            assert key is not None
            if self._store.create(_CODE_NS, key, {"id": request_id}, keep_until):
                return code
        raise StoreContention("no free interaction code after repeated collisions; try again")

    def get(self, request_id: str) -> PendingRequest | None:
        """The request, with ``expired`` applied when its lifetime has passed."""
        record = self._store.get(_NS, request_id)
        if record is None:
            return None
        request = PendingRequest.from_json(record.value, record.version)
        if not request.state.terminal and request.expires_at <= self._clock():
            return replace(request, state=PendingState.EXPIRED)
        return request

    def update(
        self, request_id: str, change: Callable[[PendingRequest], PendingRequest | None]
    ) -> PendingRequest | None:
        """Apply ``change`` atomically (compare-and-set, retried); None if it declines.

        ``change`` returns the new request, or None to leave it as is.
        """
        for _ in range(16):
            current = self.get(request_id)
            if current is None:
                return None
            updated = change(current)
            if updated is None:
                return None
            keep_until = updated.expires_at + _TOMBSTONE_SECONDS
            if self._store.replace(_NS, request_id, updated.to_json(), current.version, keep_until):
                self._notify(request_id)
                return replace(updated, version=current.version + 1)
        raise RuntimeError(f"pending request {request_id} is under heavy contention")

    def interacting(self, request_id: str) -> None:
        """A person reached the request's page: ``pending`` becomes ``interacting`` (§F.4),
        so the agent stops prompting; any other state is left as it is."""

        def arrived(current: PendingRequest) -> PendingRequest | None:
            if current.state is not PendingState.PENDING:
                return None
            return replace(current, state=PendingState.INTERACTING)

        self.update(request_id, arrived)

    def end(self, request_id: str, state: PendingState) -> PendingState:
        """End the request in the terminal ``state``, unless it has ended already; the state
        it is in now (an earlier end stands: a replayed callback does not rewrite it)."""

        def ended(current: PendingRequest) -> PendingRequest | None:
            return None if current.state.terminal else replace(current, state=state)

        updated = self.update(request_id, ended)
        current = updated if updated is not None else self.get(request_id)
        return state if current is None else current.state

    def report(self, request_id: str) -> PendingRequest | None:
        """Hand a terminal outcome to the agent exactly once (V-33).

        Returns the request as it was when this call marked it reported (a ``completed``
        one becomes ``delivered``), or None when it is not terminal or was reported before;
        every later poll then answers 410.
        """

        seen: list[PendingRequest] = []

        def mark(current: PendingRequest) -> PendingRequest | None:
            if not current.state.terminal or current.reported:
                return None
            seen.append(current)
            done = current.state is PendingState.COMPLETED
            return replace(
                current, state=PendingState.DELIVERED if done else current.state, reported=True
            )

        return seen[-1] if self.update(request_id, mark) is not None else None

    def cancel(self, request_id: str) -> None:
        """End the request for good (``DELETE`` on its pending URL); its URL answers 410
        from now on. Gone when it was already reported or cancelled."""

        def cancel(current: PendingRequest) -> PendingRequest | None:
            if current.reported:
                return None
            return replace(current, state=PendingState.CANCELLED, reported=True, result=None)

        if self.update(request_id, cancel) is None:
            raise Gone("this pending request has already ended")

    def by_interaction(self, interaction_id: str) -> PendingRequest | None:
        record = self._store.get(_INTERACTION_NS, interaction_id)
        return self.get(str(record.value["id"])) if record else None

    def redeem_code(self, code: str, interaction_id: str | None = None) -> PendingRequest:
        """The request a typed code belongs to, after the §F.5 checks.

        With ``interaction_id`` (the per-request interaction URL) a wrong code counts
        against that request and the fifth failure ends it with ``invalid_code`` (V-38).
        An expired request raises PendingExpired (V-39); a used code InvalidCode (V-37).
        """
        key = normalize_code(code)
        target = self.by_interaction(interaction_id) if interaction_id else None
        record = self._store.get(_CODE_NS, key) if key else None
        request = self.get(str(record.value["id"])) if record else None
        if target is not None and (request is None or request.id != target.id):
            self._count_failure(target.id)
            raise InvalidCode("the code does not match this request")
        if request is None:
            raise InvalidCode("unknown interaction code")
        if request.state is PendingState.EXPIRED:
            raise PendingExpired("the request this code belongs to has expired")
        if request.state is PendingState.CANCELLED:
            raise Gone("the agent withdrew this request")
        if request.state.terminal:
            raise InvalidCode("the code has already been used")
        return request

    def _count_failure(self, request_id: str) -> None:
        def bump(current: PendingRequest) -> PendingRequest | None:
            if current.state.terminal:
                return None
            attempts = current.code_attempts + 1
            state = PendingState.INVALID_CODE if attempts >= MAX_CODE_ATTEMPTS else current.state
            return replace(current, code_attempts=attempts, state=state)

        self.update(request_id, bump)

    def _notify(self, request_id: str) -> None:
        self._store.signal.publish(f"{_NS}:{request_id}")

    async def wait_for_change(self, request: PendingRequest, timeout: float) -> PendingRequest:
        """Return as soon as ``request`` changes (or ``timeout`` passes): the long poll.

        A write wakes the waiter at once through the store's signal; with a signal that does
        not cross processes the store is also re-read every ``recheck_interval``.
        """
        deadline = self._clock() + timeout
        signal = self._store.signal
        recheck = None if signal.crosses_processes else self._recheck
        async with signal.subscription(f"{_NS}:{request.id}") as event:
            while True:
                event.clear()
                current = self.get(request.id)
                if current is None:
                    return request
                if current.version != request.version or current.state != request.state:
                    return current
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return current
                wait = remaining if recheck is None else min(remaining, recheck)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), wait)
