"""AAuthMiddleware: per-route policy, raw-body verification and replay, every error response."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aauth_signing import HttpRequest, sign_request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth.asgi import Message, Scope
from aauth.headers import AuthTokenRequirement, parse_requirement
from aauth.keys import KeySet
from aauth.resource import (
    EXCEPTION_HANDLERS,
    AAuthMiddleware,
    RequestVerifier,
    ResourcePolicy,
    RouteRule,
    caller_from_scope,
    require_scopes,
    verified_caller,
)
from aauth.server.running import RunningServer
from aauth.tokens import decode_unverified, issue_agent_token, issue_auth_token
from aauth.tokens.verifier import RESOURCE_TOKEN

from .conftest import AGENT, AP, PS, RESOURCE, URL, Resource

SIGNATURE_HEADERS = ("signature-error", "accept-signature-scheme", "accept-signature-alg")


async def report(request: Request) -> Response:
    caller = verified_caller(request)
    body = await request.body()
    return JSONResponse(
        {
            "agent": caller.agent_id,
            "scheme": caller.scheme,
            "scopes": sorted(caller.scopes),
            "body": body.decode(),
        }
    )


async def public(request: Request) -> Response:
    return JSONResponse({"verified": caller_from_scope(request.scope) is not None})


async def admin(request: Request) -> Response:
    caller = require_scopes("docs.admin")(request)
    return JSONResponse({"agent": caller.agent_id})


def build(world: Resource, verifier: RequestVerifier | None = None, **options: Any) -> Any:
    """The app behind the middleware: identity by default, auth tokens for /reports/*."""
    verifier = verifier or world.verifier(accepted_schemes=("jwt", "hwk"))
    granted = verifier.policy.with_(require_auth_token=True)
    app = Starlette(
        routes=[
            Route("/reports/q3", report, methods=["GET", "POST"]),
            Route("/public/hello", public),
            Route("/whoami", report),
            Route("/admin", admin),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    rules = options.pop(
        "rules",
        [
            RouteRule("/public/*", None),
            RouteRule("/reports/*", granted.with_(required_scopes=("docs.read",)), ("GET",)),
            RouteRule("/reports/*", granted.with_(required_scopes=("docs.write",)), ("POST",)),
        ],
    )
    return AAuthMiddleware(app, verifier, rules=rules, **options)


Client = Callable[..., httpx.Client]


@pytest.fixture
def client(world: Resource, asgi_client: Client) -> httpx.Client:
    return asgi_client(build(world), RESOURCE)


def signed(world: Resource, method: str, url: str, body: bytes | None = None, **kw: Any) -> Any:
    return world.signer.sign(method, url, None, body, **kw)


def assert_problem(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert "Traceback" not in response.text
    return body


# -- signature failures: 401 + Signature-Error (§C.6) ------------------------------------------


def test_v01_unsigned_request_is_401_invalid_request(client: httpx.Client) -> None:
    response = client.get("/reports/q3")
    assert_problem(response, 401, "invalid_request")
    assert response.headers["signature-error"] == "error=invalid_request"


def test_bad_signature_is_401_invalid_signature(world: Resource, client: httpx.Client) -> None:
    headers = signed(world, "GET", URL)
    headers["Signature"] = "sig=:" + "A" * 86 + "==:"
    response = client.get("/reports/q3", headers=headers)
    assert_problem(response, 401, "invalid_signature")
    assert response.headers["signature-error"] == "error=invalid_signature"


def test_signature_for_another_path_is_invalid(world: Resource, client: httpx.Client) -> None:
    response = client.get("/whoami", headers=signed(world, "GET", URL))
    assert_problem(response, 401, "invalid_signature")


def test_v02_missing_coverage_is_invalid_input_with_required_input(
    world: Resource, client: httpx.Client
) -> None:
    request = HttpRequest("GET", f"{RESOURCE}/whoami")
    headers = sign_request(
        request,
        world.signer.key,
        world.signer.member("jwt"),
        components=["@method", "@authority", "signature-key"],
    )
    response = client.get("/whoami", headers=headers)
    assert_problem(response, 401, "invalid_input")
    assert response.headers["signature-error"].startswith("error=invalid_input, required_input=(")
    assert '"@path"' in response.headers["signature-error"]


def test_body_digest_mismatch_is_401(world: Resource, client: httpx.Client) -> None:
    token = world.auth_token(scope="docs.write")
    headers = signed(world, "POST", URL, b'{"n": 1}', token=token)
    response = client.post("/reports/q3", headers=headers, content=b'{"n": 2}')
    body = assert_problem(response, 401, "invalid_signature")
    assert "Content-Digest" in body["detail"]


def test_unsupported_scheme_names_the_accepted_ones(world: Resource, asgi_client: Client) -> None:
    client = asgi_client(build(world, world.verifier()), RESOURCE)  # strict default: jwt only
    headers = signed(world, "GET", f"{RESOURCE}/whoami", scheme="hwk")
    response = client.get("/whoami", headers=headers)
    assert_problem(response, 401, "unsupported_scheme")
    assert response.headers["accept-signature-scheme"] == "jwt"


# -- token failures are signature-layer failures too (invalid_jwt / expired_jwt) ---------------


def test_rs10_auth_token_for_another_audience_is_refused(
    world: Resource, client: httpx.Client
) -> None:
    token = world.auth_token(aud="https://other.example")
    response = client.get("/reports/q3", headers=signed(world, "GET", URL, token=token))
    assert_problem(response, 401, "invalid_jwt")


def test_rs09_untrusted_issuer_is_refused(world: Resource, client: httpx.Client) -> None:
    rogue = issue_auth_token(
        KeySet.generate(),
        iss="https://evil.example",
        dwk="aauth-person.json",
        aud=RESOURCE,
        agent=AGENT,
        cnf_jwk=world.signer.key.public_key(),
        agent_exp=time.time() + 3600,
        resource_scope="docs.read",
        scope="docs.read",
    )
    response = client.get("/reports/q3", headers=signed(world, "GET", URL, token=rogue))
    body = assert_problem(response, 401, "invalid_jwt")
    assert "not trusted" in body["detail"]


def test_expired_auth_token_is_expired_jwt(world: Resource, client: httpx.Client) -> None:
    token = world.auth_token(now=time.time() - 7200, lifetime=3600)
    response = client.get("/reports/q3", headers=signed(world, "GET", URL, token=token))
    assert_problem(response, 401, "expired_jwt")
    assert response.headers["signature-error"] == "error=expired_jwt"


def test_expired_agent_token_is_expired_jwt(world: Resource, client: httpx.Client) -> None:
    stale = issue_agent_token(
        world.ap,
        iss=AP,
        sub=AGENT,
        cnf_jwk=world.signer.key.public_key(),
        ps=PS,
        now=time.time() - 7200,
    )
    headers = signed(world, "GET", f"{RESOURCE}/whoami", token=stale)
    assert_problem(client.get("/whoami", headers=headers), 401, "expired_jwt")


# -- challenges: 401 + AAuth-Requirement, never Signature-Error ---------------------------------


def test_rs01_hwk_on_identity_route_gets_agent_token_challenge(
    world: Resource, client: httpx.Client
) -> None:
    headers = signed(world, "GET", f"{RESOURCE}/whoami", scheme="hwk")
    response = client.get("/whoami", headers=headers)
    assert_problem(response, 401, "agent_token_required")
    assert response.headers["aauth-requirement"] == "requirement=agent-token"
    assert "signature-error" not in response.headers


def test_rs02_agent_token_on_data_route_gets_auth_token_challenge(
    world: Resource, client: httpx.Client
) -> None:
    response = client.get("/reports/q3", headers=signed(world, "GET", URL))
    assert_problem(response, 401, "auth_token_required")
    assert "signature-error" not in response.headers
    requirement = parse_requirement(response.headers["aauth-requirement"])
    assert isinstance(requirement, AuthTokenRequirement)
    claims = decode_unverified(RESOURCE_TOKEN, requirement.resource_token)
    assert claims.iss == RESOURCE
    assert claims.aud == PS  # RS-05: the agent token's ps
    assert claims.agent == AGENT
    assert claims.agent_jkt == world.signer.thumbprint  # RS-06
    assert claims.scope == ("docs.read",)


def test_ag13_step_up_on_post_names_the_write_scope(world: Resource, client: httpx.Client) -> None:
    """The step-up resource token asks for the write scope and keeps the read scope held."""
    token = world.auth_token(scope="docs.read")
    headers = signed(world, "POST", URL, b"{}", token=token)
    response = client.post("/reports/q3", headers=headers, content=b"{}")
    requirement = parse_requirement(response.headers["aauth-requirement"])
    assert isinstance(requirement, AuthTokenRequirement)
    scope = decode_unverified(RESOURCE_TOKEN, requirement.resource_token).scope
    assert scope == ("docs.write", "docs.read")


# -- 403: policy denial after a good signature (V-17) -------------------------------------------


def test_v17_insufficient_scope_is_403_without_signature_headers(
    world: Resource, client: httpx.Client
) -> None:
    token = world.auth_token(scope="docs.read")
    response = client.get("/admin", headers=signed(world, "GET", f"{RESOURCE}/admin", token=token))
    assert_problem(response, 403, "insufficient_scope")
    assert not [h for h in SIGNATURE_HEADERS if h in response.headers]


def test_v17_middleware_403_carries_no_signature_headers(
    world: Resource, client: httpx.Client
) -> None:
    orphan = issue_agent_token(world.ap, iss=AP, sub=AGENT, cnf_jwk=world.signer.key.public_key())
    response = client.get("/reports/q3", headers=signed(world, "GET", URL, token=orphan))
    assert_problem(response, 403, "forbidden")  # no ps and no AS: no one can grant access
    assert not [h for h in SIGNATURE_HEADERS if h in response.headers]


# -- success: the caller reaches the app, the body is replayed untouched -----------------------


def test_auth_token_reaches_the_app_with_its_scopes(world: Resource, client: httpx.Client) -> None:
    token = world.auth_token(scope="docs.read")
    response = client.get("/reports/q3", headers=signed(world, "GET", URL, token=token))
    assert response.status_code == 200
    assert response.json() == {"agent": AGENT, "scheme": "jwt", "scopes": ["docs.read"], "body": ""}


def test_body_is_replayed_to_the_app_unchanged(world: Resource, client: httpx.Client) -> None:
    token = world.auth_token(scope="docs.write")
    body = json.dumps({"text": "naïve ✓", "n": [1, 2, 3]}).encode()
    headers = signed(world, "POST", URL, body, token=token)
    response = client.post("/reports/q3", headers=headers, content=body)
    assert response.status_code == 200
    assert response.json()["body"] == body.decode()


def test_replayed_post_is_refused(world: Resource, client: httpx.Client) -> None:
    token = world.auth_token(scope="docs.write")
    headers = signed(world, "POST", URL, b"{}", token=token)
    assert client.post("/reports/q3", headers=headers, content=b"{}").status_code == 200
    replay = client.post("/reports/q3", headers=headers, content=b"{}")
    assert_problem(replay, 401, "invalid_signature")


def test_head_is_verified_like_get_and_has_no_body(world: Resource, client: httpx.Client) -> None:
    url = f"{RESOURCE}/whoami"
    assert client.head("/whoami", headers=signed(world, "HEAD", url)).status_code == 200
    refused = client.head("/whoami")
    assert refused.status_code == 401
    assert refused.headers["signature-error"] == "error=invalid_request"
    assert refused.content == b""


def test_unprotected_route_passes_through_without_a_caller(client: httpx.Client) -> None:
    assert client.get("/public/hello").json() == {"verified": False}


def test_verified_caller_without_verification_is_401(world: Resource, asgi_client: Client) -> None:
    client = asgi_client(build(world, rules=[RouteRule("/whoami", None)]), RESOURCE)
    response = client.get("/whoami")
    assert_problem(response, 401, "invalid_request")


def test_unmatched_routes_get_the_verifier_policy(world: Resource, client: httpx.Client) -> None:
    assert_problem(client.get("/nowhere"), 401, "invalid_request")
    signed_404 = client.get("/nowhere", headers=signed(world, "GET", f"{RESOURCE}/nowhere"))
    assert signed_404.status_code == 404


# -- too-large bodies: 413 before any verification ----------------------------------------------


def test_too_large_body_is_413(world: Resource) -> None:
    async def chunks() -> Any:
        yield b"x" * 10
        yield b"x" * 10

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=build(world, max_body=16))
        async with httpx.AsyncClient(transport=transport, base_url=RESOURCE) as client:
            declared = await client.post("/reports/q3", content=b"x" * 17)
            streamed = await client.post("/reports/q3", content=chunks())  # no Content-Length
            return [declared, streamed]

    for response in asyncio.run(scenario()):
        assert_problem(response, 413, "content_too_large")
        assert not [h for h in SIGNATURE_HEADERS if h in response.headers]


def _post_raw(world: Resource, content_length: bytes) -> tuple[list[Message], list[Message]]:
    """A POST of 24 bytes in three chunks straight into the middleware (max_body 16): what it
    sent, and the chunks it left unread."""
    middleware = build(world, max_body=16)
    chunks: list[Message] = [
        {"type": "http.request", "body": b"x" * 8, "more_body": True},
        {"type": "http.request", "body": b"x" * 8, "more_body": True},
        {"type": "http.request", "body": b"x" * 8, "more_body": False},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return chunks.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "path": "/reports/q3",
        "raw_path": b"/reports/q3",
        "query_string": b"",
        "headers": [(b"host", b"docs.example"), (b"content-length", content_length)],
    }
    asyncio.run(middleware(scope, receive, send))
    return sent, chunks


def test_body_over_declared_cap_is_413_before_any_of_it_is_read(world: Resource) -> None:
    """A Content-Length over the cap is refused before the first receive(), the call on which
    a server answers ``Expect: 100-continue``: the client never sends the body."""
    sent, unread = _post_raw(world, b"24")
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"] == "content_too_large"
    assert len(unread) == 3


def test_expect_100_continue_over_the_cap_gets_413_and_no_continue(world: Resource) -> None:
    """Over real uvicorn: the 413 comes before the server would invite the body."""
    head = (
        b"POST /reports/q3 HTTP/1.1\r\nHost: docs.example\r\nContent-Length: 100\r\n"
        b"Expect: 100-continue\r\n\r\n"
    )
    with (
        RunningServer(build(world, max_body=16)) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection,
    ):
        connection.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            assert chunk, "the server closed the connection without answering"
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:40]


@pytest.mark.parametrize("declared", [b"\xb2", b"-1", b"1e9", b""])
def test_malformed_content_length_is_measured_not_trusted(world: Resource, declared: bytes) -> None:
    """A Content-Length that is not ASCII digits (``²`` is a digit to ``str.isdigit``) never
    becomes a 500: the body itself is measured against the cap."""
    sent, _ = _post_raw(world, declared)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"] == "content_too_large"


# -- rules -------------------------------------------------------------------------------------


def test_route_rule_matching() -> None:
    policy = ResourcePolicy(resource=RESOURCE)
    prefix = RouteRule("/public/*", policy)
    assert prefix.matches("GET", "/public")
    assert prefix.matches("POST", "/public/a/b")
    assert not prefix.matches("GET", "/publicity")
    exact = RouteRule("/data", None, methods=("get",))
    assert exact.matches("GET", "/data")
    assert exact.matches("HEAD", "/data")
    assert not exact.matches("POST", "/data")
    assert not exact.matches("GET", "/data/1")
    with pytest.raises(ValueError):
        RouteRule("data", None)


def test_rules_as_a_mapping_first_match_wins(world: Resource) -> None:
    verifier = world.verifier()
    open_policy = verifier.policy.with_(accepted_schemes=("hwk",), require_identity=False)
    middleware = AAuthMiddleware(Starlette(), verifier, rules={"/whoami": open_policy, "/*": None})
    assert middleware.policy_for("GET", "/whoami") is open_policy
    assert middleware.policy_for("GET", "/other") is None
    assert AAuthMiddleware(Starlette(), verifier).policy_for("GET", "/x") is verifier.policy


def test_public_origin_fixes_the_signed_authority(world: Resource, asgi_client: Client) -> None:
    client = asgi_client(build(world, public_origin=RESOURCE), "http://10.0.0.7:8000")
    response = client.get("/whoami", headers=signed(world, "GET", f"{RESOURCE}/whoami"))
    assert response.status_code == 200
    assert response.json()["agent"] == AGENT


# -- other scopes and failures ----------------------------------------------------------------


def test_lifespan_and_websocket_scopes_pass_through(world: Resource) -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = AAuthMiddleware(app, world.verifier())

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("the middleware must not answer for the app")

    for kind in ("lifespan", "websocket"):
        asyncio.run(middleware({"type": kind, "path": "/ws", "headers": []}, receive, send))
    assert seen == ["lifespan", "websocket"]


class BrokenVerifier(RequestVerifier):
    async def averify(self, request: HttpRequest, policy: ResourcePolicy | None = None) -> Any:
        raise RuntimeError("secret internals")


def test_unexpected_error_is_500_problem_without_traceback(
    world: Resource, asgi_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    client = asgi_client(build(world, BrokenVerifier(world.policy(), world.keys)), RESOURCE)
    with caplog.at_level(logging.ERROR, "aauth.resource"):
        response = client.get("/whoami")
    body = assert_problem(response, 500, "server_error")
    assert "secret internals" not in response.text
    assert body["detail"] == "the request could not be verified"
    assert "secret internals" in caplog.text


def test_async_client_over_asgi_transport(world: Resource) -> None:
    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=build(world))
        async with httpx.AsyncClient(transport=transport, base_url=RESOURCE) as client:
            token = world.auth_token(scope="docs.write")
            headers = signed(world, "POST", URL, b"hi", token=token)
            return await client.post("/reports/q3", headers=headers, content=b"hi")

    response = asyncio.run(scenario())
    assert response.status_code == 200
    assert response.json()["body"] == "hi"
