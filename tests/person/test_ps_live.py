"""Phase 4 over real HTTP on loopback: the person server discovers the agent provider's and the
resource's keys and metadata, a person approves through the forms, the long-polling agent
gets its token at once, and the browser goes back to the agent's callback."""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from aauth.agent.flow import run_sync
from aauth.agent.poller import DeferredCallbacks, InteractionPrompt, PollSettings
from aauth.agent.token_client import TokenRequest, request_auth_token
from aauth.tokens import AuthTokenClaims

from .conftest import (
    ALICE_PASSWORD,
    World,
    csrf_of,
    interaction_of,
    live_servers,
    post_login_sync,
)


@pytest.fixture
def live() -> Iterator[tuple[World, str]]:
    """A person server and its neighbours on loopback ports; yields the world and the
    neighbours' origin (agent provider and resource in one)."""
    world, neighbour_server, ps_server = live_servers(callback=True)
    with neighbour_server, ps_server:
        yield world, neighbour_server.url


def test_phase4_live_with_discovery_callback_and_prompt_wakeup(live: tuple[World, str]) -> None:
    world, origin = live
    agent = world.agent()
    token_url = f"{world.ps}/token"
    body = (
        b'{"resource_token": "%s", "capabilities": ["interaction"], "device": "laptop"}'
        % world.resource_token(agent).encode()
    )
    with httpx.Client() as http, httpx.Client(base_url=world.ps) as browser:
        first = http.post(token_url, content=body, headers=agent.headers("POST", token_url, body))
        assert first.status_code == 202, first.text
        location = first.headers["location"]
        url, code = interaction_of(first)

        outcome: dict[str, float | httpx.Response] = {}

        def poll() -> None:
            with httpx.Client(timeout=60) as poller:
                for _ in range(20):
                    answer = poller.get(
                        location, headers=agent.headers("GET", location, prefer="wait=30")
                    )
                    if answer.status_code != 202:
                        outcome["at"] = time.perf_counter()
                        outcome["response"] = answer
                        return

        poller = threading.Thread(target=poll)
        poller.start()

        login = post_login_sync(browser, "alice", ALICE_PASSWORD, next="/")
        assert login.status_code == 303
        for cookie in login.headers.get_list("set-cookie"):
            assert "secure" not in cookie.lower()  # loopback development
        callback = f"{origin}/callback?state=xyz"
        page = browser.get(url, params={"code": code, "callback": callback}, follow_redirects=True)
        assert page.status_code == 200, page.text
        assert "Trip Planner" in page.text  # the agent provider's name, discovered
        assert "Read your documents" in page.text  # the resource's scope description
        assert "laptop" in page.text
        assert f"form-action 'self' {origin}" in page.headers["content-security-policy"]
        action = re.search(r"<form method=post action='([^']+)'", page.text)
        assert action is not None
        form = {"csrf": csrf_of(page.text), "code": code, "decision": "approve"}
        sent = time.perf_counter()
        decided = browser.post(action.group(1).replace("&amp;", "&"), data=form)
        poller.join(timeout=10)
        assert decided.status_code == 303
        assert decided.headers["location"] == callback  # back to the agent's callback
        granted = outcome["response"]
        assert isinstance(granted, httpx.Response)
        assert granted.status_code == 200, granted.text
        assert set(granted.json()) == {"auth_token", "expires_in"}
        # Woken by the decision, not by the 30 s long-poll deadline (speed is bench_approval's).
        latency = float(outcome["at"]) - sent  # type: ignore[arg-type]
        assert latency < 10, f"approval reached the waiting agent after {latency:.1f} s"
        gone = http.get(location, headers=agent.headers("GET", location))
        assert gone.status_code == 410


def test_denial_goes_back_to_the_callback_with_an_error(live: tuple[World, str]) -> None:
    world, origin = live
    agent = world.agent()
    token_url = f"{world.ps}/token"
    body = (
        b'{"resource_token": "%s", "capabilities": ["interaction"]}'
        % world.resource_token(agent).encode()
    )
    with httpx.Client() as http, httpx.Client(base_url=world.ps) as browser:
        first = http.post(token_url, content=body, headers=agent.headers("POST", token_url, body))
        url, code = interaction_of(first)
        assert post_login_sync(browser, "alice", ALICE_PASSWORD).status_code == 303
        page = browser.get(
            url, params={"code": code, "callback": f"{origin}/callback"}, follow_redirects=True
        )
        action = re.search(r"<form method=post action='([^']+)'", page.text)
        assert action is not None
        form = {"csrf": csrf_of(page.text), "code": code, "decision": "deny"}
        denied = browser.post(action.group(1).replace("&amp;", "&"), data=form)
        assert denied.status_code == 303
        assert denied.headers["location"] == f"{origin}/callback?error=access_denied"
        location = first.headers["location"]
        poll = http.get(location, headers=agent.headers("GET", location))
        assert poll.status_code == 403
        assert poll.json()["error"] == "denied"


def test_the_agent_client_follows_consent_to_its_token(live: tuple[World, str]) -> None:
    """The agent side of this library (token request + deferred polling) against this PS."""
    world, origin = live
    agent = world.agent()
    prompts: queue.Queue[InteractionPrompt] = queue.Queue()
    result: list[tuple[str, AuthTokenClaims]] = []

    def run_agent() -> None:
        request = TokenRequest(
            world.resource_token(agent),
            resource=origin,
            justification="Q3",
            capabilities=("interaction",),
        )
        settings = PollSettings(deadline=30, prefer_wait=30, allow_loopback_http=True)
        flow = request_auth_token(
            f"{world.ps}/token",
            request,
            agent.signer,
            issuer=world.ps,
            settings=settings,
            callbacks=DeferredCallbacks(on_interaction=prompts.put),
            allow_loopback_http=True,
        )
        with httpx.Client(timeout=60) as http:
            result.append(run_sync(flow, http))

    waiting = threading.Thread(target=run_agent)
    waiting.start()
    prompt = prompts.get(timeout=10)
    with httpx.Client(base_url=world.ps) as browser:
        assert post_login_sync(browser, "alice", ALICE_PASSWORD).status_code == 303
        page = browser.get(prompt.link, follow_redirects=True)
        action = re.search(r"<form method=post action='([^']+)'", page.text)
        assert action is not None
        form = {"csrf": csrf_of(page.text), "code": prompt.code, "decision": "approve"}
        assert browser.post(action.group(1), data=form).status_code == 200
    waiting.join(timeout=30)
    assert result, "the agent client got no token"
    _, claims = result[0]
    assert claims.aud == origin
    assert claims.agent == agent.sub
    assert claims.sub is not None
