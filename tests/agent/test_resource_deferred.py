"""AG-19 against a bare resource on loopback: an AAuth 202 (``requirement=approval``) is
polled at its ``Location`` with signed GETs and no body; an API's own 202 is returned as is."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aauth.agent.auth import AgentAuth
from aauth.agent.poller import PollSettings
from aauth.agent.signer import AgentSigner
from aauth.keys import KeySet, generate_key
from aauth.server.running import RunningServer
from aauth.tokens import issue_agent_token

AP = "https://ap.example"


@pytest.fixture
def resource() -> Iterator[tuple[str, list[tuple[str, str, bytes, bool]]]]:
    seen: list[tuple[str, str, bytes, bool]] = []
    polls = {"count": 0}

    async def record(request: Request) -> None:
        body = await request.body()
        seen.append((request.method, request.url.path, body, "signature" in request.headers))

    async def job(request: Request) -> JSONResponse:
        await record(request)
        return JSONResponse({"job": 1}, 202, headers={"Location": "/jobs/1"})

    async def approve(request: Request) -> JSONResponse:
        await record(request)
        headers = {
            "Location": "/pending/1",
            "Retry-After": "0",
            "Cache-Control": "no-store",
            "AAuth-Requirement": "requirement=approval",
        }
        return JSONResponse({"status": "pending"}, 202, headers=headers)

    async def pending(request: Request) -> JSONResponse:
        await record(request)
        polls["count"] += 1
        if polls["count"] < 2:
            headers = {"Location": "/pending/1", "Retry-After": "0", "Cache-Control": "no-store"}
            return JSONResponse({"status": "pending"}, 202, headers=headers)
        return JSONResponse({"done": True})

    app = Starlette(
        routes=[
            Route("/job", job, methods=["GET"]),
            Route("/write", approve, methods=["POST"]),
            Route("/pending/1", pending, methods=["GET"]),
        ]
    )
    with RunningServer(app) as server:
        yield server.url, seen


def agent_auth() -> AgentAuth:
    key = generate_key()
    token = issue_agent_token(
        KeySet.generate(), iss=AP, sub="aauth:bot@ap.example", cnf_jwk=key.public_key()
    )
    poll = PollSettings(deadline=10, prefer_wait=0, min_interval=0.01, allow_loopback_http=True)
    return AgentAuth(AgentSigner(key, token), poll=poll, allow_loopback_http=True)


def test_ag19_an_aauth_202_is_polled_with_get_and_no_body(
    resource: tuple[str, list[tuple[str, str, bytes, bool]]],
) -> None:
    url, seen = resource
    with httpx.Client(auth=agent_auth()) as client:
        response = client.post(f"{url}/write", json={"note": "once"})
    assert response.status_code == 200
    assert response.json() == {"done": True}
    assert seen[0] == ("POST", "/write", b'{"note":"once"}', True)
    assert seen[1:] == [("GET", "/pending/1", b"", True), ("GET", "/pending/1", b"", True)]


def test_an_apis_own_202_is_returned_unchanged(
    resource: tuple[str, list[tuple[str, str, bytes, bool]]],
) -> None:
    url, seen = resource
    with httpx.Client(auth=agent_auth()) as client:
        response = client.get(f"{url}/job")
    assert response.status_code == 202
    assert response.json() == {"job": 1}
    assert [entry[:2] for entry in seen] == [("GET", "/job")]
