"""The person's pages for relayed interactions (§F.6): ``/relays`` lists what the person's
agents could not show them themselves; ``/relays/{id}`` shows one (the agent, its untrusted
description escaped, V-42, the other server's URL and code); its *Go to the page* form
(``POST /relays/{id}/go``, with the session's CSRF token, PS-27: a cross-site link cannot
move a relay on) marks the relay ``interacting`` and sends the person on with this PS's
per-flow callback, where they come back to ``/relays/{id}/callback`` (a GET, since the other
server redirects there) and the relay resolves; a second visit finds it ended (404). An
agent's question is shown there too (escaped), with a form posted back to ``/relays/{id}``
with the session's CSRF token (PS-27): the person's answer, or their refusal. Only the person
the agent is bound to sees a relay; for anyone else it does not exist.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import InvalidRequest
from ..missions import MAX_DESCRIPTION
from ..pending import PendingRequest
from ..person import PersonService
from ..person.interaction_relay import QUESTION
from .mission_pages import _hidden
from .mission_web import decision_form
from .pages import SignedIn, _page, _text
from .person_web import PersonWeb, _html, _message, _pages
from .same_site import origin

__all__ = ["RelayWeb", "question_page", "relay_inbox_page", "relayed_page"]

_WHAT = {
    "interaction": "needs you on a page",
    "payment": "asks you to approve a payment",
    QUESTION: "asks you a question",
}


def relay_inbox_page(relays: list[PendingRequest], signed_in: SignedIn) -> str:
    """The person's waiting relays, newest first."""
    rows = "".join(
        f"<li><a href='/relays/{quote(r.interaction_id or '')}'>"
        f"<code>{escape(r.payload['agent'])}</code> {_WHAT[r.payload['type']]}</a></li>"
        for r in relays
        if r.interaction_id is not None
    )
    return _page(
        "Waiting for you",
        f"<h1>Waiting for {escape(signed_in[0])}</h1>"
        + (f"<ul id=relays>{rows}</ul>" if rows else "<p id=relays>Nothing is waiting.</p>"),
        signed_in=signed_in,
    )


def relayed_page(request: PendingRequest, signed_in: SignedIn) -> str:
    """One relay: what the agent says, where the person goes, the code to check there, and
    the form (with the session's CSRF token) that sends them on."""
    csrf = signed_in[1]
    payload = request.payload
    description = payload.get("description")
    go = f"/relays/{quote(request.interaction_id or '')}/go"
    return _page(
        "Your agent needs you",
        f"<h1>Your agent {_WHAT[payload['type']]}</h1><div class=box>"
        f"<p>Agent: <code>{escape(payload['agent'])}</code></p>"
        f"{_text(description) if description else ''}"
        f"<p>Page: <code id=url>{escape(payload['url'])}</code></p>"
        f"<p>Code: <code id=code>{escape(payload['code'])}</code></p></div>"
        f"<form method=post action='{escape(go)}'>"
        f"<input type=hidden name=csrf value='{escape(csrf)}'>"
        "<button type=submit id=go>Go to the page</button></form>",
        signed_in=signed_in,
    )


def question_page(request: PendingRequest, signed_in: SignedIn) -> str:
    """The agent's question (untrusted Markdown, escaped: V-42) and the person's answer form,
    posted with the session's CSRF token (PS-27)."""
    csrf = signed_in[1]
    action = f"/relays/{quote(request.interaction_id or '')}"
    return _page(
        "Your agent asks",
        f"<h1>Your agent {_WHAT[QUESTION]}</h1><div class=box>"
        f"<p>Agent: <code>{escape(request.payload['agent'])}</code></p>"
        f"<div id=question>{_text(request.payload['question'])}</div></div>"
        f"<form method=post action='{escape(action)}'>{_hidden(csrf)}"
        "<label>Your answer (the agent is told)<br><textarea name=answer id=answer "
        f"maxlength={MAX_DESCRIPTION}></textarea></label>"
        "<button type=submit name=decision value=answer id=approve>Answer</button>"
        "<button type=submit name=decision value=decline id=deny>Decline</button></form>",
        signed_in=signed_in,
    )


class RelayWeb:
    """Relay routes on top of the person pages' sessions."""

    def __init__(self, web: PersonWeb) -> None:
        self.web = web
        self.service: PersonService = web.service

    def routes(self) -> list[Route]:
        return [
            Route("/relays", _pages(self.inbox), methods=["GET"]),
            Route("/relays/{interaction_id}", _pages(self.show), methods=["GET"]),
            Route(
                "/relays/{interaction_id}",
                _pages(self.web._same_site(self.answer)),
                methods=["POST"],
            ),
            Route(
                "/relays/{interaction_id}/go",
                _pages(self.web._same_site(self.go)),
                methods=["POST"],
            ),
            Route("/relays/{interaction_id}/callback", _pages(self.returned), methods=["GET"]),
        ]

    async def inbox(self, request: Request) -> Response:
        signed_in = self.web._signed_in(request)
        if signed_in is None:
            return self.web._to_login(request)
        session, person = signed_in
        relays = self.service.interaction_relay.inbox(person)
        return _html(relay_inbox_page(relays, (person.name, session.csrf)))

    async def show(self, request: Request) -> Response:
        signed_in = self.web._signed_in(request)
        if signed_in is None:
            return self.web._to_login(request)
        interaction_id = request.path_params["interaction_id"]
        session, person = signed_in
        relay = self.service.interaction_relay.view(interaction_id, person)
        viewer = (person.name, session.csrf)
        if relay.payload["type"] == QUESTION:
            return _html(question_page(relay, viewer))
        # Browsers hold the redirect answering the form to ``form-action``: name its origin.
        page_origin = origin(relay.payload["url"])
        return _html(relayed_page(relay, viewer), form_targets=(page_origin,))

    async def answer(self, request: Request) -> Response:
        """POST, as the signed-in person with the session's CSRF token (PS-27): the answer to
        the agent's question, or its refusal; the agent's poll gets it at once."""
        person, pairs = await decision_form(self.web, request)
        form = dict(pairs)
        interaction_id = request.path_params["interaction_id"]
        questions = self.service.interaction_relay
        if form.get("decision") == "decline":
            questions.decline(interaction_id, person)
            return _message(request, "Question declined", "The agent has been told.", 200)
        if form.get("decision") != "answer":
            raise InvalidRequest("choose answer or decline")
        questions.answer(interaction_id, person, form.get("answer"))
        return _message(request, "Answer sent", "You can return to your agent.", 200)

    async def go(self, request: Request) -> Response:
        """POST, as the signed-in person with the session's CSRF token (PS-27): on to the
        other server's page; the agent's poll of the relay says ``interacting`` (AG-31)."""
        person, _ = await decision_form(self.web, request)
        interaction_id = request.path_params["interaction_id"]
        link = self.service.interaction_relay.go(interaction_id, person)
        return RedirectResponse(link, 303)

    async def returned(self, request: Request) -> Response:
        """Back from the other server's page: the relay has done all it can."""
        signed_in = self.web._signed_in(request)
        if signed_in is None:
            return self.web._to_login(request)
        interaction_id = request.path_params["interaction_id"]
        self.service.interaction_relay.returned(interaction_id, signed_in[1])
        return _message(request, "Done here", "You can return to your agent.", 200)
