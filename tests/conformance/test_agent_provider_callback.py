"""AG-37, AP-08: the agent provider serves the ``callback_endpoint`` it advertises, and a
callback carrying ``error`` is shown as a failure, never as completion.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from aauth.agent_provider import callback_outcome
from aauth.keys import generate_key, thumbprint
from aauth.server.agent_provider import AgentProviderConfig, create_agent_provider

AP = "https://ap.example"


def config(**extra: object) -> AgentProviderConfig:
    enrolled = generate_key()
    return AgentProviderConfig.load(
        {
            "identifier": AP,
            "callback_endpoint": f"{AP}/callback",
            "agents": {"planner": {"enrollment_jkt": thumbprint(enrolled)}},
            **extra,
        }
    )


@pytest.fixture
def client(asgi_client: Callable[..., httpx.Client]) -> httpx.Client:
    return asgi_client(create_agent_provider(config()), AP)


def test_ag37_ap08_the_advertised_callback_endpoint_is_served(client: httpx.Client) -> None:
    endpoint = client.get("/.well-known/aauth-agent.json").json()["callback_endpoint"]
    parts = urlsplit(endpoint)
    assert (parts.scheme, parts.query, parts.fragment) == ("https", "", "")  # AP-08
    response = client.get(parts.path)
    assert response.status_code == 200
    assert "Done" in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("access_denied", "denied"),
        ("user_abandoned", "abandoned"),
        ("interaction_expired", "expired"),
        ("temporarily_unavailable", "server_error"),
        ("server_error", "server_error"),
        ("<script>", "server_error"),
    ],
)
def test_ag37_a_callback_with_an_error_is_surfaced_not_treated_as_completion(
    client: httpx.Client, error: str, shown: str
) -> None:
    response = client.get("/callback", params={"error": error})
    assert response.status_code == 400
    assert "Not completed" in response.text
    assert f"({shown})" in response.text
    assert "Done" not in response.text
    assert "<script>" not in response.text
    outcome = callback_outcome({"error": error})
    assert not outcome.completed
    assert outcome.error == shown


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://elsewhere.example/callback",  # advertised but not served here
        f"{AP}/callback?x=1",
        f"{AP}/callback#top",
        "http://ap.example/callback",
        AP,
    ],
)
def test_ag37_ap08_a_callback_endpoint_this_provider_cannot_serve_is_refused(endpoint: str) -> None:
    with pytest.raises(ValueError, match="callback_endpoint"):
        create_agent_provider(config(callback_endpoint=endpoint))
