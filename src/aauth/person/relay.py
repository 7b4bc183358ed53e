"""Sending the person on to an access server's pages and back (protocol-10 "Interaction
Chaining", §F.5, §F.7).

When an access server needs the person (its interaction page, its payment page), this PS
does not hand the AS's URL and code to the agent. The agent is shown this PS's own
interaction URL and the code of this PS's own pending request; the person enters it here,
signed in, and is sent to ``{AS url}?code={AS code}&callback={per-flow PS callback}``. Back
at that callback the PS either ends its request with the mapped error (PS-26) or sends the
person on to the AS's next page, and finally to the agent's callback (or a completion page).

A person who approved the request on this PS's consent page goes on the same way, without a
second code. Only the agents' polls talk to the AS (so no answer of the AS is consumed twice):
the person's pages wait, up to :data:`RELAY_WAIT` seconds, for the step a poll brings back.
The code is single use like any other (V-37), and only the person who approved (or, for a
chained request, the person behind the upstream grant) may go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..callbacks import ended_callback, ended_with, interaction_link
from ..errors import Forbidden, InvalidCode, NotFound
from ..pending import PendingRequest, PendingRequests, PendingState
from ..store.base import Store
from .consent import checked_callback
from .federation import Federation
from .grant import Grant
from .persons import Person

__all__ = ["RELAY_WAIT", "AccessServerRelay", "Onward"]

_NS = "relay"
RELAY_WAIT = 15.0
"""Seconds a person's page waits for the AS's next step before offering to reload."""
_KEEP = 24 * 3600


@dataclass(frozen=True)
class Onward:
    """Where the person goes next: ``link``, another server's page (with this PS's per-flow
    callback); or, nothing more being asked of them, ``back`` (the agent's callback, carrying
    ``?error=`` when the request ``ended`` badly; None: this PS's completion page). With
    ``waiting`` the AS has not said yet; the page offers to look again."""

    link: str | None = None
    back: str | None = None
    ended: PendingState | None = None
    waiting: bool = False

    @property
    def failed(self) -> bool:
        return self.ended is not None and not self.ended.succeeded


class AccessServerRelay:
    """The person's way through an access server's pages, for one PS."""

    def __init__(
        self,
        federation: Federation,
        pending: PendingRequests,
        store: Store,
        *,
        identifier: str,
        wait: float = RELAY_WAIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._federation = federation
        self._pending = pending
        self._store = store
        self._identifier = identifier
        self._wait = wait
        self._clock = clock

    def callback_url(self, interaction_id: str) -> str:
        """This PS's per-flow callback, where the AS sends the person back."""
        return f"{self._identifier}/interact/{interaction_id}/callback"

    def relaying(self, interaction_id: str) -> bool:
        """Whether the request behind ``interaction_id`` is one whose AS this PS has asked:
        its code leads on to the AS, not to this PS's consent page."""
        request = self._pending.by_interaction(interaction_id)
        return (
            request is not None
            and Federation.handles(request)
            and self._federation.started(request.id)
        )

    def federated(self, interaction_id: str) -> bool:
        """Whether the request behind ``interaction_id`` goes to an access server."""
        request = self._pending.by_interaction(interaction_id)
        return request is not None and Federation.handles(request)

    def enter(self, interaction_id: str, code: str, person: Person, callback: str | None) -> Grant:
        """The person arrived with the code the agent showed (checked, counted, single use):
        from now on they are on their way through the AS's pages, to end at the agent's
        ``callback`` (checked like any, §H.5). The request's grant, for the page."""
        request = self._pending.redeem_code(code, interaction_id)
        self._may_continue(request, person)
        if self._load(request.id) is not None:
            raise InvalidCode("the code has already been used")
        grant = Grant.from_json(request.payload)
        self._remember(request, checked_callback(grant, callback))

        self._pending.interacting(request.id)
        return grant

    def approved(self, interaction_id: str, callback: str | None) -> None:
        """The person approved on this PS's consent page: they go on to the AS, if it needs
        them, from there; ``callback`` (the agent's) is where they end."""
        request = self._pending.by_interaction(interaction_id)
        if request is None:
            raise NotFound("there is no such request")
        self._remember(request, callback)

    async def onward(self, interaction_id: str, person: Person) -> Onward:
        """Wait (up to :data:`RELAY_WAIT`) until the AS asks for a page the person has not
        been sent to, or asks nothing more of them, or the request ends."""
        request = self._owned(interaction_id, person)
        record = self._load(request.id)
        if record is None:
            raise InvalidCode("this request was not entered with its code")
        callback = record.get("callback")
        deadline = self._clock() + self._wait
        while True:
            current = self._pending.get(request.id) or request
            if current.state.terminal:
                return _ended(current.state, callback)
            page = self._federation.person_step(current.id)
            # A page the person has not come back from yet is sent again (a reload).
            if page is not None and not page[1] == record.get("sent") == record.get("back"):
                self._store_record(current, {**record, "sent": page[1]})
                return Onward(link=interaction_link(*page, self.callback_url(interaction_id)))
            if page is None and self._federation.started(current.id):
                return Onward(back=callback)  # the AS needs nothing more from the person
            remaining = deadline - self._clock()
            if remaining <= 0:
                return Onward(waiting=True)
            await self._pending.wait_for_change(current, remaining)

    async def returned(self, interaction_id: str, error: str | None, person: Person) -> Onward:
        """The AS sent the person back: with ``error`` the request ends as PS-26 maps it
        (``access_denied`` → denied, ``user_abandoned`` → abandoned, ``interaction_expired``
        → expired, anything else → server_error); otherwise on to what comes next."""
        request = self._owned(interaction_id, person)
        if error is None:
            record = self._load(request.id) or {}
            self._store_record(request, {**record, "back": record.get("sent")})
            return await self.onward(interaction_id, person)
        state = self._pending.end(request.id, ended_with(error))
        await self._federation.withdraw(request.id)
        record = self._load(request.id) or {}
        return _ended(state, record.get("callback"))

    def _owned(self, interaction_id: str, person: Person) -> PendingRequest:
        request = self._pending.by_interaction(interaction_id)
        if request is None or self._load(request.id) is None:
            raise NotFound("there is no such request")
        self._may_continue(request, person)
        return request

    @staticmethod
    def _may_continue(request: PendingRequest, person: Person) -> None:
        """Only the person who approved here, or behind a chained request's upstream grant,
        goes on (anyone signed in, for a request a rule approved without a person)."""
        chained_for = Grant.from_json(request.payload).person
        if request.decided_by not in (None, person.id) or chained_for not in (None, person.id):
            raise Forbidden("this request is another person's")

    def _remember(self, request: PendingRequest, callback: str | None) -> None:
        self._store_record(request, {"callback": callback, "sent": None, "back": None})

    def _store_record(self, request: PendingRequest, value: dict[str, str | None]) -> None:
        record = self._store.get(_NS, request.id)
        keep = request.expires_at + _KEEP
        if record is None:
            self._store.create(_NS, request.id, value, keep)
        else:
            self._store.replace(_NS, request.id, value, record.version, keep)

    def _load(self, request_id: str) -> dict[str, str | None] | None:
        record = self._store.get(_NS, request_id)
        return None if record is None else dict(record.value)


def _ended(state: PendingState, callback: str | None) -> Onward:
    return Onward(back=ended_callback(callback, state), ended=state)
