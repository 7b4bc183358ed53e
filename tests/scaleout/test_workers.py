"""``aauth serve person --workers 2 --store redis://…``: uvicorn's worker processes share one
Redis, so whichever worker takes the person's decision wakes the agent's long poll held by
whichever worker took the poll."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from aauth.server.running import RunningServer

from ..person.conftest import (
    ALICE_PASSWORD,
    World,
    decide,
    interaction_of,
    neighbours,
    open_consent,
    request_token,
    sign_in,
)
from ..person.test_ps_restart import free_port
from .test_failures import serve_process
from .test_person_server_instances import poll_until_decided


def test_two_workers_on_redis_complete_a_long_polled_consent(
    redis_server: Any, tmp_path: Path
) -> None:
    port = free_port()
    world = World(ps=f"http://127.0.0.1:{port}", loopback=True)

    def neighbour_app(own_url: str) -> Starlette:
        world.ap, world.resources = own_url, (own_url,)
        return neighbours(world)

    config = tmp_path / "ps.json"
    with RunningServer.with_own_url(neighbour_app):
        config.write_text(
            json.dumps(
                {
                    "identifier": world.ps,
                    "allow_loopback_http": True,
                    "key_file": "ps-keys.json",
                    "people": [{"id": "alice", "name": "Alice", "password": ALICE_PASSWORD}],
                    "trusted_agent_providers": [world.ap],
                }
            )
        )
        args = [
            "person",
            "--config",
            str(config),
            "--workers",
            "2",
            "--store",
            redis_server.fresh_url(),
        ]
        process = serve_process(args, port, tmp_path)
        try:
            agent = world.agent()

            async def scenario() -> httpx.Response:
                async with (
                    httpx.AsyncClient(base_url=world.ps, timeout=30) as http,
                    httpx.AsyncClient(base_url=world.ps, timeout=30) as poller,
                ):
                    first = await request_token(http, agent, world.resource_token(agent))
                    assert first.status_code == 202, first.text
                    location = first.headers["location"]
                    poll = asyncio.create_task(poll_until_decided(poller, agent, location))
                    url, code = interaction_of(first)
                    await sign_in(http, "alice", ALICE_PASSWORD)
                    decision = await decide(http, await open_consent(http, url, code))
                    assert decision.status_code == 200, decision.text
                    return await asyncio.wait_for(poll, 10)  # woken, not timed out

            granted = asyncio.run(scenario())
            assert granted.status_code == 200, granted.text
            assert "auth_token" in granted.json()
        finally:
            process.terminate()
            process.wait(timeout=20)
    log = (tmp_path / f"serve-{port}.log").read_text()
    assert log.count("Started server process") == 2, log
