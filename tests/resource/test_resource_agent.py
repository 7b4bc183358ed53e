"""A resource's own agent identity (RS-19) and the small pieces chaining relies on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth.callbacks import check_callback, with_error
from aauth.errors import InvalidRequest
from aauth.identifiers import agent_provider_of
from aauth.keys import KeySet
from aauth.person.config import ConfigError, PersonServerConfig
from aauth.resource import DownstreamCall, ResourceAgent
from aauth.server.config import ResourceServerConfig
from aauth.tokens import AGENT_TOKEN, decode_unverified

RESOURCE = "https://docs.example"
PS = "https://ps.example"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_rs19_the_resource_vouches_for_its_own_agent() -> None:
    clock = Clock()
    agent = ResourceAgent(RESOURCE, KeySet.generate(), name="Docs", clock=clock)
    signer = agent.signer(PS)
    assert signer.agent_token is not None
    claims = decode_unverified(AGENT_TOKEN, signer.agent_token, now=clock.now)
    assert (claims.iss, claims.sub, claims.ps) == (RESOURCE, "aauth:resource@docs.example", PS)
    assert claims.jkt == signer.thumbprint
    metadata = agent.metadata().to_json()
    assert metadata["issuer"] == RESOURCE
    assert metadata["callback_endpoint"] == f"{RESOURCE}/interact/callback"
    assert metadata["name"] == "Docs"


def test_one_token_per_person_server_renewed_before_it_expires() -> None:
    clock = Clock()
    agent = ResourceAgent(RESOURCE, KeySet.generate(), lifetime=3600, margin=300, clock=clock)
    first = agent.signer(PS)
    assert agent.signer(PS) is first
    other = agent.signer("https://other-ps.example")
    assert other.agent_token != first.agent_token
    assert other.thumbprint == first.thumbprint  # one agent key
    clock.now += 3600 - 299
    renewed = agent.signer(PS)
    assert renewed.agent_token != first.agent_token


def test_resource_agent_margin_must_fit_the_lifetime() -> None:
    with pytest.raises(ValueError, match="margin"):
        ResourceAgent(RESOURCE, KeySet.generate(), lifetime=60, margin=60)


def test_downstream_calls_survive_the_store() -> None:
    call = DownstreamCall("POST", "https://mail.example/data", b'{"a": 1}')
    assert DownstreamCall.from_json(call.to_json()) == call
    assert call.resource == "https://mail.example"
    bare = DownstreamCall("GET", "https://mail.example/data")
    assert DownstreamCall.from_json(bare.to_json()) == bare


@pytest.mark.parametrize(
    ("agent", "loopback", "provider"),
    [
        ("aauth:bot@ap.example", False, "https://ap.example"),
        ("aauth:bot@127.0.0.1:8000", True, "http://127.0.0.1:8000"),
        ("aauth:bot@127.0.0.1:8000", False, "https://127.0.0.1:8000"),
    ],
)
def test_the_agent_provider_of_an_agent(agent: str, loopback: bool, provider: str) -> None:
    assert agent_provider_of(agent, allow_loopback_http=loopback) == provider


def test_callbacks_must_be_the_published_endpoint() -> None:
    endpoint = "https://ap.example/callback"
    assert check_callback(None, endpoint=endpoint, localhost_allowed=False) is None
    good = f"{endpoint}?flow=1"
    assert check_callback(good, endpoint=endpoint, localhost_allowed=False) == good
    for bad in ("https://evil.example/callback", "https://ap.example/other", "javascript:x"):
        with pytest.raises(InvalidRequest):
            check_callback(bad, endpoint=endpoint, localhost_allowed=False)
    assert with_error(good, "access_denied") == f"{good}&error=access_denied"
    assert with_error(endpoint, "server_error") == f"{endpoint}?error=server_error"
    assert with_error(None, "server_error") is None


def test_resource_configuration_checks_the_downstream_url() -> None:
    base = {"identifier": RESOURCE}
    config = ResourceServerConfig.load({**base, "downstream_url": "https://mail.example/data"})
    assert config.downstream_url == "https://mail.example/data"
    for bad in ("http://mail.example/data", "https://mail.example/data?x=1", "mail"):
        with pytest.raises(ValueError, match="downstream_url"):
            ResourceServerConfig.load({**base, "downstream_url": bad})
    with pytest.raises(ValueError, match="pending_lifetime"):
        ResourceServerConfig.load({**base, "pending_lifetime": 0})


@pytest.mark.parametrize("depth", [0, 17])
def test_person_server_chain_depth_is_bounded(depth: int) -> None:
    with pytest.raises(ConfigError, match="max_chain_depth"):
        PersonServerConfig(identifier=PS, max_chain_depth=depth)


@given(st.text(max_size=300))
def test_any_callback_text_is_taken_as_is_or_refused_cleanly(text: str) -> None:
    endpoint = "https://ap.example/callback"
    try:
        checked = check_callback(text, endpoint=endpoint, localhost_allowed=True)
    except InvalidRequest:
        return
    assert checked in (None, text)


@given(
    st.sampled_from(["GET", "POST", "DELETE"]),
    st.from_regex(r"https://[a-z]{1,10}\.example/[a-z/]{0,20}", fullmatch=True),
    st.one_of(st.none(), st.binary(min_size=1, max_size=200)),
)
def test_downstream_calls_round_trip(method: str, url: str, body: bytes | None) -> None:
    call = DownstreamCall(method, url, body)
    assert DownstreamCall.from_json(call.to_json()) == call
