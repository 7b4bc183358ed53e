"""The agent's pending-URL poller against a real local server that scripts the 202s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth.agent.flow import run_async, run_sync
from aauth.agent.poller import (
    Clarification,
    DeferredCallbacks,
    InteractionPrompt,
    PollSettings,
    PollTimeout,
    follow_deferred,
)
from aauth.errors import Gone, InvalidCode, PendingAbandoned, PendingDenied, PendingExpired
from aauth.server.running import RunningServer

FAST = PollSettings(default_interval=0.01, max_interval=0.02, slow_down_increment=0.01)


class Script:
    """Responses the pending URL gives, in order, and the requests it saw."""

    def __init__(self) -> None:
        self.replies: list[Response] = []
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

    async def pending(self, request: Request) -> Response:
        self.seen.append((request.method, dict(request.headers), await request.body()))
        if request.method == "DELETE":
            return Response(status_code=204)
        return self.replies.pop(0) if self.replies else JSONResponse({"status": "pending"}, 202)

    async def start(self, request: Request) -> Response:
        return JSONResponse(
            {"status": "pending"},
            202,
            headers={"Location": "/pending/1", "Retry-After": "0", "Cache-Control": "no-store"},
        )


@pytest.fixture
def script() -> Iterator[tuple[Script, str]]:
    s = Script()
    app = Starlette(
        routes=[
            Route("/start", s.start, methods=["POST"]),
            Route("/pending/1", s.pending, methods=["GET", "POST", "DELETE"]),
        ]
    )
    with RunningServer(app) as server:
        yield s, server.url


def fake_sign(method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
    return {"Signature": "sig=:AAAA:", "X-Signed-For": f"{method} {url}"}


def first_202(client: httpx.Client, base: str) -> httpx.Response:
    return client.post(f"{base}/start")


def test_ag19_polls_until_200_with_signed_gets_and_prefer_wait(script: tuple[Script, str]) -> None:
    s, base = script
    s.replies = [
        JSONResponse({"status": "pending"}, 202, headers={"Retry-After": "3600"}),
        JSONResponse({"status": "interacting"}, 202),
        JSONResponse({"auth_token": "tok", "expires_in": 60}, 200),
    ]
    with httpx.Client() as client:
        final = run_sync(follow_deferred(first_202(client, base), fake_sign, FAST), client)
    assert final.json()["auth_token"] == "tok"
    methods = [m for m, _, _ in s.seen]
    assert methods == ["GET", "GET", "GET"]
    for _, headers, body in s.seen:
        assert headers["prefer"].startswith("wait=")
        assert headers["x-signed-for"].startswith("GET ")
        assert body == b""


def test_ag21_429_slows_down_then_continues(script: tuple[Script, str]) -> None:
    s, base = script
    s.replies = [
        JSONResponse({"error": "slow_down"}, 429),
        JSONResponse({"auth_token": "t"}, 200),
    ]
    with httpx.Client() as client:
        assert run_sync(follow_deferred(first_202(client, base), fake_sign, FAST), client)


def test_interaction_prompt_is_surfaced_once(script: tuple[Script, str]) -> None:
    s, base = script
    requirement = 'requirement=interaction;url="https://ps.example/interact";code="ABCD-EFGH"'
    s.replies = [
        JSONResponse({"status": "pending"}, 202, headers={"AAuth-Requirement": requirement}),
        JSONResponse({"status": "interacting"}, 202, headers={"AAuth-Requirement": requirement}),
        JSONResponse({"auth_token": "t"}, 200),
    ]
    prompts: list[InteractionPrompt] = []
    callbacks = DeferredCallbacks(on_interaction=prompts.append)
    with httpx.Client() as client:
        run_sync(follow_deferred(first_202(client, base), fake_sign, FAST, callbacks), client)
    assert [p.link for p in prompts] == ["https://ps.example/interact?code=ABCD-EFGH"]


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (403, "denied", PendingDenied),
        (403, "abandoned", PendingAbandoned),
        (408, "expired", PendingExpired),
        (410, "invalid_code", InvalidCode),
        (410, "gone", Gone),
    ],
)
def test_ag23_terminal_answers_raise_and_are_not_retried(
    script: tuple[Script, str], status: int, error: str, expected: type[Exception]
) -> None:
    s, base = script
    s.replies = [JSONResponse({"error": error, "detail": "x"}, status)]
    with httpx.Client() as client, pytest.raises(expected):
        run_sync(follow_deferred(first_202(client, base), fake_sign, FAST), client)
    assert len(s.seen) == 1


def test_deadline_cancels_the_request(script: tuple[Script, str]) -> None:
    s, base = script
    settings = PollSettings(deadline=0.05, default_interval=0.01, max_interval=0.01)
    with httpx.Client() as client, pytest.raises(PollTimeout):
        run_sync(follow_deferred(first_202(client, base), fake_sign, settings), client)
    assert s.seen[-1][0] == "DELETE"


def test_last_second_before_the_deadline_is_slept_not_spun(script: tuple[Script, str]) -> None:
    """Retry-After: 0 with under a second left (no whole-second Prefer: wait to ask for):
    one last look at the deadline, not a burst of immediately answered polls."""
    s, base = script
    settings = PollSettings(deadline=0.3, default_interval=0)
    with httpx.Client() as client, pytest.raises(PollTimeout):
        run_sync(follow_deferred(first_202(client, base), fake_sign, settings), client)
    assert [method for method, _, _ in s.seen] == ["GET", "DELETE"]


def test_ag24_clarification_is_answered_with_action(script: tuple[Script, str]) -> None:
    s, base = script
    s.replies = [
        JSONResponse({"status": "pending", "clarification": "Why?", "timeout": 60}, 202),
        JSONResponse({"status": "pending"}, 202),
        JSONResponse({"auth_token": "t"}, 200),
    ]
    asked: list[Clarification] = []

    def answer(question: Clarification) -> str:
        asked.append(question)
        return "Only to read."

    callbacks = DeferredCallbacks(on_clarification=answer)
    with httpx.Client() as client:
        run_sync(follow_deferred(first_202(client, base), fake_sign, FAST, callbacks), client)
    assert asked[0].question == "Why?"
    post = next(body for method, _, body in s.seen if method == "POST")
    assert b'"action": "clarification_response"' in post


def test_declined_clarification_cancels(script: tuple[Script, str]) -> None:
    s, base = script
    s.replies = [JSONResponse({"status": "pending", "clarification": "Why?"}, 202)]
    callbacks = DeferredCallbacks(on_clarification=lambda q: None)
    with httpx.Client() as client, pytest.raises(PendingAbandoned):
        run_sync(follow_deferred(first_202(client, base), fake_sign, FAST, callbacks), client)
    assert s.seen[-1][0] == "DELETE"


def test_v31_location_on_another_origin_is_refused(script: tuple[Script, str]) -> None:
    _, base = script
    request = httpx.Request("POST", f"{base}/start")
    response = httpx.Response(202, headers={"Location": "https://evil.example/p"}, request=request)
    with httpx.Client() as client, pytest.raises(Exception, match="origin"):
        run_sync(follow_deferred(response, fake_sign, FAST), client)


def test_async_driver(script: tuple[Script, str]) -> None:
    s, base = script
    s.replies = [JSONResponse({"auth_token": "async"}, 200)]

    async def main() -> str:
        async with httpx.AsyncClient() as client:
            first = await client.post(f"{base}/start")
            final = await run_async(follow_deferred(first, fake_sign, FAST), client)
            return str(final.json()["auth_token"])

    assert asyncio.run(main()) == "async"


def test_polling_survives_a_restarting_server() -> None:
    """A connection failure mid-poll (the PS restarting) is retried until the deadline."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"auth_token": "after-restart"})

    start = httpx.Request("POST", "http://127.0.0.1:9/start")
    first = httpx.Response(202, headers={"Location": "/pending/1"}, request=start)
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        final = run_sync(follow_deferred(first, fake_sign, FAST), client)
    assert final.json()["auth_token"] == "after-restart"
    assert calls == ["GET", "GET"]


