"""An agent provider in-process, with one enrolled agent and a fresh instance key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from aauth_signing import JktJwt, RequestSigner, SigningKey

from aauth.agent_provider import AGENT_TOKEN_PATH, AgentProvider
from aauth.keys import generate_key, thumbprint
from aauth.server.agent_provider import AgentProviderConfig, create_agent_provider

AP = "https://ap.example"
PS = "https://ps.example"
AGENT = "aauth:planner@ap.example"
TOKEN_URL = AP + AGENT_TOKEN_PATH


@dataclass
class Provider:
    client: httpx.Client
    provider: AgentProvider
    enrolled: SigningKey
    instance: SigningKey = field(default_factory=generate_key)

    def post(self, proof: str, key: SigningKey | None = None) -> httpx.Response:
        """POST /agent-token with ``proof`` as the jkt-jwt, signed by ``key`` (the instance)."""
        headers = RequestSigner(key or self.instance, JktJwt(proof)).sign("POST", TOKEN_URL)
        return self.client.post(AGENT_TOKEN_PATH, headers=headers)


def config(enrolled: SigningKey, **extra: object) -> AgentProviderConfig:
    return AgentProviderConfig.load(
        {
            "identifier": AP,
            "name": "Planner Inc.",
            "callback_endpoint": f"{AP}/callback",
            "agents": {"planner": {"enrollment_jkt": thumbprint(enrolled), "ps": PS}},
            **extra,
        }
    )


@pytest.fixture
def ap(asgi_client: Callable[..., httpx.Client]) -> Provider:
    enrolled = generate_key()
    app = create_agent_provider(config(enrolled))
    return Provider(asgi_client(app, AP), app.state.agent_provider, enrolled)
