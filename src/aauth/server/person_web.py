"""The person server's pages (protocol-10 §F.5): sign in, enter a code, review, decide.

Only what is in the store identifies a browser: a random session cookie (HttpOnly,
SameSite=Lax, Secure except on loopback development servers). Every decision is a POST that
needs that session and its CSRF token (PS-27); the code alone decides nothing. Signing in
needs the sign-in form's own token (login CSRF, :mod:`aauth.person.login_csrf`), and every
form POST from another site (``Sec-Fetch-Site``, ``Origin``) is refused with 403 before
anything else. Wrong passwords back off per (account, address), per address and, much later,
per account; wrong codes per session, person and address. Every problem is an escaped page
with its status and AAuth error code, never a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..asgi import read_body
from ..errors import AAuthError, Forbidden, InvalidCode, InvalidRequest, SlowDown
from ..person import LoginRequired, PersonService
from ..person.persons import Person, PersonDirectory, Session
from ..ratelimit import FailureLimiter
from .pages import (
    SignedIn,
    audit_page,
    code_page,
    consent_page,
    login_page,
    message_page,
    page_headers,
)
from .person_relay_web import RelayWeb
from .same_site import origin, same_site

__all__ = ["LOGIN_COOKIE", "PERSON_FACING", "SESSION_COOKIE", "PersonWeb", "sign_in"]

SESSION_COOKIE = "aauth_ps_session"
LOGIN_COOKIE = "aauth_ps_login"
"""The sign-in form's CSRF cookie; ``__Host-`` prefixed (so no sibling subdomain can set it)
whenever cookies are Secure."""
UNAUTHENTICATED = "access_denied"
"""The error code of a refusal for want of a signed-in person (wrong password, no session)."""
PERSON_FACING = ("/login", "/logout", "/interact", "/missions", "/permissions", "/relays")
"""Path prefixes that answer people (HTML) rather than agents (problem+json)."""
_REVIEW_PAGES = {
    "mission": "/missions/proposal/",
    "permission": "/permissions/",
    "relay": "/relays/",
}
"""Where a code for something other than a token request leads, by the request's ``kind``."""

MAX_FORM = 16 * 1024
MAX_FIELD = 1024
_TITLES = {
    UNAUTHENTICATED: "Sign in first",
    "invalid_code": "This code cannot be used",
    "expired": "This request has expired",
    "not_found": "Request not found",
    "forbidden": "Not allowed",
    "invalid_request": "This request cannot be completed",
    "slow_down": "Too many attempts",
    "too_many_rounds": "No more questions",
    "gone": "Request withdrawn",
}

_Handler = Callable[[Request], Awaitable[Response]]


