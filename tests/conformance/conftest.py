"""Shared in-process participants for the conformance tests: the example resource and a
person server that pre-approves ``data.read`` and ``data.write``, behind one routing transport.

The only scripted parts are network faults a test injects (``World.faults``): a response
given instead of forwarding the request, standing in for what a real peer does rarely.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from aauth.agent import AgentAuth, AgentSigner
from aauth.agent.flow import run_sync
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.person import AutoApproval, PersonServerConfig
from aauth.person.persons import Person, hash_password
from aauth.server.config import ResourceServerConfig
from aauth.server.person_server import create_person_server
from aauth.server.resource_server import create_resource_server
from aauth.store import SQLiteStore
from aauth.tokens import issue_agent_token

AP = "https://ap.example"
PS = "https://ps.example"
API = "https://api.example"
AGENT = "aauth:bot@ap.example"
DATA = f"{API}/data"
ALICE = Person("alice", "Alice", hash_password("pw"))

Fault = Callable[[httpx.Request], httpx.Response | None]


class World:
    """Resource and PS in-process; ``faults`` may answer a request before it reaches them."""

    def __init__(self, tmp_path: Path) -> None:
        self.ap, self.ps_keys = KeySet.generate(), KeySet.generate()
        self.ps_keys.save(tmp_path / "ps-keys.json")
        resource_keys = KeySet.generate()
        resource_keys.save(tmp_path / "resource-keys.json")
        self.resource_keys = resource_keys
        settings = ResourceServerConfig(
            identifier=API, trusted_issuers=(PS,), key_file=str(tmp_path / "resource-keys.json")
        )
        resource = create_resource_server(
            settings,
            key_source=StaticKeySource({AP: self.ap.jwks(), PS: self.ps_keys.jwks()}),
        )
        config = PersonServerConfig(
            identifier=PS,
            people=(ALICE,),
            bindings={AGENT: "alice"},
            key_file=str(tmp_path / "ps-keys.json"),
            auto_approve=(AutoApproval("*", API, frozenset({"data.read", "data.write"})),),
        )
        person = create_person_server(
            config,
            SQLiteStore(),
            key_source=StaticKeySource({AP: self.ap.jwks(), API: resource_keys.jwks()}),
        )
        self.apps: dict[str, Starlette] = {"api.example": resource, "ps.example": person}
        self.faults: list[Fault] = []
        self.trail: list[tuple[str, str, int]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        for fault in self.faults:
            injected = fault(request)
            if injected is not None:
                self.trail.append((request.method, str(request.url), injected.status_code))
                return injected
        inner = httpx.ASGITransport(app=self.apps[request.url.host])

        async def send() -> httpx.Response:
            response = await inner.handle_async_request(request)
            return httpx.Response(
                response.status_code, headers=response.headers, content=await response.aread()
            )

        response = asyncio.run(send())
        self.trail.append((request.method, str(request.url), response.status_code))
        return response

    def agent(self, key_alg: str = "Ed25519") -> AgentSigner:
        key = generate_key(key_alg)
        token = issue_agent_token(self.ap, iss=AP, sub=AGENT, cnf_jwk=key.public_key(), ps=PS)
        return AgentSigner(key, token)

    def get(self, auth: AgentAuth, url: str = DATA) -> httpx.Response:
        return self.send(auth, httpx.Request("GET", url))

    def send(self, auth: AgentAuth, request: httpx.Request) -> httpx.Response:
        """Run the agent's whole flow for ``request``; every exchange stays in-process."""
        with httpx.Client(transport=httpx.MockTransport(self.handle)) as client:
            return run_sync(auth.flow(request), client)

    def token_requests(self) -> int:
        return sum(1 for m, u, _ in self.trail if m == "POST" and u == f"{PS}/token")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)
