"""The example protected API: one resource showing each access level AAuth defines.

=============================  ==============================================================
``GET /public/hello``          pseudonymous (``hwk`` or any token; phase 1)
``GET /whoami``                agent identity from an agent token (phase 2, RS-01)
``GET /data``                  auth token with ``data.read`` (phases 3/4, RS-02)
``POST /data``                 auth token with ``data.write``; body under ``Content-Digest``
``POST /authorize``            §F.2 ``authorization_endpoint``: a resource token on request
``POST /revoke``               §F.11 ``revocation_endpoint``: a trusted issuer revokes a token
``GET|POST /chained``          with ``downstream_url``: call chaining (phases 7 and 9; see
                               :mod:`aauth.server.resource_chaining`)
=============================  ==============================================================

Everything protocol-shaped happens in :class:`~aauth.resource.AAuthMiddleware` and the
library; the handlers only shape JSON.

    python -m aauth.server.resource_server --config resource.json --port 8002
"""

from __future__ import annotations

import sys
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..discovery import Discovery
from ..egress import EgressPolicy
from ..keys import KeySet
from ..keysource import KeySource
from ..metadata import ResourceMetadata, well_known_url
from ..replay import StoreReplayGuard
from ..resource import (
    EXCEPTION_HANDLERS,
    AAuthMiddleware,
    RequestVerifier,
    ResourcePolicy,
    ResourceTokenIssuer,
    RevokedTokens,
    RouteRule,
    VerifiedCaller,
    published_components,
    read_json_object,
    require_scopes,
    verified_caller,
)
from ..store import open_store
from ..tokens.wire import RESOURCE_DWK
from .config import (
    READ_SCOPE,
    WRITE_SCOPE,
    ResourceServerConfig,
    run_main,
    serve_app,
)
from .resource_chaining import ResourceChaining
from .upkeep import upkeep

__all__ = ["READ_SCOPE", "WRITE_SCOPE", "ResourceServerConfig", "create_resource_server", "serve"]

_MAX_ITEMS = 100
_MAX_OWNERS = 1000
_METADATA_CACHE = {"Cache-Control": "public, max-age=300"}


class _Items:
    """The example's data: a few JSON objects per owner — the person behind the auth token
    (``(iss, sub)``, never ``sub`` alone, §H.4) or else the agent — in bounded memory."""

    def __init__(self) -> None:
        self._by_owner: OrderedDict[tuple[str | None, ...], deque[dict[str, Any]]] = OrderedDict()

    @staticmethod
    def _owner(caller: VerifiedCaller) -> tuple[str | None, ...]:
        if caller.subject is not None:
            return ("person", caller.issuer, caller.subject)
        return ("agent", caller.agent_id)

    def add(self, caller: VerifiedCaller, item: dict[str, Any]) -> None:
        owner = self._owner(caller)
        items = self._by_owner.pop(owner, None) or deque(maxlen=_MAX_ITEMS)
        items.append(item)
        self._by_owner[owner] = items
        while len(self._by_owner) > _MAX_OWNERS:
            self._by_owner.popitem(last=False)

    def of(self, caller: VerifiedCaller) -> list[dict[str, Any]]:
        return list(self._by_owner.get(self._owner(caller), ()))


def _identity(caller: VerifiedCaller) -> dict[str, Any]:
    return {
        "agent": caller.agent_id,
        "scheme": caller.scheme,
        "thumbprint": caller.thumbprint,
        "issuer": caller.issuer,
    }


