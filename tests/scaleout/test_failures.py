"""What happens when a piece goes away: an instance killed mid-flow (the other finishes it),
Redis killed and restarted mid-flow (503 with Retry-After while it is down, the flow then
completes from its AOF), a Redis that is not there at startup (one clear line), and the
resource's replay guard kept in the store across a restart."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from aauth.server.config import ResourceServerConfig
from aauth.server.person_server import create_person_server
from aauth.server.resource_server import create_resource_server
from aauth.server.running import RunningServer
from aauth.store.redis import RedisStore

from ..person.conftest import (
    ALICE_PASSWORD,
    World,
    client,
    decide,
    interaction_of,
    neighbours,
    open_consent,
    request_token,
    sign_in,
    signed,
    wait_until,
)
from ..person.test_ps_restart import free_port


def serve_process(args: list[str], port: int, logs: Path) -> subprocess.Popen[bytes]:
    """``aauth serve ARGS --port PORT`` as a process of its own, once it answers."""
    log_file = logs / f"serve-{port}.log"
    command = [sys.executable, "-m", "aauth.cli", "serve", *args, "--port", str(port)]
    with log_file.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(log_file.read_text())
        try:
            jwks = f"http://127.0.0.1:{port}/.well-known/jwks.json"
            return httpx.get(jwks, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, timeout=30)
    return process


@pytest.fixture
def own_redis(redis_server: Any, tmp_path: Path) -> Any:
    """A redis-server of this test's own, to kill without disturbing the others."""
    server = type(redis_server)(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_killed_and_restarted_mid_flow(own_redis: Any) -> None:
    redis_server = own_redis
    world = World()
    store = RedisStore.from_url(redis_server.url)
    app = create_person_server(world.config(), store, key_source=world.keys)
    agent = world.agent()

    async def scenario() -> None:
        async with client(app) as http:
            first = await request_token(http, agent, world.resource_token(agent))
            assert first.status_code == 202, first.text
            location = first.headers["location"]
            url, code = interaction_of(first)
            await sign_in(http, "alice", ALICE_PASSWORD)
            page = await open_consent(http, url, code)

            redis_server.kill()
            down = await signed(http, agent, "GET", location)
            assert down.status_code == 503, down.text
            assert down.headers["retry-after"] == "2"
            assert down.json()["error"] == "temporarily_unavailable"
            retried = await request_token(http, agent, world.resource_token(agent))
            assert retried.status_code == 503, retried.text
            refused = await decide(http, page)
            assert refused.status_code == 503, refused.text

            redis_server.start()  # same port, same directory: the AOF brings the flow back
            resumed = await signed(http, agent, "GET", location)
            assert resumed.status_code == 202, resumed.text
            decision = await decide(http, page)
            assert decision.status_code == 200, decision.text
            granted = await signed(http, agent, "GET", location)
            assert granted.status_code == 200, granted.text
            assert "auth_token" in granted.json()

    asyncio.run(scenario())
    store.close()


def test_kill_9_of_one_instance_mid_flow_the_other_finishes_it(
    redis_server: Any, tmp_path: Path
) -> None:
    url = redis_server.fresh_url()
    port_a, port_b = free_port(), free_port()
    world = World(ps=f"http://127.0.0.1:{port_a}", loopback=True)

    def neighbour_app(own_url: str) -> Starlette:
        world.ap, world.resources = own_url, (own_url,)
        return neighbours(world)

    neighbour_server = RunningServer.with_own_url(neighbour_app)
    config = tmp_path / "ps.json"
    config.write_text(
        json.dumps(
            {
                "identifier": world.ps,
                "allow_loopback_http": True,
                "store": url,
                "key_file": "ps-keys.json",
                "people": [{"id": "alice", "name": "Alice", "password": ALICE_PASSWORD}],
                "trusted_agent_providers": [world.ap],
            }
        )
    )

    def start(port: int) -> subprocess.Popen[bytes]:
        return serve_process(["person", "--config", str(config)], port, tmp_path)

    with neighbour_server:
        a = start(port_a)
        try:
            b = start(port_b)
        except BaseException:
            a.kill()
            raise
        try:
            agent = world.agent()
            behind_b = {"host": f"127.0.0.1:{port_a}"}  # B answers for A's name
            b_url = f"http://127.0.0.1:{port_b}"

            async def scenario() -> httpx.Response:
                async with (
                    httpx.AsyncClient(base_url=world.ps, timeout=30) as on_a,
                    httpx.AsyncClient(base_url=b_url, headers=behind_b, timeout=30) as on_b,
                ):
                    first = await request_token(on_a, agent, world.resource_token(agent))
                    assert first.status_code == 202, first.text
                    location = first.headers["location"]
                    url_, code = interaction_of(first)
                    os.kill(a.pid, signal.SIGKILL)  # A dies holding the flow
                    a.wait(timeout=10)
                    await sign_in(on_b, "alice", ALICE_PASSWORD)
                    path = url_.split(world.ps, 1)[1]
                    page = await open_consent(on_b, path, code)
                    action = re.search(r"action='([^']+)'", page.text)
                    assert action is not None, page.text
                    decision = await decide(on_b, page)
                    assert decision.status_code == 200, decision.text
                    pending = location.split(world.ps, 1)[1]
                    headers = agent.headers("GET", location)
                    return await on_b.get(pending, headers=headers)

            granted = asyncio.run(scenario())
            assert granted.status_code == 200, granted.text
            assert "auth_token" in granted.json()
        finally:
            for process in (a, b):
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=10)


@pytest.mark.parametrize("role", ["resource", "agent-provider"])
def test_serve_with_an_unreachable_redis_says_so_in_one_line(role: str) -> None:
    port = free_port()  # nothing listens there
    url = f"redis://127.0.0.1:{port}/0"
    result = subprocess.run(
        [sys.executable, "-m", "aauth.cli", "serve", role, "--port", str(port), "--store", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"aauth serve: error: {role}: cannot reach Redis at {url}: ")


@pytest.mark.parametrize("shared", [False, True], ids=["sqlite-file", "redis"])
def test_resource_refuses_a_replay_after_a_restart(
    shared: bool, redis_server: Any, tmp_path: Path
) -> None:
    """The example resource keeps its replay guard in its store: a POST captured before a
    restart (or accepted by another instance) is refused after it."""
    from aauth.agent.signer import AgentSigner
    from aauth.keys import generate_key

    location = redis_server.fresh_url() if shared else str(tmp_path / "resource.db")
    config = ResourceServerConfig(identifier="https://api.example", store=location)
    signer = AgentSigner(generate_key())
    url = "https://api.example/public/hello"
    body = b"{}"
    headers = signer.sign("POST", url, {"content-type": "application/json"}, body, scheme="hwk")

    def send() -> int:
        app = create_resource_server(config)  # a new instance each time, same store

        async def post() -> int:
            async with app.router.lifespan_context(app), client(app, "https://api.example") as http:
                response = await http.post(
                    url, content=body, headers={"content-type": "application/json", **headers}
                )
                return response.status_code

        return asyncio.run(post())

    first, after_restart = send(), send()
    assert first == 405  # /public/hello is GET-only: verified, then refused by the router
    assert after_restart == 401
