"""Issue 9 #7: two genuine identical POSTs in one second are two requests, a resend is one.

The replay guard keys on the signature base (V-50), so what keeps two identical requests apart
is the RFC 9421 ``nonce`` the signer puts in ``@signature-params`` on every method but GET,
HEAD and OPTIONS. Everything here runs over real HTTP against live servers.
"""

from __future__ import annotations

import time

import httpx
import pytest
from aauth_signing import HttpRequest, Jwt, parse_signature_input, sign_request

from aauth.agent.signer import AgentSigner

from ..person.conftest import World, token_body
from .conftest import LiveResource, es256_agent

BODY = b'{"note": "same words twice"}'
JSON = {"content-type": "application/json"}


def count(http: httpx.Client, live: LiveResource, signer: AgentSigner, token: str) -> int:
    """How many items the agent's person holds at the resource."""
    url = f"{live.url}/data"
    listed = http.get(url, headers=signer.sign("GET", url, token=token))
    assert listed.status_code == 200, listed.text
    return len(listed.json()["items"])


def same_second_post(
    live: LiveResource, algorithm: str, nonce: str | None
) -> tuple[dict[str, str], dict[str, str], AgentSigner, str]:
    """Two signatures of one POST with one ``created`` (and ``nonce``, when given)."""
    signer, token = live.agent(algorithm)
    request = HttpRequest("POST", f"{live.url}/data", JSON, BODY)
    created = int(time.time())
    one, two = (
        {**JSON, **sign_request(request, signer.key, Jwt(token), created=created, nonce=nonce)}
        for _ in range(2)
    )
    return one, two, signer, token


@pytest.mark.parametrize("algorithm", ["Ed25519", "ES256"])
def test_two_identical_posts_in_one_second_are_both_accepted(
    live_resource: LiveResource, algorithm: str
) -> None:
    one, two, signer, token = same_second_post(live_resource, algorithm, nonce=None)
    assert one["Signature-Input"] != two["Signature-Input"]  # only the nonce differs
    url = f"{live_resource.url}/data"
    with httpx.Client() as http:
        assert http.post(url, content=BODY, headers=one).status_code == 201
        assert http.post(url, content=BODY, headers=two).status_code == 201
        replay = http.post(url, content=BODY, headers=one)
        assert replay.status_code == 401
        assert replay.json()["error"] == "invalid_signature"
        assert replay.headers["signature-error"] == "error=invalid_signature"
        assert count(http, live_resource, signer, token) == 2


def test_without_a_distinct_nonce_the_second_is_a_replay(live_resource: LiveResource) -> None:
    """The rule: one key, one signature base, one acceptance. Same nonce, same request."""
    one, two, signer, token = same_second_post(live_resource, "Ed25519", nonce="fixed")
    url = f"{live_resource.url}/data"
    with httpx.Client() as http:
        assert http.post(url, content=BODY, headers=one).status_code == 201
        second = http.post(url, content=BODY, headers=two)
        assert second.status_code == 401
        assert second.json()["error"] == "invalid_signature"
        assert count(http, live_resource, signer, token) == 1


def test_the_agent_signer_keeps_back_to_back_posts_apart(live_resource: LiveResource) -> None:
    signer, token = live_resource.agent("Ed25519")
    url = f"{live_resource.url}/data"
    with httpx.Client() as http:
        for _ in range(3):
            headers = {**JSON, **signer.sign("POST", url, JSON, BODY, token=token)}
            assert parse_signature_input(headers["Signature-Input"])["sig"][0].nonce
            assert http.post(url, content=BODY, headers=headers).status_code == 201
        assert count(http, live_resource, signer, token) == 3


def test_two_identical_token_requests_both_get_a_token(live_person_server: World) -> None:
    world = live_person_server
    agent = es256_agent(world)
    url = f"{world.ps}/token"
    body = token_body(world.resource_token(agent))
    first_headers = agent.headers("POST", url, body)
    with httpx.Client() as http:
        first = http.post(url, content=body, headers=first_headers)
        second = http.post(url, content=body, headers=agent.headers("POST", url, body))
        replay = http.post(url, content=body, headers=first_headers)
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["auth_token"] != second.json()["auth_token"]
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_signature"
