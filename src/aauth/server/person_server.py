"""The person server as an ASGI app (protocol phases 3, 4, 5 and 12): routing and persistence around
:mod:`aauth.person`.

Agent-facing endpoints answer JSON, and problem+json for every error (V-41); person-facing
pages are in :mod:`aauth.server.person_web`. Run one with :func:`serve`, or from a shell:

    python -m aauth.server.person_server --config ps.json --port 8443
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aauth_signing import (
    ExpiredJWT,
    InvalidJWT,
    IssuerMismatch,
    IssuerMissing,
    Jwt,
    SignatureError,
    UnknownKey,
)
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..asgi import read_body, request_from_scope
from ..errors import (
    AAuthError,
    ExpiredAgentToken,
    InvalidAgentToken,
    MethodNotAllowed,
    NotFound,
    error_response,
)
from ..keysource import KeySource
from ..pending import PendingRequest
from ..person import PersonServerConfig, PersonService, Reply, prefer_wait, token_response
from ..person.mission_endpoint import json_object
from ..person.polling import mission_approval
from ..resource import handle_http_error, handle_unexpected_error
from ..resource.middleware import STATE_KEY
from ..store import StoreUnavailable, open_store
from ..store.base import Store
from ..tokens import AgentTokenClaims
from .config import run_main, serve_app
from .mission_web import MissionWeb
from .pages import message_page, page_headers
from .permission_web import PermissionWeb
from .person_web import PERSON_FACING, PersonWeb
from .relay_web import RelayWeb
from .upkeep import upkeep

__all__ = ["create_person_server", "main", "serve"]

log = logging.getLogger(__name__)

_Handler = Callable[[Request], Awaitable[Response]]


def _problem(error: AAuthError | SignatureError) -> Response:
    rendered = error_response(error)
    return Response(rendered.body, rendered.status, headers=rendered.headers)


def _reply(reply: Reply) -> Response:
    headers = {"Cache-Control": "no-store", **reply.headers}
    if reply.content is not None:  # exact bytes (a mission blob): never re-serialised
        return Response(reply.content, reply.status, headers, media_type="application/json")
    return JSONResponse(reply.body, reply.status, headers=headers)


def _api(handler: _Handler) -> _Handler:
    """Every protocol error becomes its problem+json response."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except (AAuthError, SignatureError) as exc:
            return _problem(exc)

    return run


