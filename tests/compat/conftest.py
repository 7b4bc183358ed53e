"""A 0.3-style world: Ed25519 keys as ``cryptography`` objects and a dict-backed fetcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

import aauth

AP, PS, RESOURCE = "https://agent.example", "https://ps.example", "https://resource.example"
AGENT = "aauth:assistant@agent.example"


@dataclass
class World:
    agent: ed25519.Ed25519PrivateKey
    ap: ed25519.Ed25519PrivateKey
    ps: ed25519.Ed25519PrivateKey
    resource: ed25519.Ed25519PrivateKey
    jwks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def agent_jwk(self) -> dict[str, Any]:
        return aauth.public_key_to_jwk(self.agent.public_key())

    def fetcher(self, issuer: str) -> dict[str, Any] | None:
        return self.jwks.get(issuer)

    def agent_token(self, sub: str = AGENT) -> str:
        return aauth.create_agent_token(AP, sub, self.agent_jwk, self.ap, "ap-1", ps=PS)

    def auth_token(self, agent: str = AGENT, **claims: Any) -> str:
        claims.setdefault("scope", "data.read")
        return aauth.create_auth_token(
            PS,
            RESOURCE,
            agent,
            self.agent_jwk,
            self.ps,
            "ps-1",
            {"agent": agent},
            dwk="aauth-person.json",
            **claims,
        )


@pytest.fixture
def world() -> World:
    keys = [aauth.generate_ed25519_keypair()[0] for _ in range(4)]
    w = World(*keys)
    for issuer, key, kid in ((AP, w.ap, "ap-1"), (PS, w.ps, "ps-1"), (RESOURCE, w.resource, "r-1")):
        w.jwks[issuer] = aauth.generate_jwks([aauth.public_key_to_jwk(key.public_key(), kid)])
    return w
