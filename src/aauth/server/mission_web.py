"""The person server's mission pages (phases 5 and 12), next to the consent pages.

``/missions/proposal/{id}?code=…`` reviews a proposal the agent sent its person to (the code
page forwards there); ``/missions`` lists the signed-in person's missions and
``/missions/{s256}`` shows one with its log, where the person accepts a completion or revokes
the mission. Every decision is a POST with the session's CSRF token (PS-27); revoking also
revokes, at their resources, the auth tokens issued under the mission (§F.11).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..asgi import read_body
from ..errors import AAuthError, Forbidden, InvalidRequest
from ..missions import MAX_DESCRIPTION
from ..person import PersonService
from ..person.persons import Person
from .mission_pages import mission_list_page, mission_page, proposal_page
from .person_web import UNAUTHENTICATED, PersonWeb, _html, _message, _pages, csrf_ok

V = TypeVar("V")

__all__ = ["MissionWeb", "SignInFirst", "decision_form"]

MAX_FORM = 64 * 1024


async def _fields(request: Request) -> list[tuple[str, str]]:
    """A urlencoded form as ordered pairs (a field may repeat); InvalidRequest otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise InvalidRequest("expected a form submission")
    try:
        text = (await read_body(request.receive, MAX_FORM)).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the form could not be read") from None
    if any(len(value) > MAX_DESCRIPTION for _, value in pairs):
        raise InvalidRequest("a form field is too long")
    return pairs


class SignInFirst(AAuthError):
    """A decision posted without a signed-in person."""

    code, status = UNAUTHENTICATED, 401


async def decision_form(web: PersonWeb, request: Request) -> tuple[Person, list[tuple[str, str]]]:
    """The signed-in person and their form, its CSRF token checked (PS-27); SignInFirst or
    Forbidden otherwise, each shown as a page with its code."""
    signed_in = web._signed_in(request)
    if signed_in is None:
        raise SignInFirst("Only a signed-in person can decide.")
    session, person = signed_in
    pairs = await _fields(request)
    if not csrf_ok(session, dict(pairs)):
        raise Forbidden("This form has expired; reload the page.")
    return person, pairs


def code_page(
    web: PersonWeb,
    request: Request,
    review: Callable[[str, str, Person], V],
    path: str,
    page: Callable[[V, str, str, str], str],
) -> Response:
    """GET on a page an interaction code opens (a mission proposal, a permission request):
    the signed-in person's ``review`` of it (the agent's poll turns ``interacting``), shown by
    ``page`` with the form's action under ``path`` and the CSRF token; sign-in first."""
    signed_in = web._signed_in(request)
    if signed_in is None:
        return web._to_login(request)
    session, person = signed_in
    interaction_id = request.path_params["interaction_id"]
    view = review(interaction_id, request.query_params.get("code", ""), person)
    return _html(page(view, f"{path}/{quote(interaction_id)}", session.csrf, person.name))


class MissionWeb:
    """Mission routes on top of the person pages' sessions."""

    def __init__(self, web: PersonWeb) -> None:
        self.web = web
        self.service: PersonService = web.service

    def routes(self) -> list[Route]:
        return [
            Route("/missions", _pages(self.list), methods=["GET"]),
            Route("/missions/proposal/{interaction_id}", _pages(self.review), methods=["GET"]),
            Route(
                "/missions/proposal/{interaction_id}",
                _pages(self.web._same_site(self.decide)),
                methods=["POST"],
            ),
            Route("/missions/{s256}", _pages(self.show), methods=["GET"]),
            Route("/missions/{s256}", _pages(self.web._same_site(self.act)), methods=["POST"]),
        ]

    async def list(self, request: Request) -> Response:
        signed_in = self.web._signed_in(request)
        if signed_in is None:
            return self.web._to_login(request)
        person = signed_in[1]
        missions = self.service.missions.of_person(person.id)
        return _html(mission_list_page(missions, (person.name, signed_in[0].csrf)))

    async def review(self, request: Request) -> Response:
        """GET: the proposal the code names."""
        review = self.service.mission_review.review
        return code_page(self.web, request, review, "/missions/proposal", proposal_page)

    async def decide(self, request: Request) -> Response:
        """POST: approve (with the edited description and the resources left ticked), deny, or
        ask the agent a question (back to the page, which shows it)."""
        person, pairs = await decision_form(self.web, request)
        form = dict(pairs)
        decision = form.get("decision")
        if decision not in ("approve", "deny", "ask"):
            raise InvalidRequest("choose approve or deny")
        interaction_id = request.path_params["interaction_id"]
        if decision == "ask":
            code = form.get("code", "")
            review = self.service.mission_review
            review.ask(interaction_id, code, person, form.get("question", ""))
            page = f"/missions/proposal/{quote(interaction_id)}?{urlencode({'code': code})}"
            return RedirectResponse(page, 303)
        mission = self.service.mission_review.decide(
            interaction_id,
            form.get("code", ""),
            person,
            approve=decision == "approve",
            description=form.get("description"),
            resources={v for k, v in pairs if k == "resource"} if "description" in form else None,
        )
        if mission is None:
            return _message(request, "Mission denied", "The agent has been told.", 200)
        return _message(request, "Mission approved", "You can return to your agent.", 200)

    async def show(self, request: Request) -> Response:
        signed_in = self.web._signed_in(request)
        if signed_in is None:
            return self.web._to_login(request)
        session, person = signed_in
        mission = self.service.mission_review.mission(request.path_params["s256"], person)
        log = self.service.missions.entries(mission.s256)
        return _html(mission_page(mission, log, (person.name, session.csrf)))

    async def act(self, request: Request) -> Response:
        """POST: ``accept`` or ``decline`` the completion, or ``revoke`` the mission."""
        person, pairs = await decision_form(self.web, request)
        form = dict(pairs)
        s256, action = request.path_params["s256"], form.get("action")
        review = self.service.mission_review
        if action in ("accept", "decline"):
            review.answer_completion(s256, person, accept=action == "accept")
            if action == "decline":
                return _message(request, "Completion declined", "The mission stays active.", 200)
            return _message(request, "Mission completed", "The mission has ended.", 200)
        if action != "revoke":
            raise InvalidRequest("choose accept, decline or revoke")
        review.revoke(s256, person)
        missions = self.service.missions
        for jti, outcome in await self.service.revoker.revoke(missions.issued(s256)):
            missions.log(s256, "token revoked", jti=jti, outcome=outcome)
        return _message(request, "Mission revoked", "The agent can no longer act on it.", 200)