def _html(
    page: str,
    status: int = 200,
    form_targets: tuple[str, ...] = (),
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return HTMLResponse(page, status, headers={**page_headers(form_targets), **(headers or {})})


def _viewer(request: Request) -> SignedIn | None:
    """Who the handler found signed in (:meth:`PersonWeb._signed_in` notes it on the request):
    the outcome and refusal pages it answers with show them and the sign-out control."""
    viewer: SignedIn | None = getattr(request.state, "signed_in", None)
    return viewer


def _message(request: Request, title: str, message: str, status: int) -> HTMLResponse:
    """An outcome page, for the person signed in on ``request``."""
    return _html(message_page(title, message, signed_in=_viewer(request)), status)


def _refusal(error: AAuthError, request: Request) -> HTMLResponse:
    """The page for a protocol error: its status, its code, its headers (``Retry-After``)."""
    title = _TITLES.get(error.code, "Something went wrong")
    page = message_page(title, error.description, code=error.code, signed_in=_viewer(request))
    return _html(page, error.status, headers=error.response_headers())


def _pages(handler: _Handler) -> _Handler:
    """Every protocol error becomes an escaped page with the error's status and code."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except AAuthError as exc:
            return _refusal(exc, request)

    return run


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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
    server_name: str | None = None,
) -> Response:
    """POST /login: check the password (failures counted per client and per account), open
    a session in ``cookie`` (HttpOnly, SameSite=Lax) and continue to the form's ``next``;
    the sign-in page, shown again after a failure, names ``server_name``."""
    form = await _form(request)
    username, password = form.get("username", ""), form.get("password", "")
    target = _next(form.get("next"))
    client = request.client.host if request.client else "unknown"
    keys = (f"client:{client}", f"user:{username}")
    if any(limiter.blocked(key) for key in keys):
        error = "Too many attempts; try again later."
        return _html(login_page("/login", error=error, server_name=server_name), 429)
    person = await asyncio.to_thread(people.authenticate, username, password)
    if person is None:
        for key in keys:
            limiter.fail(key)
        page = login_page(
            "/login",
            error="Wrong username or password.",
            hidden={"next": target},
            server_name=server_name,
        )
        return _html(page, 401)
    session = people.open_session(person)
    response = RedirectResponse(target, 303)
    response.set_cookie(
        cookie, session.id, max_age=lifetime, path="/", httponly=True, samesite="lax", secure=secure
    )
    return response


def csrf_ok(session: Session, form: Mapping[str, str]) -> bool:
    """Whether ``form`` carries ``session``'s CSRF token (compared in constant time, PS-27)."""
    return hmac.compare_digest(form.get("csrf", "").encode(), session.csrf.encode())


async def sign_out(
    request: Request, people: PersonDirectory, session: Session | None, *, cookie: str
) -> Response:
    """POST /logout, the sign-out bar's form: the session closes when the form carries its
    CSRF token (403 ``forbidden`` otherwise, or when no session is open), and the cookie goes."""
    form = await _form(request)
    if session is None or not csrf_ok(session, form):
        raise Forbidden("The sign-out form has expired.")
    people.close_session(session.id)
    response = _html(message_page("Signed out", "You are signed out."))
    response.delete_cookie(cookie, path="/")
    return response


class PersonWeb:
    """The person-facing routes of one person server."""

    def __init__(self, service: PersonService) -> None:
        self.service = service
        self.people = service.people
        self._origin = origin(service.config.identifier)
        self._secure = not service.config.loopback
        self._login_cookie = f"__Host-{LOGIN_COOKIE}" if self._secure else LOGIN_COOKIE
        self.relay = RelayWeb(
            service.relay, service.resource_interactions, self._signed_in, self._to_login, _pages
        )

    def routes(self) -> list[Route]:
        return [
            *self.relay.routes(),
            Route("/login", _pages(self.login_form), methods=["GET"]),
            Route("/login", _pages(self._same_site(self.login)), methods=["POST"]),
            Route("/logout", _pages(self._same_site(self.logout)), methods=["POST"]),
            Route("/interact", _pages(self.code_entry), methods=["GET"]),
            Route("/interact/{interaction_id}", _pages(self.review), methods=["GET"]),
            Route(
                "/interact/{interaction_id}",
                _pages(self._same_site(self.decide)),
                methods=["POST"],
            ),
            Route("/audit", _pages(self.audit), methods=["GET"]),
        ]

    def _same_site(self, handler: _Handler) -> _Handler:
        """Refuse a form POST another site made the browser send (CSRF), before reading it."""

        return same_site(handler, self._origin)

    # -- sessions ---------------------------------------------------------------------------

    def _signed_in(self, request: Request) -> tuple[Session, Person] | None:
        """The browser's session and person, noted on ``request`` for the pages (the sign-out
        control shows only once a handler has looked and found them)."""
        session = self.people.session(request.cookies.get(SESSION_COOKIE))
        person = None if session is None else self.people.get(session.person_id)
        if session is None or person is None:
            return None
        request.state.signed_in = (person.name, session.csrf)
        return session, person

    @staticmethod
    def _to_login(request: Request) -> Response:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': here})}", 303)

    @property
    def _name(self) -> str:
        """This person server as its login page names it."""
        config = self.service.config
        return config.name or config.identifier

    def _login_page(
        self,
        request: Request,
        target: str,
        status: int = 200,
        *,
        error: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The sign-in form with its CSRF token, in the page and in its cookie."""
        token = self.service.login_csrf.current(request.cookies.get(self._login_cookie))
        hidden = {"next": target, "csrf": token}
        page = login_page("/login", error=error, code=code, hidden=hidden, server_name=self._name)
        response = _html(page, status, headers=headers)
        response.set_cookie(
            self._login_cookie,
            token,
            max_age=self.service.login_csrf.lifetime,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self._secure,
        )
        return response

    async def login_form(self, request: Request) -> Response:
        target = _next(request.query_params.get("next"))
        if self._signed_in(request) is not None:
            return RedirectResponse(target, 303)
        return self._login_page(request, target)

    async def login(self, request: Request) -> Response:
        form = await _form(request)
        username, password = form.get("username", ""), form.get("password", "")
        target = _next(form.get("next"))
        if not self.service.login_csrf.check(
            request.cookies.get(self._login_cookie), form.get("csrf")
        ):
            expired = "This sign-in form has expired or came from elsewhere; sign in again."
            return self._login_page(request, target, 403, error=expired, code=Forbidden.code)
        client = _client(request)
        keys = {"pair": f"{username}\x00{client}", "client": client, "account": username}
        throttle = self.service.login_throttle
        wait = throttle.retry_after(**keys)
        if wait is not None:
            slow = SlowDown("too many attempts", retry_after=wait)
            return self._login_page(
                request,
                target,
                429,
                error=f"Too many attempts; try again in {slow.retry_after} s.",
                code=slow.code,
                headers=slow.response_headers(),
            )
        person = await asyncio.to_thread(self.people.authenticate, username, password)
        if person is None:
            throttle.fail(**keys)
            wrong = "Wrong username or password."
            return self._login_page(request, target, 401, error=wrong, code=UNAUTHENTICATED)
        throttle.clear("pair", keys["pair"])
        session = self.people.open_session(person)
        response = RedirectResponse(target, 303)
        response.set_cookie(
            SESSION_COOKIE,
            session.id,
            max_age=self.service.config.session_lifetime,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )
        response.delete_cookie(
            self._login_cookie, path="/", secure=self._secure, httponly=True, samesite="strict"
        )
        return response

    async def logout(self, request: Request) -> Response:
        signed_in = self._signed_in(request)
        session = None if signed_in is None else signed_in[0]
        return await sign_out(request, self.people, session, cookie=SESSION_COOKIE)

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
        return _html(audit_page(entries, (person.name, signed_in[0].csrf)))

    def _code_keys(self, request: Request, session: Session) -> dict[str, str]:
        return {"session": session.id, "person": session.person_id, "client": _client(request)}

    def _guessing(self, keys: dict[str, str]) -> None:
        """SlowDown while any of the keys has guessed too many wrong codes (V-38)."""
        wait = self.service.code_throttle.retry_after(**keys)
        if wait is not None:
            raise SlowDown("Too many wrong codes; try again later.", retry_after=wait)

    # -- interaction ------------------------------------------------------------------------

    async def code_entry(self, request: Request) -> Response:
        """GET /interact[?code=…&callback=…]: the code page, or on to the request it names."""
        signed_in = self._signed_in(request)
        if signed_in is None:
            return self._to_login(request)
        session, person = signed_in
        code = request.query_params.get("code")
        if not code:
            return _html(code_page("/interact", session.csrf, person_name=person.name))
        keys = self._code_keys(request, session)
        self._guessing(keys)
        try:
            found = self.service.consent.find(code)
        except InvalidCode as exc:
            self.service.code_throttle.fail(**keys)
            page = code_page(
                "/interact",
                session.csrf,
                error=exc.description,
                code=exc.code,
                person_name=person.name,
            )
            return _html(page, 400)
        query = {"code": code}
        review_page = _REVIEW_PAGES.get(str(found.payload.get("kind")))
        if review_page is not None:  # a mission proposal or a permission, not a token request
            target = f"{review_page}{found.interaction_id}?{urlencode(query)}"
            return RedirectResponse(target, 303)
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
            action = f"/interact/{quote(interaction_id)}"
            return _html(code_page(action, session.csrf, person_name=person.name))
        callback = request.query_params.get("callback")
        keys = self._code_keys(request, session)
        self._guessing(keys)
        try:
            onward = await self.relay.entered(interaction_id, code, signed_in, callback)
            if onward is not None:
                return onward
            review = self.service.consent.review(
                interaction_id,
                code,
                person,
                signed_in_at=session.expires_at - self.service.config.session_lifetime,
                callback=callback,
            )
        except InvalidCode:
            self.service.code_throttle.fail(**keys)
            raise
        except LoginRequired:
            self.people.close_session(session.id)
            return self._to_login(request)
        action = f"/interact/{quote(interaction_id)}"
        targets: tuple[str, ...] = ()
        if review.callback is not None:
            action += f"?{urlencode({'callback': review.callback})}"
            targets = (origin(review.callback),)
        page = consent_page(review.view, action, session.csrf, person.name)
        return _html(page, form_targets=targets)

    async def decide(self, request: Request) -> Response:
        """POST /interact/{id}: approve, deny or ask the agent a question, as the signed-in
        person, with CSRF (PS-27). A question leads back to the page, which shows it."""
        signed_in = self._signed_in(request)
        if signed_in is None:
            page = message_page(
                "Sign in first", "Only a signed-in person can decide.", code=UNAUTHENTICATED
            )
            return _html(page, 401)
        session, person = signed_in
        form = await _form(request)
        if not csrf_ok(session, form):
            raise Forbidden("This form has expired; reload the page.")
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
            remember=form.get("remember") != "once",
        )
        onward = self.relay.approved(interaction_id, outcome.redirect) if outcome.approved else None
        if onward is not None:
            return onward
        if outcome.redirect is not None:
            return RedirectResponse(outcome.redirect, 303)
        title, message = (
            ("Access approved", "You can return to your agent.")
            if outcome.approved
            else ("Request denied", "The agent has been told.")
        )
        return _html(message_page(title, message, signed_in=(person.name, session.csrf)))
