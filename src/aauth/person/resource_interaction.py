"""Resource-initiated interaction (protocol-10 §F.5, "Resource-Initiated Interaction";
PS-25, PS-26).

A resource token may carry ``interaction`` (``url``, ``code``): the resource needs the person
on its own page (say, an OAuth grant at a third party) before this PS's consent means
anything. The agent is shown this PS's interaction URL and code as for any consent. When
the person arrives (signed in, the code checked as always), the PS first sends them to
``{interaction.url}?code={interaction.code}&callback={per-flow PS callback}``; the URL was
https (or loopback http where allowed) and passed egress admission when the token came in,
and passes it again here. Back at the callback, ``?error=`` ends the request as PS-26 maps
it and the person goes on to the agent's callback with the error; otherwise they come back
to this PS's own consent page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from ..callbacks import ended_callback, ended_with, interaction_link
from ..egress import EgressDenied, EgressPolicy
from ..errors import Forbidden, InvalidCode, NotFound, ServerError
from ..pending import PendingRequest, PendingRequests, PendingState
from ..store.base import Store
from .consent import ConsentFlow, checked_callback
from .grant import Grant
from .persons import Person

__all__ = ["ResourceInteractions", "ResourceStep"]

_NS = "resource-interaction"
_KEEP = 24 * 3600


@dataclass(frozen=True)
class ResourceStep:
    """Where the person goes: ``link`` (the resource's page, with this PS's callback) with
    the ``resource`` to name on the page before it; or ``back`` (None: a completion page,
    for a request that ``ended``)."""

    link: str | None = None
    resource: str | None = None
    back: str | None = None
    ended: PendingState | None = None


class ResourceInteractions:
    """Sends people through resources' own pages before this PS's consent."""

    def __init__(
        self,
        consent: ConsentFlow,
        pending: PendingRequests,
        store: Store,
        *,
        identifier: str,
        egress: EgressPolicy,
    ) -> None:
        self._consent = consent
        self._pending = pending
        self._store = store
        self._identifier = identifier
        self._egress = egress

    def callback_url(self, interaction_id: str) -> str:
        return f"{self._identifier}/interact/{interaction_id}/callback"

    def first(self, interaction_id: str) -> bool:
        """Whether the request behind ``interaction_id`` waits for a resource's page first."""
        request = self._pending.by_interaction(interaction_id)
        if request is None or Grant.from_json(request.payload).interaction is None:
            return False
        record = self._load(request.id)
        return record is None or not record.get("done")

    def entered(self, interaction_id: str) -> bool:
        """Whether a person was sent to the resource's page for this request."""
        request = self._pending.by_interaction(interaction_id)
        return request is not None and self._load(request.id) is not None

    async def enter(
        self, interaction_id: str, code: str, person: Person, callback: str | None
    ) -> ResourceStep:
        """The person arrived with the agent's code (checked, counted, single use here):
        off to the resource's page (PS-25), to come back to this PS's callback."""
        request, grant = self._consent.redeem(interaction_id, code, person)
        assert grant.interaction is not None
        target = checked_callback(grant, callback)
        url, resource_code = grant.interaction["url"], grant.interaction["code"]
        try:
            await self._egress.aadmit(url)
        except EgressDenied as exc:
            raise ServerError(f"the resource's interaction page is not admitted: {exc}") from None
        value = {"person": person.id, "callback": target, "done": False}
        if not self._store.create(_NS, request.id, value, request.expires_at + _KEEP):
            raise InvalidCode("the code has already been used")

        self._pending.interacting(request.id)
        link = interaction_link(url, resource_code, self.callback_url(interaction_id))
        return ResourceStep(link=link, resource=grant.resource_name or grant.resource)

    def returned(self, interaction_id: str, error: str | None, person: Person) -> ResourceStep:
        """The resource sent the person back: with ``error`` the request ends as PS-26 maps
        it; otherwise back to this PS's consent page, with the code and the agent's callback."""
        request = self._pending.by_interaction(interaction_id)
        record = None if request is None else self._load(request.id)
        if request is None or record is None:
            raise NotFound("there is no such request")
        if record["person"] != person.id:
            raise Forbidden("another person started this request's interaction")
        kept = record.get("callback")
        callback = kept if isinstance(kept, str) else None
        if error is not None:
            state = self._pending.end(request.id, ended_with(error))  # a replay: the first end
            return ResourceStep(back=ended_callback(callback, state), ended=state)
        self._save(request, {**record, "done": True})
        query = {"code": request.code or ""}
        if callback is not None:
            query["callback"] = callback
        return ResourceStep(back=f"/interact/{interaction_id}?{urlencode(query)}")

    def _save(self, request: PendingRequest, value: dict[str, object]) -> None:
        record = self._store.get(_NS, request.id)
        assert record is not None
        self._store.replace(_NS, request.id, value, record.version, request.expires_at + _KEEP)

    def _load(self, request_id: str) -> dict[str, object] | None:
        record = self._store.get(_NS, request_id)
        return None if record is None else dict(record.value)