def test_no_tight_loop_without_long_polling(script: tuple[Script, str]) -> None:
    """prefer_wait=0 and Retry-After: 0 still leave min_interval between polls."""
    s, base = script
    s.replies = [
        JSONResponse({"status": "pending"}, 202, headers={"Retry-After": "0"}),
        JSONResponse({"status": "pending"}, 202, headers={"Retry-After": "0"}),
        JSONResponse({"auth_token": "t"}, 200),
    ]
    settings = PollSettings(prefer_wait=0, min_interval=0.05)
    started = time.monotonic()
    with httpx.Client() as client:
        run_sync(follow_deferred(first_202(client, base), fake_sign, settings), client)
    assert time.monotonic() - started >= 0.1  # one floor before each of the two later polls


def test_cancel_survives_an_unreachable_server() -> None:
    """At the deadline the DELETE may fail to connect; the caller still gets PollTimeout."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    start = httpx.Request("POST", "http://127.0.0.1:9/start")
    first = httpx.Response(202, headers={"Location": "/pending/1"}, request=start)
    settings = PollSettings(deadline=0.05, default_interval=0.01, max_interval=0.01)
    with httpx.Client(transport=httpx.MockTransport(handler)) as client, pytest.raises(PollTimeout):
        run_sync(follow_deferred(first, fake_sign, settings), client)


def test_agent_auth_advertises_only_what_its_callbacks_can_do() -> None:
    """AAuth-Capabilities: absence means no capability (§E.4), so none is claimed falsely."""
    from aauth.agent.auth import AgentAuth
    from aauth.agent.signer import AgentSigner
    from aauth.keys import KeySet, generate_key
    from aauth.tokens import issue_agent_token

    key = generate_key()
    token = issue_agent_token(
        KeySet.generate(),
        iss="https://ap.example",
        sub="aauth:bot@ap.example",
        cnf_jwk=key.public_key(),
        ps="https://ps.example",
    )
    signer = AgentSigner(key, token)
    assert AgentAuth(signer).capabilities == ()
    prompts = DeferredCallbacks(on_interaction=lambda prompt: None)
    assert AgentAuth(signer, callbacks=prompts).capabilities == ("interaction",)
    request = httpx.Request("GET", "https://api.example/data")

    def first_signed(auth: AgentAuth) -> httpx.Request:
        flow = auth.sync_auth_flow(request)
        metadata = next(flow)  # the resource's metadata is read first (AG-05)
        assert metadata.url.path == "/.well-known/aauth-resource.json"
        return flow.send(httpx.Response(404, request=metadata))

    assert first_signed(AgentAuth(signer, callbacks=prompts)).headers["aauth-capabilities"] == (
        "interaction"
    )
    assert "aauth-capabilities" not in first_signed(AgentAuth(signer)).headers