class _Api:
    """The agent-facing endpoints."""

    def __init__(self, service: PersonService, clock: Callable[[], float]) -> None:
        self.service = service
        self.clock = clock

    async def metadata(self, request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=300"}
        return JSONResponse(self.service.metadata().to_json(), headers=headers)

    async def jwks(self, request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=300"}
        return JSONResponse(self.service.keys.jwks(), headers=headers)

    async def _agent(
        self, request: Request, body: bytes | None
    ) -> tuple[AgentTokenClaims, str, str | None]:
        """The verified signer's agent token, key thumbprint (V-32 on pending URLs) and the
        agent token's text (forwarded when federating)."""
        caller = await self.service.verifier.averify(request_from_scope(request.scope, body))
        request.scope.setdefault("state", {})[STATE_KEY] = caller  # for the access log
        agent = caller.agent_token
        if agent is None:
            raise InvalidAgentToken("sign with an agent token (scheme=jwt)")
        if self.service.revoked_agent_tokens.is_revoked(agent.iss, agent.jti):
            raise InvalidAgentToken("this agent token was revoked by its agent provider (PS-24)")
        resolved = caller.signature.signature_key
        member = None if resolved is None else resolved.member
        text = member.jwt if isinstance(member, Jwt) else None
        return agent, caller.thumbprint, text

    def _waiting(self, outcome: PendingRequest) -> Reply:
        federation = self.service.federation
        if federation is not None and federation.handles(outcome):
            return federation.waiting(outcome, waited=False)
        return self.service.pending_endpoint.waiting(outcome, waited=False)

    async def _requester(
        self, request: Request, body: bytes
    ) -> tuple[AgentTokenClaims, str, str | None]:
        """:meth:`_agent` for PS endpoints: an agent token that fails, or whose issuer keys
        cannot be found, is 400 here, not a signature error (PS-02)."""
        try:
            return await self._agent(request, body)
        except ExpiredJWT as exc:
            raise ExpiredAgentToken(f"agent token: {exc.description}") from None
        except (InvalidJWT, UnknownKey, IssuerMissing, IssuerMismatch) as exc:
            raise InvalidAgentToken(f"agent token: {exc.description}") from None
        except (SignatureError, StoreUnavailable, InvalidAgentToken):
            raise  # a signature failure stays one; a store outage is 503, not the agent's fault
        except AAuthError as exc:
            raise InvalidAgentToken(f"cannot verify the agent token: {exc.description}") from None

    async def token(self, request: Request) -> Response:
        """POST /token (§F.3)."""
        body = await read_body(request.receive)
        agent, jkt, text = await self._requester(request, body)
        outcome = await self.service.token_endpoint.request(agent, jkt, body, agent_token=text)
        if isinstance(outcome, str):
            granted = token_response(outcome, self.clock())
            return JSONResponse(granted, headers={"Cache-Control": "no-store"})
        return _reply(self._waiting(outcome))

    async def mission(self, request: Request) -> Response:
        """POST /mission (§F.8): 200 with the approved mission, or 202 for the person."""
        body = await read_body(request.receive)
        agent, _, _ = await self._requester(request, body)
        outcome = self.service.mission_endpoint.propose(agent, body)
        if isinstance(outcome, PendingRequest):
            return _reply(self.service.pending_endpoint.waiting(outcome, waited=False))
        loop = self.service.config.allow_loopback_http
        return _reply(mission_approval(outcome.blob, outcome.approver, outcome.s256, loop))

    async def interaction(self, request: Request) -> Response:
        """POST /interaction (§F.6): a relayed interaction or payment, or a mission completion,
        waits for the person (202)."""
        body = await read_body(request.receive)
        agent, _, _ = await self._requester(request, body)
        pending = await self.service.interaction_relay.interaction(agent, body)
        return _reply(self.service.pending_endpoint.waiting(pending, waited=False))

    async def permission(self, request: Request) -> Response:
        """POST /permission (§F.9): granted at once for a tool the mission approved, else 202
        while the person decides; a denial is a 200 too (``permission: denied``)."""
        body = await read_body(request.receive)
        agent, _, _ = await self._requester(request, body)
        outcome = self.service.permission_endpoint.request(agent, body)
        if isinstance(outcome, PendingRequest):
            return _reply(self.service.pending_endpoint.waiting(outcome, waited=False))
        return JSONResponse(outcome, headers={"Cache-Control": "no-store"})

    async def audit(self, request: Request) -> Response:
        """POST /audit (§F.9): an agent's record of an action it performed, 201 (PS-22); the
        person reads it with GET on the same URL."""
        body = await read_body(request.receive)
        agent, _, _ = await self._requester(request, body)
        self.service.audit_endpoint.record(agent, body)
        return Response(status_code=201, headers={"Cache-Control": "no-store"})

    async def revoke(self, request: Request) -> Response:
        """POST /revoke (§F.11): an agent provider, signing as itself (``jwks_uri``), revokes
        one of its agent tokens (V-44, V-45); the auth tokens issued under it are then revoked
        at their resources, and the reply lists each outcome."""
        body = await read_body(request.receive)
        verifier = self.service.verifier
        policy = verifier.policy.with_(accepted_schemes=("jwks_uri",), require_identity=False)
        caller = await verifier.averify(request_from_scope(request.scope, body), policy)
        trusted = self.service.config.trusted_agent_providers
        pair = json_object(body)
        self.service.revoked_agent_tokens.revoke(caller, pair, trusted)
        issued = self.service.issued_tokens.take(pair["iss"], pair["jti"])
        outcomes = await self.service.revoker.revoke(issued) if issued else []
        for jti, outcome in outcomes:
            log.info("auth token %s issued under a revoked agent token: %s", jti, outcome)
        reply = {"auth_tokens": [{"jti": jti, "outcome": outcome} for jti, outcome in outcomes]}
        return JSONResponse(reply, headers={"Cache-Control": "no-store"})

    async def pending(self, request: Request) -> Response:
        """GET, POST and DELETE on a pending URL (§F.4)."""
        request_id = request.path_params["request_id"]
        endpoint = self.service.pending_endpoint
        body = await read_body(request.receive)
        agent, _, _ = await self._agent(request, body)
        federation = self.service.federation
        federated = federation is not None and federation.handles(endpoint.owned(request_id, agent))
        if request.method == "DELETE":
            if federation is not None and federated:
                await federation.cancel(request_id, agent)
            else:
                endpoint.cancel(request_id, agent)
            return Response(status_code=204, headers={"Cache-Control": "no-store"})
        if request.method == "POST" and not (
            federation is not None
            and federated
            and await federation.answer(request_id, agent, body)
        ):
            await endpoint.answer(request_id, agent, body)
        wait = prefer_wait(request.headers.get("prefer"), self.service.config.max_wait)
        if federation is not None and federated:
            reply = await federation.poll(request_id, agent, wait or 0)
        else:
            reply = await endpoint.poll(request_id, agent, wait or 0)
        response = _reply(reply)
        if wait is not None:
            response.headers["Preference-Applied"] = f"wait={wait}"
        return response


def http_error_handler(person_facing: tuple[str, ...]) -> Callable[[Request, Exception], Response]:
    """Unrouted paths and wrong methods: problem+json, or a page (with the code) for people
    on the ``person_facing`` paths."""

    def handle(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith(person_facing):
            return handle_http_error(request, exc)
        assert isinstance(exc, HTTPException)
        error: AAuthError = (
            MethodNotAllowed(f"{request.method} is not allowed here")
            if exc.status_code == 405
            else NotFound("there is nothing here")
        )
        title = "Not allowed" if exc.status_code == 405 else "Not found"
        html = message_page(title, error.description, code=error.code)
        headers = {**page_headers(), **(exc.headers or {})}
        return HTMLResponse(html, error.status, headers=headers)

    return handle


def _store_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreUnavailable)
    log.warning("%s %s: %s", request.method, request.url.path, exc.description)
    return _problem(exc)


def create_person_server(
    config: PersonServerConfig,
    store: Store | None = None,
    *,
    key_source: KeySource | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The person server for ``config``: state in ``store`` (default: ``config.store``, a Redis
    URL or SQLite file, else SQLite at ``config.db``), signing keys in ``config.key_file``.
    ``key_source`` replaces key discovery (tests pin keys with a StaticKeySource)."""
    owned = store is None
    state = store if store is not None else open_store(config.store_location, clock=clock)
    service = PersonService(config, state, key_source=key_source, clock=clock)
    api = _Api(service, clock)
    web = PersonWeb(service)

    routes = [
        Route("/.well-known/aauth-person.json", api.metadata, methods=["GET"]),
        Route("/.well-known/aauth-person", api.metadata, methods=["GET"]),
        Route("/.well-known/jwks.json", api.jwks, methods=["GET"]),
        Route("/token", _api(api.token), methods=["POST"]),
        Route("/mission", _api(api.mission), methods=["POST"]),
        Route("/interaction", _api(api.interaction), methods=["POST"]),
        Route("/permission", _api(api.permission), methods=["POST"]),
        Route("/audit", _api(api.audit), methods=["POST"]),
        Route("/revoke", _api(api.revoke), methods=["POST"]),
        Route("/pending/{request_id}", _api(api.pending), methods=["GET", "POST", "DELETE"]),
        *web.routes(),
        *MissionWeb(web).routes(),
        *PermissionWeb(web).routes(),
        *RelayWeb(web).routes(),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Response]] = {
        HTTPException: http_error_handler(PERSON_FACING),
        StoreUnavailable: _store_unavailable,
        Exception: handle_unexpected_error,
    }
    lifespan = upkeep(state, service.discovery, close_store=owned)
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)


def serve(config: PersonServerConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the person server for ``config`` until interrupted."""
    serve_app(create_person_server(config), host, port)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m aauth.server.person_server --config ps.json --port 8443``."""
    return run_main(argv, "Run an AAuth person server.", PersonServerConfig.load, serve)


if __name__ == "__main__":
    raise SystemExit(main())
