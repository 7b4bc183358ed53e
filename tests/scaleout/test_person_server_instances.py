"""Two person-server instances over one real Redis: what one accepts or decides, the other
knows at once (issue: scale-out). Both apps serve the same identifier with the same keys, as
instances behind one load balancer do; each has its own Redis connections and its own
pub/sub listener, so everything that crosses between them goes through Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from aauth.server.person_server import create_person_server
from aauth.store.redis import RedisStore

from ..person.conftest import (
    ALICE_PASSWORD,
    Agent,
    World,
    client,
    decide,
    interaction_of,
    open_consent,
    post_login,
    request_token,
    sign_in,
    signed,
    token_body,
)


class Pair:
    """Instances A and B of one person server, each on its own RedisStore."""

    def __init__(self, world: World, url: str, key_file: Path) -> None:
        self.url = url
        self.stores = (RedisStore.from_url(url), RedisStore.from_url(url))
        config = world.config(key_file=str(key_file), max_wait=20)
        self.a, self.b = (
            create_person_server(config, store, key_source=world.keys) for store in self.stores
        )

    def close(self) -> None:
        for store in self.stores:
            store.close()


async def poll_until_decided(
    http: httpx.AsyncClient, agent: Agent, location: str, wait: int = 20
) -> httpx.Response:
    """What an agent does with a pending URL: long-poll again while the answer is 202."""
    while True:
        answer = await signed(http, agent, "GET", location, prefer=f"wait={wait}")
        if answer.status_code != 202:
            return answer


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def pair(redis_server: Any, world: World, tmp_path: Path) -> Any:
    instances = Pair(world, redis_server.fresh_url(), tmp_path / "ps-keys.json")
    yield instances
    instances.close()


def test_approval_on_a_wakes_the_long_poll_on_b_at_once(world: World, pair: Pair) -> None:
    agent = world.agent()

    async def scenario() -> tuple[httpx.Response, float]:
        async with client(pair.a) as on_a, client(pair.b) as on_b:
            first = await request_token(on_a, agent, world.resource_token(agent))
            assert first.status_code == 202, first.text
            location = first.headers["location"]
            url, code = interaction_of(first)
            poll = asyncio.create_task(poll_until_decided(on_b, agent, location))
            await asyncio.sleep(0.2)  # B is now inside its long poll
            assert not poll.done()
            await sign_in(on_a, "alice", ALICE_PASSWORD)
            decided_at = time.monotonic()
            decision = await decide(on_a, await open_consent(on_a, url, code))
            assert decision.status_code == 200, decision.text
            answer = await asyncio.wait_for(poll, 10)
            return answer, time.monotonic() - decided_at

    answer, latency = asyncio.run(scenario())
    assert answer.status_code == 200, answer.text
    assert "auth_token" in answer.json()
    assert latency < 5  # woken by the decision, not by the 20 s deadline


def test_a_request_accepted_by_a_is_refused_as_a_replay_by_b(world: World, pair: Pair) -> None:
    agent = world.agent()
    body = token_body(world.resource_token(agent), capabilities=["interaction"])
    url = f"{world.ps}/token"
    headers = agent.headers("POST", url, body)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with client(pair.a) as on_a, client(pair.b) as on_b:
            first = await on_a.post(url, content=body, headers=headers)
            again = await on_b.post(url, content=body, headers=headers)
            return first, again

    first, again = asyncio.run(scenario())
    assert first.status_code in (200, 202), first.text
    assert again.status_code == 401, again.text
    assert again.headers["signature-error"] == "error=invalid_signature"
    assert again.json()["detail"] == "this signature has already been used"


def test_fifty_concurrent_polls_across_both_instances_deliver_exactly_once(
    world: World, redis_server: Any, tmp_path: Path
) -> None:
    """Real concurrency: both instances as live servers in their own threads and event loops;
    fifty polls from fifty threads race to report one completed request."""
    from concurrent.futures import ThreadPoolExecutor

    from aauth.server.running import RunningServer

    url = redis_server.fresh_url()
    world.loopback = True
    stores = [RedisStore.from_url(url), RedisStore.from_url(url)]
    key_file = str(tmp_path / "keys.json")

    def instance_a(own_url: str) -> Starlette:
        world.ps = own_url
        return create_person_server(
            world.config(key_file=key_file), stores[0], key_source=world.keys
        )

    with RunningServer.with_own_url(instance_a) as a:
        b_app = create_person_server(
            world.config(key_file=key_file), stores[1], key_source=world.keys
        )
        with RunningServer(b_app) as b:
            agent = world.agent()
            host = {"host": a.url.split("://", 1)[1]}  # B sits behind the same name as A

            async def start() -> str:
                async with httpx.AsyncClient(base_url=a.url) as on_a:
                    first = await request_token(on_a, agent, world.resource_token(agent))
                    assert first.status_code == 202, first.text
                    url_, code = interaction_of(first)
                    await sign_in(on_a, "alice", ALICE_PASSWORD)
                    decision = await decide(on_a, await open_consent(on_a, url_, code))
                    assert decision.status_code == 200, decision.text
                    return str(first.headers["location"])

            location = asyncio.run(start())
            path = location.split(a.url, 1)[1]

            def poll(index: int) -> int:
                target = a if index % 2 == 0 else b
                headers = {**agent.headers("GET", location), **host}
                with httpx.Client(timeout=30) as http:
                    return http.get(f"{target.url}{path}", headers=headers).status_code

            with ThreadPoolExecutor(max_workers=50) as pool:
                statuses = list(pool.map(poll, range(50)))
    for store in stores:
        store.close()
    assert statuses.count(200) == 1, statuses
    assert statuses.count(410) == 49, statuses


PERMANENT = {
    "aauth:agent-binding:": "an agent stays bound to its person (PS-28) until unbound",
    "aauth:person-server:": "the secrets behind pairwise subjects and sign-in forms",
    "aauth:password:": "a password rehashed at sign-in replaces the configured hash",
    "aauth:audit:": "a person's audit log (PS-32), one bounded record per person",
}


def test_every_key_a_flow_leaves_expires_unless_it_is_permanent_by_design(
    world: World, pair: Pair, redis_server: Any
) -> None:
    """Nothing grows without bound: pending requests, codes, sessions, consents, replay
    entries and failure counters all carry a Redis TTL."""
    import redis

    agent = world.agent()

    async def scenario() -> None:
        async with client(pair.a) as http:
            first = await request_token(http, agent, world.resource_token(agent))
            url, code = interaction_of(first)
            wrong = await post_login(http, "alice", "wrong")  # leaves failure counters behind
            assert wrong.status_code == 401
            await sign_in(http, "alice", ALICE_PASSWORD)
            await decide(http, await open_consent(http, url, code))
            assert (await signed(http, agent, "GET", first.headers["location"])).status_code == 200

    asyncio.run(scenario())
    raw = redis.Redis.from_url(pair.url, decode_responses=True)
    keys = raw.keys("aauth:*")
    namespaces = {key.rsplit(":", 1)[0] for key in keys}
    assert {"aauth:pending", "aauth:session", "aauth:replay"} <= namespaces, namespaces
    forever = [key for key in keys if raw.ttl(key) == -1]
    raw.close()
    assert all(key.startswith(tuple(PERMANENT)) for key in forever), forever
