"""The person server's pages (protocol-10 §F.5): sign in, enter a code, review, decide.

Only what is in the store identifies a browser: a random session cookie (HttpOnly,
SameSite=Lax, Secure except on loopback development servers). Every decision is a POST that
needs that session and its CSRF token (PS-27); the code alone decides nothing. Password and
code guesses are counted against the client, the account and the session. Every problem is
an escaped page with its status, never a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..asgi import read_body
from ..errors import AAuthError, InvalidCode, InvalidRequest
from ..person import LoginRequired, PersonService
from ..person.persons import Person, PersonDirectory, Session
from ..ratelimit import FailureLimiter
from .pages import (
    audit_page,
    code_page,
    consent_page,
    login_page,
    message_page,
    page_headers,
)

__all__ = ["PERSON_FACING", "SESSION_COOKIE", "PersonWeb", "sign_in"]

SESSION_COOKIE = "aauth_ps_session"
PERSON_FACING = ("/login", "/logout", "/interact", "/missions")
"""Path prefixes that answer people (HTML) rather than agents (problem+json)."""

MAX_FORM = 16 * 1024
MAX_FIELD = 1024
_TITLES = {
    "invalid_code": "This code cannot be used",
    "expired": "This request has expired",
    "not_found": "Request not found",
    "forbidden": "Not allowed",
    "invalid_request": "This request cannot be completed",
    "too_many_rounds": "No more questions",
    "gone": "Request withdrawn",
}

_Handler = Callable[[Request], Awaitable[Response]]


def _html(page: str, status: int = 200, form_targets: tuple[str, ...] = ()) -> HTMLResponse:
    return HTMLResponse(page, status, headers=page_headers(form_targets))


def _message(title: str, message: str, status: int) -> HTMLResponse:
    return _html(message_page(title, message), status)


def _pages(handler: _Handler) -> _Handler:
    """Every protocol error becomes an escaped page with the error's status."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except AAuthError as exc:
            title = _TITLES.get(exc.code, "Something went wrong")
            return _message(title, exc.description, exc.status)

    return run


def _next(value: str | None) -> str:
    """A local path to continue to after signing in; anything else goes to the code page."""
    if (
        value
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and len(value) <= 2048
        and value.isascii()
        and value.isprintable()
    ):
        return value
    return "/interact"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form; InvalidRequest for anything else."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        raise InvalidRequest("expected a form submission")
    try:
        text = (await read_body(request.receive, MAX_FORM)).decode("utf-8")
        fields = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=16)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the form could not be read") from None
    if any(len(value) > MAX_FIELD for _, value in fields):
        raise InvalidRequest("a form field is too long")
    return dict(fields)


async def sign_in(
    request: Request,
    people: PersonDirectory,
    limiter: FailureLimiter,
    *,
    cookie: str,
    lifetime: int,
    secure: bool,
) -> Response:
    """POST /login: check the password (failures counted per client and per account), open
    a session in ``cookie`` (HttpOnly, SameSite=Lax) and continue to the form's ``next``."""
    form = await _form(request)
    username, password = form.get("username", ""), form.get("password", "")
    target = _next(form.get("next"))
    client = request.client.host if request.client else "unknown"
    keys = (f"client:{client}", f"user:{username}")
    if any(limiter.blocked(key) for key in keys):
        return _html(login_page("/login", error="Too many attempts; try again later."), 429)
    person = await asyncio.to_thread(people.authenticate, username, password)
    if person is None:
        for key in keys:
            limiter.fail(key)
        page = login_page("/login", error="Wrong username or password.", hidden={"next": target})
        return _html(page, 401)
    session = people.open_session(person)
    response = RedirectResponse(target, 303)
    response.set_cookie(
        cookie, session.id, max_age=lifetime, path="/", httponly=True, samesite="lax", secure=secure
    )
    return response