def create_resource_server(
    config: ResourceServerConfig,
    *,
    key_source: KeySource | None = None,
    on_downstream: Callable[[httpx.Response], None] | None = None,
) -> Starlette:
    """The resource as a Starlette app; ``key_source`` replaces HTTP discovery (tests);
    ``on_downstream`` sees each response to a chained call this resource makes (demos)."""
    loop = config.allow_loopback_http
    keys = KeySet.load_or_generate(config.key_file)
    store = open_store(config.store)
    discovery = Discovery(EgressPolicy(allow_loopback_http=loop)) if key_source is None else None
    issuer = ResourceTokenIssuer(
        config.identifier,
        keys,
        access_server=config.access_server,
        scopes=config.scope_descriptions.keys(),
        allow_loopback_http=loop,
    )
    identified = ResourcePolicy(
        resource=config.identifier,
        canonical_authorities=config.canonical_authorities,
        accepted_schemes=("jwt", "hwk"),
        trusted_issuers=config.trusted,
        access_server=config.access_server,
        signature_window=config.signature_window,
        additional_components=config.additional_signature_components,
        allow_loopback_http=loop,
    )
    revoked = RevokedTokens(store)
    verifier = RequestVerifier(
        identified,
        key_source or discovery,
        token_issuer=issuer,
        replay_guard=StoreReplayGuard(store),
        revoked=revoked,
    )
    reading = identified.with_(require_auth_token=True, required_scopes=(READ_SCOPE,))
    rules = [
        RouteRule("/.well-known/*", None),
        RouteRule("/public/*", identified.with_(require_identity=False)),
        RouteRule("/data", reading, methods=("GET",)),
        RouteRule("/data", reading.with_(required_scopes=(WRITE_SCOPE,)), methods=("POST",)),
        # Issuers sign revocations as themselves (jwks_uri), not as agents.
        RouteRule(
            "/revoke", identified.with_(accepted_schemes=("jwks_uri",), require_identity=False)
        ),
    ]
    metadata = ResourceMetadata(
        issuer=config.identifier,
        jwks_uri=well_known_url(config.identifier, "jwks.json"),
        name=config.name,
        access_mode="auth-token",
        authorization_endpoint=f"{config.identifier}/authorize",
        revocation_endpoint=f"{config.identifier}/revoke",
        scope_descriptions=config.scope_descriptions,
        signature_window=config.signature_window,
        additional_signature_components=published_components(rule.policy for rule in rules),
    ).to_json()
    chaining = None
    if config.downstream_url is not None:
        chaining = ResourceChaining.create(config, keys, store, discovery, on_downstream)
        rules += chaining.rules(reading, identified)
    items = _Items()
    can_read, can_write = require_scopes(READ_SCOPE), require_scopes(WRITE_SCOPE)

    async def metadata_document(request: Request) -> Response:
        return JSONResponse(metadata, headers=_METADATA_CACHE)

    async def jwks(request: Request) -> Response:
        return JSONResponse(keys.jwks(), headers=_METADATA_CACHE)

    async def hello(request: Request) -> Response:
        return JSONResponse({"message": "hello", **_identity(verified_caller(request))})

    async def whoami(request: Request) -> Response:
        caller = verified_caller(request)
        ps = caller.agent_token.ps if caller.agent_token else None
        return JSONResponse({**_identity(caller), "ps": ps})

    async def read_data(request: Request) -> Response:
        caller = can_read(request)
        act = caller.auth_token.act if caller.auth_token else None
        return JSONResponse(
            {
                "items": items.of(caller),
                "subject": caller.subject,
                "scope": sorted(caller.scopes),
                "agent": caller.agent_id,
                "act": list(act.chain) if act else [],
            }
        )

    async def write_data(request: Request) -> Response:
        caller = can_write(request)
        item = await read_json_object(request)
        items.add(caller, item)
        return JSONResponse({"stored": item, "agent": caller.agent_id}, status_code=201)

    async def authorize(request: Request) -> Response:
        token = issuer.authorize(verified_caller(request), await read_json_object(request))
        return JSONResponse({"resource_token": token}, headers={"Cache-Control": "no-store"})

    async def revoke(request: Request) -> Response:
        revoked.revoke(verified_caller(request), await read_json_object(request), config.trusted)
        return JSONResponse({}, headers={"Cache-Control": "no-store"})

    # Expired replay entries and revocations are purged, so the store stays bounded.
    maintained = upkeep(store, discovery, close_store=True)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with maintained(app):
            try:
                yield
            finally:
                if chaining is not None:
                    await chaining.close()

    well_known = f"/.well-known/{RESOURCE_DWK}"
    app = Starlette(
        routes=[
            Route(well_known, metadata_document),
            Route(well_known.removesuffix(".json"), metadata_document),
            Route("/.well-known/jwks.json", jwks),
            Route("/public/hello", hello),
            Route("/whoami", whoami),
            Route("/data", read_data, methods=["GET"]),
            Route("/data", write_data, methods=["POST"]),
            Route("/authorize", authorize, methods=["POST"]),
            Route("/revoke", revoke, methods=["POST"]),
            *(chaining.routes() if chaining is not None else ()),
        ],
        middleware=[
            Middleware(
                AAuthMiddleware,
                verifier=verifier,
                rules=rules,
                public_origin=config.public_origin,
            )
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=lifespan,
    )
    app.state.chaining = chaining
    return app


def serve(config: ResourceServerConfig, host: str, port: int) -> None:
    """Run the resource until interrupted."""
    serve_app(create_resource_server(config), host, port)


if __name__ == "__main__":
    sys.exit(run_main(None, "AAuth example resource", ResourceServerConfig.load, serve))
