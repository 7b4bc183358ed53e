"""The example resource's call chaining (phases 7 and 9), wired: routes around
:mod:`aauth.resource.chaining` and :mod:`aauth.resource.interaction_chain`.

=================================  ==========================================================
``GET /.well-known/aauth-agent.json``  the resource's own agent metadata (RS-19)
``GET|POST /chained``              the same call made downstream as this resource's agent
``GET|DELETE /pending/{id}``       this resource's pending URL for a chained consent (RS-20)
``GET /interact?code=…``           where the person enters this resource's code (RS-17)
``GET /interact/callback?flow=…``  where the downstream person server sends them back
=================================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..discovery import Discovery
from ..errors import AAuthError, InvalidCode, InvalidRequest
from ..headers import parse_capabilities
from ..keys import KeySet
from ..pending import PendingRequests
from ..person import prefer_wait
from ..ratelimit import FailureLimiter
from ..resource import (
    ChainedRequests,
    ChainingClient,
    DownstreamCall,
    ResourceAgent,
    ResourcePolicy,
    RouteRule,
    require_scopes,
    verified_caller,
)
from ..resource.interaction_chain import Answer
from ..store.base import Store
from ..tokens.wire import AGENT_DWK
from .config import READ_SCOPE, WRITE_SCOPE, ResourceServerConfig
from .pages import interstitial_page, message_page, page_headers

__all__ = ["ResourceChaining"]

_MAX_WAIT = 60
CODE_FAILURES = 10
FAILURE_WINDOW = 600.0
_TITLES = {"invalid_code": "This code cannot be used", "expired": "This request has expired"}


def _answer(answer: Answer) -> Response:
    return JSONResponse(answer.body, answer.status, headers=answer.headers)


def _page(title: str, message: str, status: int) -> HTMLResponse:
    return HTMLResponse(message_page(title, message), status, headers=page_headers())


@dataclass
class ResourceChaining:
    """The chaining parts of one example resource, over the resource's ``store`` (which the
    resource purges and closes); :meth:`close` ends its HTTP client."""

    config: ResourceServerConfig
    agent: ResourceAgent
    chained: ChainedRequests
    http: httpx.AsyncClient
    code_failures: FailureLimiter

    @classmethod
    def create(
        cls,
        config: ResourceServerConfig,
        keys: KeySet,
        store: Store,
        discovery: Discovery | None,
        on_downstream: Callable[[httpx.Response], None] | None = None,
    ) -> ResourceChaining:
        loop = config.allow_loopback_http
        # The agent's own key is kept next to the issuer keys: a downstream grant pending
        # across a restart is bound to it.
        agent_file = None if config.key_file is None else f"{config.key_file}.agent"
        agent = ResourceAgent(
            config.identifier,
            keys,
            key=KeySet.load_or_generate(agent_file).current,
            name=config.name,
            allow_loopback_http=loop,
        )
        hooks: dict[str, list[Callable[[httpx.Response], Awaitable[None]]]] = {}
        if on_downstream is not None:
            show = on_downstream

            async def shown(response: httpx.Response) -> None:
                show(response)

            hooks["response"] = [shown]
        http = httpx.AsyncClient(timeout=_MAX_WAIT + 15, event_hooks=hooks)
        chained = ChainedRequests(
            config.identifier,
            ChainingClient(agent, allow_loopback_http=loop),
            PendingRequests(store, lifetime=config.pending_lifetime),
            http,
            discovery=discovery,
            poll_interval=0,
            allow_loopback_http=loop,
        )
        failures = FailureLimiter(store, "code", limit=CODE_FAILURES, window=FAILURE_WINDOW)
        return cls(config, agent, chained, http, failures)

    async def close(self) -> None:
        await self.http.aclose()

    def rules(self, granted: ResourcePolicy, identified: ResourcePolicy) -> list[RouteRule]:
        return [
            RouteRule("/chained", granted.with_(required_scopes=(READ_SCOPE,)), ("GET",)),
            RouteRule("/chained", granted.with_(required_scopes=(WRITE_SCOPE,)), ("POST",)),
            RouteRule("/pending/*", identified),
            RouteRule("/interact/*", None),
        ]

    def routes(self) -> list[Route]:
        well_known = f"/.well-known/{AGENT_DWK}"
        return [
            Route(well_known, self.agent_metadata),
            Route(well_known.removesuffix(".json"), self.agent_metadata),
            Route("/chained", self.call, methods=["GET", "POST"]),
            Route("/pending/{request_id}", self.pending, methods=["GET", "DELETE"]),
            Route("/interact", self.enter, methods=["GET"]),
            Route("/interact/callback", self.returned, methods=["GET"]),
        ]

    async def agent_metadata(self, request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=300"}
        return JSONResponse(self.agent.metadata().to_json(), headers=headers)

    async def call(self, request: Request) -> Response:
        """The caller's request, made downstream with its auth token as ``upstream_token``."""
        scope = READ_SCOPE if request.method == "GET" else WRITE_SCOPE
        caller = require_scopes(scope)(request)
        upstream = caller.presented_token
        if upstream is None or caller.auth_token is None:
            raise InvalidRequest("a chained call must be signed with an auth token")
        body = await request.body() if request.method == "POST" else None
        assert self.config.downstream_url is not None
        capabilities = parse_capabilities(request.headers.get("aauth-capabilities"))
        answer = await self.chained.call(
            caller,
            upstream,
            DownstreamCall(request.method, self.config.downstream_url, body or None),
            interaction="interaction" in capabilities,
        )
        return _answer(answer)

    async def pending(self, request: Request) -> Response:
        caller = verified_caller(request)
        request_id = request.path_params["request_id"]
        if request.method == "DELETE":
            await self.chained.cancel(request_id, caller)
            return Response(status_code=204, headers={"Cache-Control": "no-store"})
        wait = prefer_wait(request.headers.get("prefer"), _MAX_WAIT) or 0
        return _answer(await self.chained.poll(request_id, caller, wait))

    async def enter(self, request: Request) -> Response:
        """The person's way in; wrong codes are counted per client (V-38)."""
        client = f"client:{request.client.host if request.client else 'unknown'}"
        if self.code_failures.blocked(client):
            return _page("Too many attempts", "Too many wrong codes; try again later.", 429)
        code = request.query_params.get("code")
        if not code:
            return _page("Code missing", "Open the link your agent showed you.", 400)
        try:
            step = await self.chained.enter(code, request.query_params.get("callback"))
        except AAuthError as exc:
            if isinstance(exc, InvalidCode):
                self.code_failures.fail(client)
            title = _TITLES.get(exc.code, "This request cannot be completed")
            return _page(title, exc.description, exc.status)
        name = self.config.name or self.config.identifier
        page = interstitial_page(name, step.code, step.person_server, step.link)
        return HTMLResponse(page, headers=page_headers())

    async def returned(self, request: Request) -> Response:
        try:
            target = self.chained.returned(
                request.query_params.get("flow", ""), request.query_params.get("error")
            )
        except AAuthError as exc:
            return _page("Request not found", exc.description, exc.status)
        if target is not None:
            return RedirectResponse(target, 303)
        if request.query_params.get("error"):
            return _page("Request not approved", "Your agent has been told.", 200)
        return _page("Approved", "You can return to your agent.", 200)
