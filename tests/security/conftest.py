"""Live participants for the security tests: the example resource and a person server, each
on a loopback port, with issuer keys pinned (no discovery), plus ES256 agents for them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette

from aauth.agent.signer import AgentSigner
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.server.running import RunningServer
from aauth.tokens import issue_agent_token, issue_auth_token

from ..person.conftest import Agent, World, auto
from ..resource.conftest import AGENT, AP, PS


@dataclass
class LiveResource:
    """The example resource at ``url``, trusting auth tokens from PS."""

    url: str
    ap: KeySet
    ps: KeySet

    def agent(self, algorithm: str = "ES256") -> tuple[AgentSigner, str]:
        """A fresh agent and an auth token for ``data.read data.write`` bound to its key."""
        key = generate_key(algorithm)
        agent_token = issue_agent_token(self.ap, iss=AP, sub=AGENT, cnf_jwk=key.public_key(), ps=PS)
        auth_token = issue_auth_token(
            self.ps,
            iss=PS,
            dwk="aauth-person.json",
            aud=self.url,
            agent=AGENT,
            cnf_jwk=key.public_key(),
            agent_exp=time.time() + 3600,
            resource_scope="data.read data.write",
            scope="data.read data.write",
            sub=f"person-{uuid.uuid4()}",  # a person of its own: counted items are its own
            allow_loopback_http=True,
        )
        return AgentSigner(key, agent_token), auth_token


@pytest.fixture(scope="module")
def live_resource() -> Iterator[LiveResource]:
    ap, ps = KeySet.generate(), KeySet.generate()
    keys = StaticKeySource({AP: ap.jwks(), PS: ps.jwks()})
    server = RunningServer.with_own_url(
        lambda url: create_resource_server(
            ResourceServerConfig(identifier=url, trusted_issuers=(PS,), allow_loopback_http=True),
            key_source=keys,
        )
    )
    with server:
        yield LiveResource(server.url, ap, ps)


@pytest.fixture(scope="module")
def live_person_server() -> Iterator[World]:
    """A person server on a loopback port that pre-approves docs.read (pinned issuer keys)."""
    world = World(loopback=True)

    def app(url: str) -> Starlette:
        world.ps = url
        return world.app(auto_approve=(auto(),))

    with RunningServer.with_own_url(app):
        yield world


def es256_agent(world: World) -> Agent:
    """An agent of ``world`` whose key is ES256 (the person-server world's default is Ed25519)."""
    key = generate_key("ES256")
    sub = "aauth:bot@ap.example"
    token = issue_agent_token(
        world.ap_keys,
        iss=world.ap,
        sub=sub,
        cnf_jwk=key.public_key(),
        ps=world.ps,
        allow_loopback_http=True,
    )
    return Agent(sub, world.ap, key, token, AgentSigner(key, token))
