"""The Agent Provider service: its metadata, its JWKS, and agent tokens for enrolled agents.

=================================  =========================================================
``GET /.well-known/aauth-agent.json``  metadata (AP-01); also without ``.json``
``GET /.well-known/jwks.json``         current and retired signing keys (AP-07)
``POST /agent-token``                  ``jkt-jwt``-signed proof → agent token for an
                                       instance, or (signed by an instance) a sub-agent
``GET {callback_endpoint}``            where a person returns after consent, when configured
                                       (an ``error`` is shown as one, never as done)
=================================  =========================================================

Delegates (instances and sub-agents, with their current keys) and the replay guard are kept
in the SQLite file ``db`` of the configuration, so a restarted provider still knows them;
expired records are purged at start and every ten minutes.

The protocol work is :class:`~aauth.agent_provider.AgentProvider`'s; the enrollment request
is verified by :class:`~aauth.resource.AAuthMiddleware` like any protected route.

    python -m aauth.server.agent_provider --config ap.json --port 8001
"""

from __future__ import annotations

import sys

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..agent_provider import AGENT_TOKEN_PATH, AgentProvider, callback_outcome
from ..keys import KeySet
from ..resource import EXCEPTION_HANDLERS, AAuthMiddleware, RouteRule, verified_caller
from ..store import open_store
from ..tokens.wire import AGENT_DWK
from .config import AgentProviderConfig, run_main, serve_app
from .pages import message_page, page_headers
from .upkeep import upkeep

__all__ = ["AgentProviderConfig", "create_agent_provider", "serve"]

_JWKS_CACHE = {"Cache-Control": "public, max-age=60"}


def create_agent_provider(config: AgentProviderConfig) -> Starlette:
    """The agent provider as a Starlette app; ``app.state.agent_provider`` is its
    :class:`~aauth.agent_provider.AgentProvider` (e.g. to rotate keys)."""
    store = open_store(config.store or config.db)
    ap = AgentProvider(
        config.identifier,
        KeySet.load_or_generate(config.key_file),
        config.agents.values(),
        token_lifetime=config.token_lifetime,
        rotation_interval=config.key_rotation_interval,
        canonical_authorities=config.canonical_authorities,
        name=config.name,
        callback_endpoint=config.callback_endpoint,
        key_file=config.key_file,
        allow_loopback_http=config.allow_loopback_http,
        store=store,
    )

    async def metadata(request: Request) -> Response:
        return JSONResponse(ap.metadata(), headers={"Cache-Control": "public, max-age=300"})

    async def jwks(request: Request) -> Response:
        return JSONResponse(ap.jwks(), headers=_JWKS_CACHE)

    async def callback(request: Request) -> Response:
        """Where a person server sends the person back (AG-37): an error is shown as one."""
        outcome = callback_outcome(request.query_params)
        status = 200 if outcome.completed else 400
        html = message_page(outcome.title, outcome.message)
        return HTMLResponse(html, status_code=status, headers=page_headers())

    async def agent_token(request: Request) -> Response:
        grant = ap.issue(verified_caller(request))
        return JSONResponse(grant.to_json(), headers={"Cache-Control": "no-store"})

    well_known = f"/.well-known/{AGENT_DWK}"
    routes = [
        Route(well_known, metadata),
        Route(well_known.removesuffix(".json"), metadata),
        Route("/.well-known/jwks.json", jwks),
        Route(AGENT_TOKEN_PATH, agent_token, methods=["POST"]),
    ]
    rules = [RouteRule("/.well-known/*", None)]
    if ap.callback_path is not None:
        routes.append(Route(ap.callback_path, callback))
        rules.append(RouteRule(ap.callback_path, None))
    app = Starlette(
        lifespan=upkeep(store, None, close_store=True),  # expired replay entries purged
        routes=routes,
        middleware=[
            Middleware(
                AAuthMiddleware,
                verifier=ap.verifier,
                rules=rules,
                public_origin=config.public_origin,
            )
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    app.state.agent_provider = ap
    return app


def serve(config: AgentProviderConfig, host: str, port: int) -> None:
    """Run the agent provider until interrupted."""
    serve_app(create_agent_provider(config), host, port)


if __name__ == "__main__":
    sys.exit(run_main(None, "AAuth agent provider", AgentProviderConfig.load, serve))
