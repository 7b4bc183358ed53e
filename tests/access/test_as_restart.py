"""Restart safety: ``kill -9`` of the access server in the middle of a federated consent loses
nothing.

The AS runs as its own process (``python -m aauth.server.access_server``) beside an in-process
person server, resource and agent provider. The agent's request reaches the AS's interaction
step; the AS is killed with SIGKILL and started again on the same port with the same database
and key file; the person then approves with the code shown before the crash, and the agent
receives the AS's auth token.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

import httpx

from aauth.agent.poller import DeferredCallbacks, InteractionPrompt
from aauth.demo.consent import PERSON
from aauth.demo.federation import FederatedWorld, _agents, _person_server
from aauth.demo.person import Person
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.server.running import RunningServer
from aauth.tokens import decode_unverified
from aauth.tokens.verifier import AUTH_TOKEN

from ..person.test_ps_restart import PersonServerProcess, free_port
from .conftest import fetch, quiet


def test_kill_9_of_the_as_mid_federated_consent_loses_nothing(tmp_path: Path) -> None:
    world = FederatedWorld(quiet(), tmp_path, "pw-" + os.urandom(6).hex())
    as_port = free_port()
    access = PersonServerProcess(
        tmp_path / "as.json",
        as_port,
        tmp_path / "as.log",
        module="aauth.server.access_server",
        document="aauth-access.json",
    )
    world.access_server = access.url
    with (
        RunningServer.with_own_url(
            lambda url: _person_server(url, world.password, tmp_path, True)
        ) as ps,
        RunningServer.with_own_url(
            lambda url: create_resource_server(
                ResourceServerConfig.load(
                    {"identifier": url, "access_server": access.url, "allow_loopback_http": True}
                )
            )
        ) as resource,
    ):
        world.person_servers.append(ps.url)
        world.resource = resource.url
        (tmp_path / "as.json").write_text(
            json.dumps(
                {
                    "identifier": access.url,
                    "resources": [resource.url],
                    "trusted_person_servers": [ps.url],
                    "people": [{"id": PERSON, "name": "Alice", "password": world.password}],
                    "interaction": True,
                    "poll_interval": 0,
                    "db": "as.db",
                    "key_file": "as-keys.json",
                    "allow_loopback_http": True,
                }
            )
        )
        with contextlib.ExitStack() as stack:
            world.agent_provider = _agents(stack, world)
            access.start()
            try:
                prompts: list[InteractionPrompt] = []
                shown = threading.Event()
                approve = threading.Event()
                pages: list[httpx.Response] = []

                def on_interaction(prompt: InteractionPrompt) -> None:
                    prompts.append(prompt)
                    shown.set()
                    threading.Thread(target=decide, args=(prompt,), daemon=True).start()

                def decide(prompt: InteractionPrompt) -> None:
                    approve.wait(timeout=60)
                    with httpx.Client(timeout=30) as browser:
                        pages.append(Person(PERSON, world.password, browser).decide(prompt))

                outcome: list[httpx.Response] = []
                agent = threading.Thread(
                    target=lambda: outcome.append(
                        fetch(world, ps.url, DeferredCallbacks(on_interaction=on_interaction))[0]
                    ),
                    daemon=True,
                )
                agent.start()
                assert shown.wait(timeout=60), "the AS interaction never reached the agent"
                jwks_before = httpx.get(f"{access.url}/.well-known/jwks.json").json()
                access.kill()  # SIGKILL in the middle of the federated consent
                access.start()  # same port, same database, same key file
                assert httpx.get(f"{access.url}/.well-known/jwks.json").json() == jwks_before
                approve.set()  # the person uses the code shown before the crash
                agent.join(timeout=90)
                assert outcome, "the agent got no answer"
                assert outcome[0].status_code == 200, outcome[0].text
                assert pages[0].status_code == 200
                token = decode_unverified(
                    AUTH_TOKEN,
                    outcome[0].request.headers["signature-key"].split('"')[1],
                    allow_loopback_http=True,
                )
                assert token.iss == access.url
            finally:
                access.stop()
