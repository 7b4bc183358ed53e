"""Phase 1 over real HTTP: pseudonymous access with an inline key (``hwk``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aauth.agent.signer import AgentSigner
from aauth.demo.world import World, running_world
from aauth.headers import parse_accept_signature_scheme, parse_signature_error
from aauth.keys import generate_key

from .conftest import Recorder


@pytest.fixture
def resource_only() -> Iterator[World]:
    with running_world(Recorder(), agent_provider=False) as world:
        yield world


def test_unsigned_request_is_refused_with_a_signature_error(resource_only: World) -> None:
    response = httpx.get(f"{resource_only.resource}/public/hello")
    assert response.status_code == 401
    assert parse_signature_error(response.headers["signature-error"]).error == "invalid_request"
    assert "hwk" in parse_accept_signature_scheme(response.headers["accept-signature-scheme"])
    assert response.json()["error"] == "invalid_request"
    assert "aauth-requirement" not in response.headers


def test_hwk_signed_request_is_served_to_the_key_thumbprint(resource_only: World) -> None:
    url = f"{resource_only.resource}/public/hello"
    signer = AgentSigner(generate_key())
    response = httpx.get(url, headers=signer.sign("GET", url, scheme="hwk"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "message": "hello",
        "agent": None,
        "scheme": "hwk",
        "thumbprint": signer.thumbprint,
        "issuer": None,
    }


def test_hwk_signature_over_another_path_is_refused(resource_only: World) -> None:
    url = f"{resource_only.resource}/public/hello"
    signer = AgentSigner(generate_key())
    headers = signer.sign("GET", f"{resource_only.resource}/public/other", scheme="hwk")
    response = httpx.get(url, headers=headers)
    assert response.status_code == 401
    assert parse_signature_error(response.headers["signature-error"]).error == "invalid_signature"
