"""A small AAuth world for token tests: issuer key sets, a clock, a counting key source."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aauth_signing import SigningKey, VerifyingKey, b64url_encode

from aauth.keys import KeySet, generate_key, thumbprint
from aauth.keysource import StaticKeySource
from aauth.tokens import TokenVerifier

AP = "https://ap.example"
PS = "https://ps.example"
AS = "https://as.example"
RESOURCE = "https://docs.example"
AGENT = "aauth:bot@ap.example"
NOW = 1_767_225_600.0


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingKeySource:
    """StaticKeySource that counts lookups, to prove the cache spares them."""

    def __init__(self, jwks_by_issuer: Mapping[str, Mapping[str, Any]]) -> None:
        self.inner = StaticKeySource(jwks_by_issuer)
        self.calls: list[tuple[str, str, str]] = []

    def get_key(self, issuer: str, dwk: str, kid: str) -> tuple[VerifyingKey, Mapping[str, Any]]:
        self.calls.append((issuer, dwk, kid))
        return self.inner.get_key(issuer, dwk, kid)

    async def aget_key(
        self, issuer: str, dwk: str, kid: str
    ) -> tuple[VerifyingKey, Mapping[str, Any]]:
        self.calls.append((issuer, dwk, kid))
        return self.inner.get_key(issuer, dwk, kid)


@dataclass
class World:
    ap: KeySet = field(default_factory=KeySet.generate)
    ps: KeySet = field(default_factory=KeySet.generate)
    as_: KeySet = field(default_factory=lambda: KeySet.generate("ES256"))
    resource: KeySet = field(default_factory=KeySet.generate)
    agent_key: SigningKey = field(default_factory=generate_key)
    clock: Clock = field(default_factory=Clock)
    keys: CountingKeySource = field(init=False)

    def __post_init__(self) -> None:
        self.keys = CountingKeySource(
            {
                AP: self.ap.jwks(),
                PS: self.ps.jwks(),
                AS: self.as_.jwks(),
                RESOURCE: self.resource.jwks(),
            }
        )

    @property
    def agent_jkt(self) -> str:
        return thumbprint(self.agent_key)

    def verifier(self, **options: Any) -> TokenVerifier:
        return TokenVerifier(self.keys, clock=self.clock, **options)

    @staticmethod
    def sign_raw(
        key: SigningKey, header: Mapping[str, Any], claims: Mapping[str, Any] | str
    ) -> str:
        """A compact JWS with exactly this header and payload, for tokens no issuer mints."""
        payload = claims if isinstance(claims, str) else json.dumps(claims)
        head = b64url_encode(json.dumps(header).encode())
        body = b64url_encode(payload.encode())
        signature = key.sign(f"{head}.{body}".encode())
        return f"{head}.{body}.{b64url_encode(signature)}"

    def forge(self, key_set: KeySet, typ: str, claims: Mapping[str, Any], **header: Any) -> str:
        """A token signed by ``key_set``'s current key with arbitrary claims (None drops one)."""
        full = {"alg": key_set.current.algorithm.jose, "typ": typ, "kid": key_set.current_kid}
        full.update(header)
        body = {name: value for name, value in claims.items() if value is not None}
        return self.sign_raw(key_set.current, full, body)


@pytest.fixture
def world() -> World:
    return World()
