"""Restart safety: ``kill -9`` of the person server in the middle of a consent, a
clarification round or a mission approval loses nothing.

The server runs as its own process (``python -m aauth.server.person_server``); after SIGKILL
it is started again on the same port with the same database and key file. The agent keeps
polling the same pending URL, the person submits the consent form they had open before the
crash, and the agent receives an auth token signed by the same key as before.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from aauth.headers import parse_mission
from aauth.keysource import StaticKeySource
from aauth.missions import parse_approval
from aauth.server.running import RunningServer
from aauth.tokens import TokenVerifier

from .conftest import (
    ALICE_PASSWORD,
    FAST_SCRYPT,
    World,
    csrf_of,
    interaction_of,
    neighbours,
    post_login_sync,
    wait_until,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PersonServerProcess:
    """``python -m aauth.server.person_server`` (or another participant's ``module``, ready
    when its ``document`` answers) for one config file, startable again."""

    def __init__(
        self,
        config: Path,
        port: int,
        log: Path,
        module: str = "aauth.server.person_server",
        document: str = "aauth-person.json",
    ) -> None:
        self.config, self.port, self.log = config, port, log
        self.module, self.document = module, document
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", self.module]
        command += ["--config", str(self.config), "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        wait_until(self._ready, timeout=30)

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.module} exited: {self.log.read_text()}")
        try:
            metadata = f"{self.url}/.well-known/{self.document}"
            return httpx.get(metadata, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[tuple[World, PersonServerProcess]]:
    port = free_port()
    world = World(ps=f"http://127.0.0.1:{port}", loopback=True)

    def neighbour_app(url: str) -> Starlette:
        world.ap, world.resources = url, (url,)
        return neighbours(world)

    neighbour_server = RunningServer.with_own_url(neighbour_app)
    config = tmp_path / "ps.json"
    config.write_text(
        json.dumps(
            {
                "identifier": world.ps,
                "allow_loopback_http": True,
                "db": "ps.db",
                "key_file": "ps-keys.json",
                "people": [{"id": "alice", "name": "Alice", "password": ALICE_PASSWORD}],
                "trusted_agent_providers": [world.ap],
                "poll_interval": 1,
                "password_scrypt_n": FAST_SCRYPT.n,
            }
        )
    )
    server = PersonServerProcess(config, port, tmp_path / "ps.log")
    with neighbour_server:
        try:
            server.start()
            yield world, server
        finally:
            server.stop()


def test_kill_9_mid_consent_loses_nothing(
    restartable: tuple[World, PersonServerProcess], tmp_path: Path
) -> None:
    world, server = restartable
    agent = world.agent()
    token_url = f"{world.ps}/token"
    body = json.dumps(
        {"resource_token": world.resource_token(agent), "capabilities": ["interaction"]}
    ).encode()
    with httpx.Client(timeout=30) as http, httpx.Client(base_url=world.ps) as browser:
        jwks_before = http.get(f"{world.ps}/.well-known/jwks.json").json()
        first = http.post(token_url, content=body, headers=agent.headers("POST", token_url, body))
        assert first.status_code == 202, first.text
        location = first.headers["location"]
        url, code = interaction_of(first)
        login = post_login_sync(browser, "alice", ALICE_PASSWORD)
        assert login.status_code == 303
        page = browser.get(url, params={"code": code}, follow_redirects=True)
        assert page.status_code == 200
        action = re.search(r"<form method=post action='([^']+)'", page.text)
        assert action is not None

        server.kill()  # SIGKILL in the middle of the consent
        with pytest.raises(httpx.TransportError):
            http.get(location, headers=agent.headers("GET", location))
        server.start()  # same port, same database, same key file

        assert http.get(f"{world.ps}/.well-known/jwks.json").json() == jwks_before
        resumed = http.get(location, headers=agent.headers("GET", location))
        assert resumed.status_code == 202, resumed.text
        assert resumed.json() == {"status": "interacting"}
        assert interaction_of(resumed) == (url, code)

        outcome: list[httpx.Response] = []

        def poll() -> None:
            with httpx.Client(timeout=60) as poller:
                for _ in range(20):
                    headers = agent.headers("GET", location, prefer="wait=30")
                    answer = poller.get(location, headers=headers)
                    if answer.status_code != 202:
                        outcome.append(answer)
                        return

        waiting = threading.Thread(target=poll)
        waiting.start()
        form = {"csrf": csrf_of(page.text), "code": code, "decision": "approve"}
        decided = browser.post(action.group(1), data=form)  # the form from before the crash
        assert decided.status_code == 200, decided.text
        waiting.join(timeout=30)
        assert outcome, "the waiting agent got no answer"
        granted = outcome[0]
        assert granted.status_code == 200, granted.text
        token = granted.json()["auth_token"]
        claims = TokenVerifier(
            StaticKeySource({world.ps: jwks_before}), allow_loopback_http=True
        ).verify_auth_token(
            token, audience=world.resources[0], agent=agent.sub, request_jkt=agent.signer.thumbprint
        )
        assert claims.iss == world.ps
        assert http.get(location, headers=agent.headers("GET", location)).status_code == 410
    assert (tmp_path / "ps-keys.json").stat().st_mode & 0o077 == 0  # keys readable by owner only


def test_kill_9_mid_clarification_round_loses_nothing(
    restartable: tuple[World, PersonServerProcess],
) -> None:
    """Phase 8: the person asked, the agent saw the question, the server died; after the
    restart the question is still open, the agent's answer lands, the person reads it and
    approves, the agent gets its token."""
    world, server = restartable
    agent = world.agent()
    token_url = f"{world.ps}/token"
    body = json.dumps(
        {
            "resource_token": world.resource_token(agent),
            "capabilities": ["interaction", "clarification"],
        }
    ).encode()
    question = "Why do you need my documents?"
    with httpx.Client(timeout=30) as http, httpx.Client(base_url=world.ps) as browser:
        first = http.post(token_url, content=body, headers=agent.headers("POST", token_url, body))
        assert first.status_code == 202, first.text
        location = first.headers["location"]
        url, code = interaction_of(first)
        assert post_login_sync(browser, "alice", ALICE_PASSWORD).status_code == 303
        page = browser.get(url, params={"code": code}, follow_redirects=True)
        action = re.search(r"<form method=post action='([^']+)'", page.text)
        assert action is not None
        form = {"csrf": csrf_of(page.text), "code": code, "decision": "ask", "question": question}
        asked = browser.post(action.group(1), data=form, follow_redirects=True)
        assert "id=waiting" in asked.text
        seen = http.get(location, headers=agent.headers("GET", location))
        assert seen.json()["clarification"] == question

        server.kill()  # SIGKILL while the question waits for its answer
        server.start()

        again = http.get(location, headers=agent.headers("GET", location))
        assert again.status_code == 202, again.text
        assert again.json()["clarification"] == question
        answer = json.dumps(
            {"action": "clarification_response", "clarification_response": "For the summary."}
        ).encode()
        headers = agent.headers("POST", location, answer)
        posted = http.post(location, content=answer, headers=headers)
        assert posted.status_code == 202, posted.text
        page = browser.get(url, params={"code": code}, follow_redirects=True)
        assert question in page.text
        assert "For the summary." in page.text
        approve = {"csrf": csrf_of(page.text), "code": code, "decision": "approve"}
        assert browser.post(action.group(1), data=approve).status_code == 200
        granted = http.get(location, headers=agent.headers("GET", location))
        assert granted.status_code == 200, granted.text
        assert "auth_token" in granted.json()


def test_kill_9_mid_mission_approval_loses_nothing(
    restartable: tuple[World, PersonServerProcess],
) -> None:
    """The proposal is pending and the person has its review page open when the server dies;
    after the restart the same form approves it, the waiting agent receives the blob whose
    s256 the header names, and the mission's log and state are all there."""
    world, server = restartable
    agent = world.agent()
    mission_url = f"{world.ps}/mission"
    body = json.dumps(
        {
            "description": "Summarise the Q3 documents",
            "resources": [{"resource": world.resources[0], "scopes": ["docs.read"]}],
        }
    ).encode()
    with httpx.Client(timeout=30) as http, httpx.Client(base_url=world.ps) as browser:
        first = http.post(
            mission_url, content=body, headers=agent.headers("POST", mission_url, body)
        )
        assert first.status_code == 202, first.text
        location = first.headers["location"]
        url, code = interaction_of(first)
        login = post_login_sync(browser, "alice", ALICE_PASSWORD)
        assert login.status_code == 303
        page = browser.get(url, params={"code": code}, follow_redirects=True)
        assert "/missions/proposal/" in str(page.url)
        action = re.search(r"<form method=post action='([^']+)'", page.text)
        assert action is not None

        server.kill()  # SIGKILL while the person reviews the mission
        server.start()

        resumed = http.get(location, headers=agent.headers("GET", location))
        assert resumed.status_code == 202, resumed.text
        assert resumed.json() == {"status": "interacting"}
        form = {"csrf": csrf_of(page.text), "code": code, "decision": "approve"}
        decided = browser.post(action.group(1), data=form)  # the form from before the crash
        assert decided.status_code == 200, decided.text
        approved = http.get(location, headers=agent.headers("GET", location))
        assert approved.status_code == 200, approved.text
        ref = parse_mission(approved.headers["aauth-mission"], allow_loopback_http=True)
        mission = parse_approval(ref, approved.content, agent=agent.sub, approver=world.ps)

        server.kill()  # and once more, with the mission approved and a token issued
        server.start()
        token = world.resource_token(agent, mission=mission.ref)
        body = json.dumps({"resource_token": token}).encode()
        token_url = f"{world.ps}/token"
        granted = http.post(token_url, content=body, headers=agent.headers("POST", token_url, body))
        assert granted.status_code == 200, granted.text  # within the mission: no person asked
        log = browser.get(f"/missions/{ref.s256}")
        assert log.status_code == 200
        assert "approved" in log.text
        assert "token issued" in log.text
