"""The person server's pages on the way to and from another server's pages, wired: routes
around :mod:`aauth.person.relay` (an access server's) and
:mod:`aauth.person.resource_interaction` (a resource's own, PS-25).

==========================================  ================================================
``GET /interact/{id}?code=…``                (an AS or the resource needs the person) the
                                             code to compare, and a link on
``GET /interact/{id}/next``                  on to the AS's page, or back to the agent
``GET /interact/{id}/callback[?error=…]``    where the AS or resource sends the person back
                                             (PS-26)
==========================================  ================================================

Every page needs the signed-in person (the code only correlates, PS-27).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import NotFound
from ..person.persons import Person, Session
from ..person.relay import AccessServerRelay, Onward
from ..person.resource_interaction import ResourceInteractions
from .pages import SignedIn, message_page, page_headers, relay_page, relay_wait_page

__all__ = ["RelayWeb"]

_Handler = Callable[[Request], Awaitable[Response]]
SignInCheck = Callable[[Request], tuple[Session, Person] | None]
MAX_ERROR = 64


def _html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page, status, headers=page_headers())


def next_page(interaction_id: str) -> str:
    return f"/interact/{quote(interaction_id)}/next"


class RelayWeb:
    """The relay's pages; ``signed_in`` names the session and person a browser is signed in
    as, ``to_login`` sends it to sign in first."""

    def __init__(
        self,
        relay: AccessServerRelay | None,
        resource: ResourceInteractions,
        signed_in: SignInCheck,
        to_login: Callable[[Request], Response],
        pages: Callable[[_Handler], _Handler],
    ) -> None:
        self.relay = relay
        self.resource = resource
        self._signed_in = signed_in
        self._to_login = to_login
        self._pages = pages

    def routes(self) -> list[Route]:
        """Before ``/interact/{id}``'s own routes."""
        return [
            Route("/interact/{interaction_id}/next", self._pages(self.next), methods=["GET"]),
            Route(
                "/interact/{interaction_id}/callback", self._pages(self.callback), methods=["GET"]
            ),
        ]

    async def entered(
        self,
        interaction_id: str,
        code: str,
        signed_in: tuple[Session, Person],
        callback: str | None,
    ) -> Response | None:
        """The agent's code, entered for a request whose resource or AS needs the person on
        its own page first: the code to compare, and the link on. None: this PS's consent."""
        session, person = signed_in
        viewer = (person.name, session.csrf)
        if self.resource.first(interaction_id):
            step = await self.resource.enter(interaction_id, code, person, callback)
            assert step.link is not None
            assert step.resource is not None
            return _html(relay_page(code, step.resource, step.link, viewer, resource=True))
        if self.relay is not None and self.relay.relaying(interaction_id):
            grant = self.relay.enter(interaction_id, code, person, callback)
            server, link = grant.access_server or "", next_page(interaction_id)
            return _html(relay_page(code, server, link, viewer))
        return None

    def approved(self, interaction_id: str, callback: str | None) -> Response | None:
        """After the person approved here: on to the AS when the request goes to one."""
        if self.relay is None or not self.relay.federated(interaction_id):
            return None
        self.relay.approved(interaction_id, callback)
        return RedirectResponse(next_page(interaction_id), 303)

    async def next(self, request: Request) -> Response:
        signed_in = self._signed_in(request)
        if signed_in is None:
            return self._to_login(request)
        session, person = signed_in
        interaction_id = request.path_params["interaction_id"]
        if self.relay is None:
            raise NotFound("there is no such request")
        onward = await self.relay.onward(interaction_id, person)
        return self._go(interaction_id, onward, (person.name, session.csrf))

    async def callback(self, request: Request) -> Response:
        signed_in = self._signed_in(request)
        if signed_in is None:
            return self._to_login(request)
        session, person = signed_in
        viewer = (person.name, session.csrf)
        interaction_id = request.path_params["interaction_id"]
        error = request.query_params.get("error")
        error = None if error is None else error[:MAX_ERROR]
        if self.resource.entered(interaction_id):
            step = self.resource.returned(interaction_id, error, person)
            return self._go(interaction_id, Onward(back=step.back, ended=step.ended), viewer)
        if self.relay is None:
            raise NotFound("there is no such request")
        onward = await self.relay.returned(interaction_id, error, person)
        return self._go(interaction_id, onward, viewer)

    @staticmethod
    def _go(interaction_id: str, onward: Onward, viewer: SignedIn) -> Response:
        if onward.link is not None:
            return RedirectResponse(onward.link, 303)
        if onward.waiting:
            return _html(relay_wait_page(next_page(interaction_id), viewer))
        if onward.back is not None:
            return RedirectResponse(onward.back, 303)
        if onward.failed:
            assert onward.ended is not None
            title = "The request ended"
            message = f"The access server's step ended without access ({onward.ended.value})."
            page = message_page(title, message, code=onward.ended.value, signed_in=viewer)
            return _html(page, 403)
        return _html(message_page("Done", "You can return to your agent.", signed_in=viewer))
