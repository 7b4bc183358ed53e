"""The access server as an ASGI app (protocol phases 7 and 11): routing and persistence around
:mod:`aauth.access`.

Person-server-facing endpoints (``/token``, ``/pending/{id}``) answer JSON, and problem+json
for every error (V-41); they accept only requests signed by a trusted person server. People
use ``/interact`` (sign in, approve or deny) and ``/pay`` (the simulated payment). PS-27's
rules apply to both as on the person server's pages: the code alone decides nothing, each POST
needs a signed-in person and their session's CSRF token, and every form POST another site made
the browser send (``/login`` included) is refused before it is read (:mod:`.same_site`).
Run one with :func:`serve`:

    python -m aauth.server.access_server --config as.json --port 8444
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..access import INTERACTION, PAYMENT, AccessServerConfig, AccessService
from ..asgi import read_body, request_from_scope
from ..callbacks import with_error
from ..errors import AAuthError, Forbidden, InvalidRequest
from ..keysource import KeySource
from ..person import prefer_wait, token_response
from ..person.consent import ConsentView
from ..person.persons import Person, Session
from ..resource import handle_unexpected_error
from ..store import StoreUnavailable, open_store
from ..store.base import Store
from .config import run_main, serve_app
from .mission_web import SignInFirst
from .pages import consent_page, login_page, message_page, page_headers, payment_page
from .person_server import _api, _reply, _store_unavailable, http_error_handler
from .person_web import _form, _next, _pages, csrf_ok, sign_in, sign_out
from .same_site import origin, same_site
from .upkeep import upkeep

__all__ = ["SESSION_COOKIE", "create_access_server", "main", "serve"]

log = logging.getLogger(__name__)
T = TypeVar("T")

SESSION_COOKIE = "aauth_as_session"
PERSON_FACING = ("/login", "/interact", "/pay")


def _html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page, status, headers=page_headers())


def _message(title: str, message: str, status: int = 200) -> HTMLResponse:
    return _html(message_page(title, message), status)


class _Api:
    """The endpoints a person server calls."""

    def __init__(self, service: AccessService, clock: Callable[[], float]) -> None:
        self.service = service
        self.clock = clock

    async def metadata(self, request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=300"}
        return JSONResponse(self.service.metadata().to_json(), headers=headers)

    async def jwks(self, request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=300"}
        return JSONResponse(self.service.keys.jwks(), headers=headers)

    async def _ps(self, request: Request, body: bytes) -> str:
        """The trusted person server that signed the request (AS-02, phase 11)."""
        return await self.service.verifier.averify(request_from_scope(request.scope, body))

    async def token(self, request: Request) -> Response:
        """POST /token (§F.7)."""
        body = await read_body(request.receive)
        ps = await self._ps(request, body)
        outcome = await self.service.token_endpoint.request(ps, body)
        if isinstance(outcome, str):
            granted = token_response(outcome, self.clock())
            return JSONResponse(granted, headers={"Cache-Control": "no-store"})
        return _reply(await self.service.flow.poll(outcome.id, ps, 0))

    async def pending(self, request: Request) -> Response:
        """GET (poll), POST (claims, clarification answer) and DELETE on a pending URL."""
        request_id = request.path_params["request_id"]
        flow = self.service.flow
        body = await read_body(request.receive)
        ps = await self._ps(request, body)
        if request.method == "DELETE":
            flow.cancel(request_id, ps)
            return Response(status_code=204, headers={"Cache-Control": "no-store"})
        if request.method == "POST":
            flow.answer(request_id, ps, body)
        wait = prefer_wait(request.headers.get("prefer"), self.service.config.max_wait)
        response = _reply(await flow.poll(request_id, ps, wait or 0))
        if wait is not None:
            response.headers["Preference-Applied"] = f"wait={wait}"
        return response


class _Web:
    """The pages people use: sign in, approve or deny, pay."""

    def __init__(self, service: AccessService) -> None:
        self.service = service
        self.people = service.people
        self.origin = origin(service.config.identifier)

    def _signed_in(self, request: Request) -> tuple[Session, Person] | None:
        session = self.people.session(request.cookies.get(SESSION_COOKIE))
        person = None if session is None else self.people.get(session.person_id)
        return None if session is None or person is None else (session, person)

    async def _decision(self, request: Request) -> tuple[Session, Person, dict[str, str]]:
        """The signed-in person and their form, its CSRF token checked (PS-27); SignInFirst
        (401 ``access_denied``) or Forbidden (403 ``forbidden``) otherwise."""
        signed_in = self._signed_in(request)
        if signed_in is None:
            raise SignInFirst("Only a signed-in person can decide.")
        session, person = signed_in
        form = await _form(request)
        if not csrf_ok(session, form):
            raise Forbidden("This form has expired; reload the page.")
        return session, person, form

    @staticmethod
    def _to_login(request: Request) -> Response:
        here = f"{request.url.path}?{request.url.query}"
        return RedirectResponse(f"/login?{urlencode({'next': here})}", 303)

    def _code_blocked(self, key: str) -> Response | None:
        if self.service.code_failures.blocked(key):
            return _message("Too many attempts", "Too many wrong codes; try again later.", 429)
        return None

    def _counted(self, key: str, step: Callable[[], T]) -> T:
        """``step()``, counting a refused code against ``key`` (V-38)."""
        try:
            return step()
        except AAuthError:
            self.service.code_failures.fail(key)
            raise

    @staticmethod
    def _client(request: Request) -> str:
        return f"client:{request.client.host if request.client else 'unknown'}"

    async def login_form(self, request: Request) -> Response:
        target = _next(request.query_params.get("next"))
        name = self.service.config.name or self.service.config.identifier
        return _html(login_page("/login", hidden={"next": target}, server_name=name))

    async def login(self, request: Request) -> Response:
        config = self.service.config
        return await sign_in(
            request,
            self.people,
            self.service.login_failures,
            cookie=SESSION_COOKIE,
            lifetime=config.session_lifetime,
            secure=not config.loopback,
            server_name=config.name or config.identifier,
        )

    async def logout(self, request: Request) -> Response:
        """POST /logout: the sign-out bar on the consent page."""
        signed_in = self._signed_in(request)
        session = None if signed_in is None else signed_in[0]
        return await sign_out(request, self.people, session, cookie=SESSION_COOKIE)

    async def review(self, request: Request) -> Response:
        """GET /interact?code=…: sign in, then the request to approve (PS sees interacting)."""
        signed_in = self._signed_in(request)
        if signed_in is None:
            return self._to_login(request)
        session, person = signed_in
        blocked = self._code_blocked(session.id)
        if blocked is not None:
            return blocked
        code = request.query_params.get("code", "")
        callback = request.query_params.get("callback")
        target = self._counted(
            session.id, lambda: self.service.flow.callback(code, INTERACTION, callback)
        )
        access = self._counted(session.id, lambda: self.service.flow.review(code))
        view = ConsentView(
            agent_id=access.agent,
            agent_name=None,
            resource_id=access.resource,
            resource_name=None,
            scopes=[(scope, None) for scope in access.scope],
            justification=f"Asked through the person server {access.ps}.",
            code=code,
        )
        action = "/interact" if target is None else f"/interact?{urlencode({'callback': target})}"
        return _html(consent_page(view, action, session.csrf, person.name))

    async def decide(self, request: Request) -> Response:
        """POST /interact: approve or deny, as the signed-in person, with CSRF."""
        session, person, form = await self._decision(request)
        decision = form.get("decision")
        if decision not in ("approve", "deny"):
            raise InvalidRequest("choose approve or deny")
        approve = decision == "approve"
        blocked = self._code_blocked(session.id)
        if blocked is not None:
            return blocked
        code = form.get("code", "")
        flow, callback = self.service.flow, request.query_params.get("callback")
        target = self._counted(session.id, lambda: flow.callback(code, INTERACTION, callback))
        self._counted(session.id, lambda: flow.decide(code, person.id, approve=approve))
        if target is not None:
            back = target if approve else with_error(target, "access_denied")
            return RedirectResponse(back or target, 303)
        if approve:
            return _message("Access approved", "The person server will be told.")
        return _message("Request denied", "The person server will be told.")

    async def payment(self, request: Request) -> Response:
        """GET /pay?code=…: sign in, then what is to be paid, and by which person server."""
        signed_in = self._signed_in(request)
        if signed_in is None:
            return self._to_login(request)
        client = self._client(request)
        blocked = self._code_blocked(client)
        if blocked is not None:
            return blocked
        code = request.query_params.get("code", "")
        callback = request.query_params.get("callback")
        flow = self.service.flow
        target = self._counted(client, lambda: flow.callback(code, PAYMENT, callback))
        _, access = self._counted(client, lambda: flow.find(code, PAYMENT))
        amount = self.service.config.payment or ""
        action = "/pay" if target is None else f"/pay?{urlencode({'callback': target})}"
        return _html(payment_page(action, code, amount, access.ps, signed_in[0].csrf))

    async def pay(self, request: Request) -> Response:
        """POST /pay: the (simulated) payment is made, by the signed-in person, with CSRF; the
        request moves on."""
        _, _, form = await self._decision(request)
        client = self._client(request)
        blocked = self._code_blocked(client)
        if blocked is not None:
            return blocked
        code = form.get("code", "")
        flow, callback = self.service.flow, request.query_params.get("callback")
        target = self._counted(client, lambda: flow.callback(code, PAYMENT, callback))
        access = self._counted(client, lambda: flow.pay(code))
        if target is not None:
            return RedirectResponse(target, 303)
        return _message("Payment received", f"Billing for {access.ps} is settled.")


def create_access_server(
    config: AccessServerConfig,
    store: Store | None = None,
    *,
    key_source: KeySource | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The access server for ``config``: state in ``store`` (default: ``config.store``, a Redis
    URL or SQLite file, else SQLite at ``config.db``), signing keys in ``config.key_file``.
    ``key_source`` replaces key discovery (tests)."""
    owned = store is None
    state = store if store is not None else open_store(config.store_location, clock=clock)
    service = AccessService(config, state, key_source=key_source, clock=clock)
    api, web = _Api(service, clock), _Web(service)

    routes = [
        Route("/.well-known/aauth-access.json", api.metadata, methods=["GET"]),
        Route("/.well-known/aauth-access", api.metadata, methods=["GET"]),
        Route("/.well-known/jwks.json", api.jwks, methods=["GET"]),
        Route("/token", _api(api.token), methods=["POST"]),
        Route("/pending/{request_id}", _api(api.pending), methods=["GET", "POST", "DELETE"]),
        Route("/login", _pages(web.login_form), methods=["GET"]),
        Route("/login", _pages(same_site(web.login, web.origin)), methods=["POST"]),
        Route("/logout", _pages(same_site(web.logout, web.origin)), methods=["POST"]),
        Route("/interact", _pages(web.review), methods=["GET"]),
        Route("/interact", _pages(same_site(web.decide, web.origin)), methods=["POST"]),
        Route("/pay", _pages(web.payment), methods=["GET"]),
        Route("/pay", _pages(same_site(web.pay, web.origin)), methods=["POST"]),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Response]] = {
        HTTPException: http_error_handler(PERSON_FACING),
        StoreUnavailable: _store_unavailable,
        Exception: handle_unexpected_error,
    }
    lifespan = upkeep(state, service.discovery, close_store=owned)
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)


def serve(config: AccessServerConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the access server for ``config`` until interrupted."""
    serve_app(create_access_server(config), host, port)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aauth.server.access_server --config as.json --port 8444``."""
    return run_main(argv, "Run an AAuth access server.", AccessServerConfig.load, serve)


if __name__ == "__main__":
    raise SystemExit(main())
