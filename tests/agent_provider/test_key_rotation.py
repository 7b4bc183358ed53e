"""Agent provider key rotation (AP-07): retired keys stay published until their tokens expire,
and verifiers that discover the provider over HTTP follow a rotation (refresh on unknown kid)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aauth_signing import UnknownKey

from aauth import jwt
from aauth.agent.enrollment import request_agent_token
from aauth.agent_provider import AgentProvider, EnrolledAgent
from aauth.discovery import Discovery
from aauth.egress import EgressPolicy
from aauth.keys import KeySet, generate_key, thumbprint
from aauth.server.agent_provider import AgentProviderConfig, create_agent_provider
from aauth.server.running import RunningServer
from aauth.tokens import TokenVerifier

from .conftest import AP, PS

LIFETIME = 600


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def provider(clock: Clock, key_file: Path | None = None, **options: Any) -> AgentProvider:
    agents = [EnrolledAgent("planner", thumbprint(generate_key()), PS)]
    keys = KeySet.generate()
    return AgentProvider(
        AP, keys, agents, token_lifetime=LIFETIME, key_file=key_file, clock=clock, **options
    )


def kids(ap: AgentProvider) -> set[str]:
    return {key["kid"] for key in ap.jwks()["keys"]}


def test_ap07_retired_key_stays_published_until_its_tokens_expire(tmp_path: Path) -> None:
    clock = Clock()
    ap = provider(clock, tmp_path / "keys.json")
    old = ap.keys.current_kid
    new = ap.rotate()
    assert ap.keys.current_kid == new
    assert kids(ap) == {old, new}
    clock.now += LIFETIME + 60 - 1  # a token signed just before rotation may still be valid
    assert kids(ap) == {old, new}
    clock.now += 1
    assert kids(ap) == {new}
    saved = json.loads((tmp_path / "keys.json").read_text())
    assert saved["current"] == new
    assert [key["kid"] for key in saved["keys"]] == [new]


def test_scheduled_rotation(tmp_path: Path) -> None:
    clock = Clock()
    ap = provider(clock, tmp_path / "keys.json", rotation_interval=100)
    first = ap.keys.current_kid
    clock.now += 99
    assert kids(ap) == {first}
    clock.now += 1
    assert kids(ap) == {first, ap.keys.current_kid}  # serving the JWKS ran the schedule
    assert ap.keys.current_kid != first
    restarted = KeySet.load(tmp_path / "keys.json")  # a restart publishes both keys
    assert set(restarted.kids) == kids(ap)
    assert restarted.current_kid == ap.keys.current_kid


def test_keys_loaded_at_start_count_as_just_retired() -> None:
    keys = KeySet.generate()
    old = keys.current_kid
    keys.rotate()
    clock = Clock()
    ap = AgentProvider(AP, keys, [], token_lifetime=LIFETIME, clock=clock)
    assert old in kids(ap)
    clock.now += LIFETIME + 60
    assert old not in kids(ap)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, AgentProvider, Any]]:
    enrolled = generate_key()
    apps: list[Any] = []

    def build(url: str) -> Any:
        config = AgentProviderConfig.load(
            {
                "identifier": url,
                "allow_loopback_http": True,
                "key_file": str(tmp_path / "ap-keys.json"),
                "agents": {"planner": {"enrollment_jkt": thumbprint(enrolled)}},
            }
        )
        apps.append(create_agent_provider(config))
        return apps[-1]

    with RunningServer.with_own_url(build) as server:
        yield server.url, apps[0].state.agent_provider, enrolled


def test_rotation_is_followed_by_discovery_over_http(
    served: tuple[str, AgentProvider, Any],
) -> None:
    url, ap, enrolled = served
    instance = generate_key()
    clock = Clock()
    discovery = Discovery(EgressPolicy(allow_loopback_http=True), clock=clock)

    def verify(token: str) -> str:
        fresh = TokenVerifier(discovery, allow_loopback_http=True)  # no token cache carried over
        return fresh.verify_agent_token(token, expected_jkt=thumbprint(instance)).sub

    with httpx.Client() as client, discovery:

        def enrol() -> str:
            return request_agent_token(url, enrolled, instance, client, allow_loopback_http=True)

        before = enrol()
        old = ap.keys.current_kid
        assert jwt.peek(before)[0]["kid"] == old
        assert verify(before)

        new = ap.rotate()
        after = enrol()
        assert jwt.peek(after)[0]["kid"] == new
        with pytest.raises(UnknownKey):
            verify(after)  # V-23: no refetch within a minute of the last one
        clock.now += 61
        assert verify(after)  # unknown kid → one refresh → found
        assert verify(before)  # the retired key is still published

        ap.keys.remove(old)
        clock.now += 61
        with pytest.raises(UnknownKey):
            verify(before)  # gone once removed (and the JWKS refreshed)
