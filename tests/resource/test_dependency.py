"""The Starlette/FastAPI-side helpers: verified_caller, require_scopes, AAuthRequest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from aauth_signing import HttpRequest, SignatureError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth.errors import AAuthError, InvalidScope, error_response
from aauth.resource import (
    EXCEPTION_HANDLERS,
    AAuthHTTPException,
    AAuthMiddleware,
    AAuthRequest,
    handle_aauth_error,
    read_json_object,
    require_scopes,
    verified_caller,
)

from .conftest import AGENT, RESOURCE, URL, Resource

Client = Callable[..., httpx.Client]


async def no_body() -> dict[str, object]:
    return {"type": "http.request", "body": b"", "more_body": False}


def starlette_request(scope_extra: dict[str, object] | None = None) -> Request:
    scope: dict[str, object] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
        "query_string": b"",
    }
    scope.update(scope_extra or {})
    return Request(scope, no_body)


def test_verified_caller_without_middleware_is_401_invalid_request() -> None:
    with pytest.raises(AAuthHTTPException) as caught:
        verified_caller(starlette_request())
    assert caught.value.status_code == 401
    assert caught.value.headers is not None
    assert caught.value.headers["Signature-Error"] == "error=invalid_request"
    assert "Content-Type" not in caught.value.headers


def test_default_starlette_rendering_keeps_the_protocol_status_and_headers(
    asgi_client: Client,
) -> None:
    async def route(request: Request) -> Response:
        verified_caller(request)
        return Response("unreachable")

    client = asgi_client(Starlette(routes=[Route("/", route)]), RESOURCE)
    response = client.get("/")
    assert response.status_code == 401
    assert response.headers["signature-error"] == "error=invalid_request"


def test_handlers_render_problem_json_for_every_error_kind() -> None:
    request = starlette_request()
    for error in (
        AAuthHTTPException(InvalidScope("nope")),
        InvalidScope("nope"),
        SignatureError("bad"),
    ):
        response = asyncio.run(handle_aauth_error(request, error))
        assert response.headers["content-type"] == "application/problem+json"
    assert set(EXCEPTION_HANDLERS) == {
        AAuthHTTPException,
        AAuthError,
        SignatureError,
        HTTPException,
        Exception,
    }


def test_require_scopes_returns_the_caller_or_403(world: Resource, asgi_client: Client) -> None:
    async def route(request: Request) -> Response:
        caller = require_scopes("docs.read", "docs.write")(request)
        return JSONResponse({"agent": caller.agent_id})

    app = Starlette(routes=[Route("/reports/q3", route)], exception_handlers=EXCEPTION_HANDLERS)
    client = asgi_client(AAuthMiddleware(app, world.verifier()), RESOURCE)
    both = world.auth_token(scope="docs.read docs.write")
    assert client.get("/reports/q3", headers=world.signer.sign("GET", URL, token=both)).json() == {
        "agent": AGENT
    }
    one = world.auth_token(scope="docs.read")
    denied = client.get("/reports/q3", headers=world.signer.sign("GET", URL, token=one))
    assert denied.status_code == 403
    assert denied.json()["error"] == "insufficient_scope"
    assert "docs.write" in denied.json()["detail"]
    assert "signature-error" not in denied.headers  # V-17


def test_read_json_object_refuses_non_objects(asgi_client: Client) -> None:
    async def route(request: Request) -> Response:
        return JSONResponse(await read_json_object(request))

    app = Starlette(
        routes=[Route("/", route, methods=["POST"])], exception_handlers=EXCEPTION_HANDLERS
    )
    client = asgi_client(app, RESOURCE)
    assert client.post("/", content=b'{"a": 1}').json() == {"a": 1}
    for body in (b"", b"[1]", b"{", b'"x"'):
        response = client.post("/", content=body)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


def test_aauth_request_supports_verifying_by_hand(world: Resource, asgi_client: Client) -> None:
    verifier = world.verifier(require_auth_token=False)

    async def route(request: Request) -> Response:
        message = (await AAuthRequest.from_starlette(request)).to_http_request()
        try:
            caller = await verifier.averify(message)
        except (AAuthError, SignatureError) as exc:
            rendered = error_response(exc)
            return Response(rendered.body, rendered.status, headers=rendered.headers)
        return JSONResponse({"agent": caller.agent_id, "body": (await request.body()).decode()})

    client = asgi_client(
        Starlette(routes=[Route("/reports/q3", route, methods=["POST"])]), RESOURCE
    )
    headers = world.signer.sign("POST", URL, None, b"payload")
    assert client.post("/reports/q3", headers=headers, content=b"payload").json() == {
        "agent": AGENT,
        "body": "payload",
    }
    assert client.post("/reports/q3", content=b"payload").status_code == 401


def test_aauth_request_keeps_raw_path_and_query() -> None:
    request = starlette_request(
        {
            "path": "/a b",
            "raw_path": b"/a%20b",
            "query_string": b"x=1&y=%2F",
            "headers": [(b"host", b"docs.example"), (b"x-one", b"1")],
            "scheme": "https",
        }
    )
    built = asyncio.run(AAuthRequest.from_starlette(request))
    assert built.target_uri == "https://docs.example/a%20b?x=1&y=%2F"
    assert built.headers == (("host", "docs.example"), ("x-one", "1"))
    assert built.body == b""
    message = built.to_http_request()
    assert isinstance(message, HttpRequest)
    assert message.headers.get("x-one") == "1"
    pinned = asyncio.run(AAuthRequest.from_starlette(request, public_origin=RESOURCE))
    assert pinned.target_uri.startswith(RESOURCE + "/a%20b")
