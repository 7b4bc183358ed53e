"""A resource, its PS and an agent, with real keys and tokens and no network."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from aauth_signing import HttpRequest

from aauth.agent.signer import AgentSigner
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.resource import RequestVerifier, ResourcePolicy, ResourceTokenIssuer
from aauth.tokens import issue_agent_token, issue_auth_token

AP = "https://ap.example"
PS = "https://ps.example"
RESOURCE = "https://docs.example"
AGENT = "aauth:bot@ap.example"
URL = "https://docs.example/reports/q3"


@dataclass
class Resource:
    ap: KeySet = field(default_factory=KeySet.generate)
    ps: KeySet = field(default_factory=KeySet.generate)
    resource: KeySet = field(default_factory=KeySet.generate)
    signer: AgentSigner = field(init=False)
    agent_token: str = field(init=False)
    keys: StaticKeySource = field(init=False)

    def __post_init__(self) -> None:
        key = generate_key()
        self.agent_token = issue_agent_token(
            self.ap, iss=AP, sub=AGENT, cnf_jwk=key.public_key(), ps=PS
        )
        self.signer = AgentSigner(key, self.agent_token)
        self.keys = StaticKeySource(
            {AP: self.ap.jwks(), PS: self.ps.jwks(), RESOURCE: self.resource.jwks()}
        )

    def policy(self, **changes: Any) -> ResourcePolicy:
        base = ResourcePolicy(
            resource=RESOURCE,
            canonical_authorities=("docs.example",),
            trusted_issuers=(PS,),
            required_scopes=("docs.read",),
        )
        return base.with_(**changes)

    def verifier(self, **changes: Any) -> RequestVerifier:
        issuer = ResourceTokenIssuer(RESOURCE, self.resource, scopes={"docs.read", "docs.write"})
        return RequestVerifier(self.policy(**changes), self.keys, token_issuer=issuer)

    def auth_token(self, scope: str = "docs.read", aud: str = RESOURCE, **kw: Any) -> str:
        return issue_auth_token(
            self.ps,
            iss=PS,
            dwk="aauth-person.json",
            aud=aud,
            agent=AGENT,
            cnf_jwk=self.signer.key.public_key(),
            agent_exp=time.time() + 3600,
            resource_scope=scope,
            scope=scope,
            **kw,
        )

    def request(
        self,
        method: str = "GET",
        url: str = URL,
        *,
        token: str | None = None,
        scheme: str = "jwt",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> HttpRequest:
        headers = dict(headers or {})
        headers.update(self.signer.sign(method, url, headers, body, scheme=scheme, token=token))
        return HttpRequest(method, url, headers, body)


@pytest.fixture
def world() -> Resource:
    return Resource()
