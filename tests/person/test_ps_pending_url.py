"""The pending URL of a deferred token request: who may touch it, and what it answers (§F.4)."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from aauth.person import prefer_wait

from .conftest import PS, Agent, World, client, interaction_of, request_token, signed


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def pending_url(http: httpx.AsyncClient, world: World, agent: Agent) -> str:
    response = await request_token(http, agent, world.resource_token(agent))
    assert response.status_code == 202
    return response.headers["location"]


def assert_problem(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == error


def test_v31_every_202_carries_location_retry_after_no_store_and_the_requirement(
    world: World,
) -> None:
    agent = world.agent()

    async def scenario() -> list[httpx.Response]:
        async with client(world.app()) as http:
            first = await request_token(http, agent, world.resource_token(agent))
            poll = await signed(http, agent, "GET", first.headers["location"])
            return [first, poll]

    first, poll = run(scenario())
    for response in (first, poll):
        assert response.status_code == 202
        assert response.json() == {"status": "pending"}
        location = urlsplit(response.headers["location"])
        assert f"{location.scheme}://{location.netloc}" == PS  # same origin
        assert len(location.path.rsplit("/", 1)[1]) >= 32  # unguessable (V-32)
        assert response.headers["retry-after"] == "1"
        assert response.headers["cache-control"] == "no-store"
        url, code = interaction_of(response)
        assert url == f"{PS}/interact"
        assert len(code.replace("-", "")) >= 8
    assert interaction_of(first) == interaction_of(poll)
    assert "preference-applied" not in poll.headers


def test_v32_only_the_requesting_agent_may_poll_post_or_delete(world: World) -> None:
    agent, other = world.agent(), world.agent("other")

    async def scenario() -> None:
        async with client(world.app()) as http:
            location = await pending_url(http, world, agent)
            answers = [
                await signed(http, other, "GET", location),
                await signed(http, other, "POST", location, b'{"action":"updated_request"}'),
                await signed(http, other, "DELETE", location),
                await signed(http, agent, "GET", f"{PS}/pending/unknown"),
            ]
            for response in answers:
                assert_problem(response, 404, "not_found")
            assert len({response.text for response in answers}) == 1  # nothing to tell apart
            assert (await signed(http, agent, "GET", location)).status_code == 202
            unsigned = await http.get(location)
            assert unsigned.status_code == 401
            assert "signature-error" in unsigned.headers

    run(scenario())


def test_v33_delete_cancels_then_410(world: World) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app()) as http:
            location = await pending_url(http, world, agent)
            cancelled = await signed(http, agent, "DELETE", location)
            assert cancelled.status_code == 204
            assert_problem(await signed(http, agent, "GET", location), 410, "gone")
            # (a body makes this DELETE's signature differ from the first: no replay)
            again = await signed(http, agent, "DELETE", location, b"{}")
            assert_problem(again, 410, "gone")
            post = await signed(http, agent, "POST", location, b'{"action":"updated_request"}')
            assert_problem(post, 410, "gone")

    run(scenario())


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{}", "action"),
        (b'{"clarification_response": "hi"}', "action"),
        (b'{"action": "dance"}', "action"),
        (b"not json", "action"),
        (b'{"action": ["x"]}', "action"),  # issue 9 item 5: was a 500 (unhashable)
        (b'{"action": {"a": 1}}', "action"),
        (b'{"action": 7}', "action"),
        (b'{"action": null}', "action"),
        (b'{"action": NaN}', "strict JSON"),
        (b'{"action": "x", "action": "updated_request"}', "duplicate"),
        (b'["action"]', "JSON object"),
        (b'{"action": "clarification_response", "clarification_response": "x"}', "outstanding"),
    ],
)
def test_v34_post_needs_a_recognised_action_and_an_outstanding_clarification(
    world: World, body: bytes, words: str
) -> None:
    agent = world.agent()

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with client(world.app()) as http:
            location = await pending_url(http, world, agent)
            answer = await signed(http, agent, "POST", location, body)
            return answer, await signed(http, agent, "GET", location)

    answer, after = run(scenario())
    assert_problem(answer, 400, "invalid_request")
    assert words in answer.json()["detail"]
    assert after.status_code == 202  # the request is untouched


def test_other_methods_are_405(world: World) -> None:
    agent = world.agent()

    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            location = await pending_url(http, world, agent)
            return await signed(http, agent, "PUT", location, b"{}")

    response = run(scenario())
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST", "DELETE"}


def test_prefer_wait_is_honoured_up_to_the_cap(world: World) -> None:
    agent = world.agent()

    async def scenario() -> tuple[httpx.Response, float]:
        async with client(world.app(max_wait=1)) as http:
            location = await pending_url(http, world, agent)
            started = time.monotonic()
            response = await signed(http, agent, "GET", location, prefer="wait=600")
            return response, time.monotonic() - started

    response, waited = run(scenario())
    assert response.status_code == 202
    assert response.headers["preference-applied"] == "wait=1"
    assert response.headers["retry-after"] == "0"
    assert 0.9 <= waited < 5


def test_prefer_wait_parsing() -> None:
    assert prefer_wait(None, 60) is None
    assert prefer_wait("respond-async", 60) is None
    assert prefer_wait("wait=10", 60) == 10
    assert prefer_wait('respond-async, wait="5"', 60) == 5
    assert prefer_wait("wait=10; foo=bar", 60) == 10
    assert prefer_wait("wait=9999", 60) == 60
    assert prefer_wait("wait=-1", 60) is None
    assert prefer_wait("wait=abc", 60) is None


def test_ps13_concurrent_requests_get_their_own_pending_urls(world: World) -> None:
    agent = world.agent()

    async def scenario() -> list[httpx.Response]:
        async with client(world.app()) as http:
            return list(
                await asyncio.gather(
                    *(request_token(http, agent, world.resource_token(agent)) for _ in range(3))
                )
            )

    responses = run(scenario())
    assert len({r.headers["location"] for r in responses}) == 3
    assert len({interaction_of(r)[1] for r in responses}) == 3