class PersonWeb:
    """The person-facing routes of one person server."""

    def __init__(self, service: PersonService) -> None:
        self.service = service
        self.people = service.people

    def routes(self) -> list[Route]:
        return [
            Route("/login", _pages(self.login_form), methods=["GET"]),
            Route("/login", _pages(self.login), methods=["POST"]),
            Route("/logout", _pages(self.logout), methods=["POST"]),
            Route("/interact", _pages(self.code_entry), methods=["GET"]),
            Route("/interact/{interaction_id}", _pages(self.review), methods=["GET"]),
            Route("/interact/{interaction_id}", _pages(self.decide), methods=["POST"]),
            Route("/audit", _pages(self.audit), methods=["GET"]),
        ]

    # -- sessions ---------------------------------------------------------------------------

    def _signed_in(self, request: Request) -> tuple[Session, Person] | None:
        session = self.people.session(request.cookies.get(SESSION_COOKIE))
        person = None if session is None else self.people.get(session.person_id)
        return None if session is None or person is None else (session, person)

    @staticmethod
    def _to_login(request: Request) -> Response:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': here})}", 303)

    def _csrf_ok(self, session: Session, form: dict[str, str]) -> bool:
        return hmac.compare_digest(form.get("csrf", "").encode(), session.csrf.encode())

    async def login_form(self, request: Request) -> Response:
        target = _next(request.query_params.get("next"))
        if self._signed_in(request) is not None:
            return RedirectResponse(target, 303)
        return _html(login_page("/login", hidden={"next": target}))

    async def login(self, request: Request) -> Response:
        config = self.service.config
        return await sign_in(
            request,
            self.people,
            self.service.login_failures,
            cookie=SESSION_COOKIE,
            lifetime=config.session_lifetime,
            secure=not config.loopback,
        )

    async def logout(self, request: Request) -> Response:
        signed_in = self._signed_in(request)
        if signed_in is None or not self._csrf_ok(signed_in[0], await _form(request)):
            return _message("Not allowed", "The sign-out form has expired.", 403)
        self.people.close_session(signed_in[0].id)
        response = _message("Signed out", "You are signed out.", 200)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- audit ------------------------------------------------------------------------------

    async def audit(self, request: Request) -> Response:
        """GET /audit: the signed-in person's log (PS-32), as a page or, asked for JSON, as
        ``{"person": …, "entries": [...]}``; only ever the person's own."""
        wants_json = "application/json" in request.headers.get("accept", "")
        signed_in = self._signed_in(request)
        if signed_in is None:
            if wants_json:
                problem = {"error": "login_required", "detail": "sign in to read your log"}
                return JSONResponse(problem, 401, media_type="application/problem+json")
            return self._to_login(request)
        _, person = signed_in
        entries = self.service.audit.entries(person.id)
        if wants_json:
            document = {"person": person.id, "entries": [e.to_json() for e in entries]}
            return JSONResponse(document, headers={"Cache-Control": "no-store"})
        return _html(audit_page(person.name, entries))

    # -- interaction ------------------------------------------------------------------------

    async def code_entry(self, request: Request) -> Response:
        """GET /interact[?code=…&callback=…]: the code page, or on to the request it names."""
        signed_in = self._signed_in(request)
        if signed_in is None:
            return self._to_login(request)
        session, _ = signed_in
        code = request.query_params.get("code")
        if not code:
            return _html(code_page("/interact", session.csrf))
        limiter = self.service.code_failures
        if limiter.blocked(session.id):
            return _message("Too many attempts", "Too many wrong codes; try again later.", 429)
        try:
            found = self.service.consent.find(code)
        except InvalidCode as exc:
            limiter.fail(session.id)
            return _html(code_page("/interact", session.csrf, error=exc.description), 400)
        query = {"code": code}
        if found.payload.get("kind") == "mission":  # a mission proposal, not a token request
            return RedirectResponse(
                f"/missions/proposal/{found.interaction_id}?{urlencode(query)}", 303
            )
        callback = request.query_params.get("callback")
        if callback:
            query["callback"] = callback
        return RedirectResponse(f"/interact/{found.interaction_id}?{urlencode(query)}", 303)

    async def review(self, request: Request) -> Response:
        """GET /interact/{id}?code=…: the consent page; the request becomes ``interacting``."""
        signed_in = self._signed_in(request)
        if signed_in is None:
            return self._to_login(request)
        session, person = signed_in
        interaction_id = request.path_params["interaction_id"]
        code = request.query_params.get("code")
        if not code:
            return _html(code_page(f"/interact/{quote(interaction_id)}", session.csrf))
        callback = request.query_params.get("callback")
        try:
            review = self.service.consent.review(
                interaction_id,
                code,
                person,
                signed_in_at=session.expires_at - self.service.config.session_lifetime,
                callback=callback,
            )
        except LoginRequired:
            self.people.close_session(session.id)
            return self._to_login(request)
        action = f"/interact/{quote(interaction_id)}"
        targets: tuple[str, ...] = ()
        if review.callback is not None:
            action += f"?{urlencode({'callback': review.callback})}"
            targets = (_origin(review.callback),)
        page = consent_page(review.view, action, session.csrf, person.name)
        return _html(page, form_targets=targets)

    async def decide(self, request: Request) -> Response:
        """POST /interact/{id}: approve, deny or ask the agent a question, as the signed-in
        person, with CSRF (PS-27). A question leads back to the page, which shows it."""
        signed_in = self._signed_in(request)
        if signed_in is None:
            return _message("Sign in first", "Only a signed-in person can decide.", 401)
        session, person = signed_in
        form = await _form(request)
        if not self._csrf_ok(session, form):
            return _message("Not allowed", "This form has expired; reload the page.", 403)
        decision = form.get("decision")
        if decision not in ("approve", "deny", "ask"):
            raise InvalidRequest("choose approve or deny")
        interaction_id = request.path_params["interaction_id"]
        if decision == "ask":
            code = form.get("code", "")
            self.service.consent.ask(interaction_id, code, person, form.get("question", ""))
            query = {"code": code, **dict(request.query_params.items())}
            return RedirectResponse(f"/interact/{quote(interaction_id)}?{urlencode(query)}", 303)
        outcome = self.service.consent.decide(
            interaction_id,
            form.get("code", ""),
            person,
            approve=decision == "approve",
            callback=request.query_params.get("callback"),
        )
        if outcome.redirect is not None:
            return RedirectResponse(outcome.redirect, 303)
        if outcome.approved:
            return _message("Access approved", "You can return to your agent.", 200)
        return _message("Request denied", "The agent has been told.", 200)
