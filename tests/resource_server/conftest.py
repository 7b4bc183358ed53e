"""The example resource in-process, with an agent and a PS whose keys it knows statically."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from aauth.agent.signer import AgentSigner
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.tokens import issue_agent_token, issue_auth_token

AP = "https://ap.example"
PS = "https://ps.example"
API = "https://api.example"
AGENT = "aauth:bot@ap.example"


@dataclass
class Api:
    """One agent (with an agent token naming PS) and the resource that trusts PS."""

    client: httpx.Client
    ap: KeySet = field(default_factory=KeySet.generate)
    ps: KeySet = field(default_factory=KeySet.generate)
    signer: AgentSigner = field(init=False)

    def __post_init__(self) -> None:
        key = generate_key()
        token = issue_agent_token(self.ap, iss=AP, sub=AGENT, cnf_jwk=key.public_key(), ps=PS)
        self.signer = AgentSigner(key, token)

    def auth_token(self, scope: str = "data.read", **kw: Any) -> str:
        return issue_auth_token(
            self.ps,
            iss=PS,
            dwk="aauth-person.json",
            aud=kw.pop("aud", API),
            agent=AGENT,
            cnf_jwk=self.signer.key.public_key(),
            agent_exp=time.time() + 3600,
            resource_scope=scope,
            scope=scope,
            **kw,
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        token: str | None = None,
        scheme: str = "jwt",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = dict(headers or {})
        url = API + path
        headers.update(self.signer.sign(method, url, headers, body, scheme=scheme, token=token))
        return self.client.request(method, path, headers=headers, content=body)


@pytest.fixture
def api(asgi_client: Callable[..., httpx.Client]) -> Api:
    ap, ps = KeySet.generate(), KeySet.generate()
    keys = StaticKeySource({AP: ap.jwks(), PS: ps.jwks()})
    config = ResourceServerConfig(identifier=API, trusted_issuers=(PS,), name="Example data")
    app = create_resource_server(config, key_source=keys)
    return Api(asgi_client(app, API), ap, ps)
