"""The 0.3 API's network functions against the real participants on 127.0.0.1 (one world
per module): metadata and JWKS fetchers, and an agent getting an auth token with
``extract_resource_token`` and ``exchange_resource_token``."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import httpx
import pytest

import aauth
from aauth.compat import keys
from aauth.demo.consent import person_server_factory
from aauth.demo.printer import Printer
from aauth.demo.world import World, running_world
from aauth.egress import EgressPolicy


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        # Development setting: these participants listen on plain http on loopback.
        patch.setattr(keys, "EGRESS", EgressPolicy(allow_loopback_http=True))
        factory = person_server_factory(auto_approve_scopes=["data.read"])
        with running_world(Printer(io.StringIO()), person_server=factory) as live:
            yield live


def test_fetch_metadata_and_fetch_auth_metadata(world: World) -> None:
    url = f"{world.resource}/.well-known/aauth-resource.json"
    assert aauth.fetch_metadata(url)["issuer"] == world.resource
    assert asyncio.run(aauth.fetch_auth_metadata(url))["issuer"] == world.resource
    with pytest.raises(aauth.MetadataError) as missing:
        aauth.fetch_metadata(f"{world.resource}/.well-known/nothing-here.json")
    assert missing.value.metadata_url.endswith("nothing-here.json")


def test_fetch_mm_metadata(world: World) -> None:
    document = aauth.fetch_mm_metadata(world.person_server)
    assert document["issuer"] == world.person_server
    assert asyncio.run(aauth.fetch_mm_metadata_async(world.person_server)) == document
    with pytest.raises(aauth.MetadataError):
        aauth.fetch_mm_metadata(world.resource)  # no aauth-person.json there


def test_jwks_fetcher_default_http_client_and_cache(world: World) -> None:
    fetcher = aauth.JWKSFetcher(cache=aauth.JWKSCache(ttl=60))
    jwks = asyncio.run(fetcher.fetch(world.agent_provider))
    kid = jwks["keys"][0]["kid"]
    assert fetcher.get_key_by_kid(jwks, kid) == jwks["keys"][0]
    assert fetcher.get_key_by_kid(jwks, "no-such-kid") is None
    assert asyncio.run(fetcher.fetch(world.agent_provider, kid)) == jwks  # from the cache
    document = asyncio.run(
        aauth.DefaultHTTPClient().fetch_json(f"{world.agent_provider}/.well-known/aauth-agent.json")
    )
    assert document["issuer"] == world.agent_provider
    with pytest.raises(aauth.JWKSError):  # the resource publishes no aauth-agent.json
        asyncio.run(aauth.JWKSFetcher().fetch(world.resource))


def test_an_agent_gets_an_auth_token_through_the_0_3_api(world: World) -> None:
    signer = world.signer
    url = f"{world.resource}/data"
    private_key = signer.key
    agent_token = signer.agent_token
    assert agent_token is not None
    with httpx.Client() as client:
        headers = aauth.sign_request("GET", url, {}, None, private_key, "jwt", jwt=agent_token)
        challenged = client.get(url, headers=headers)
        assert challenged.status_code == 401
        resource_token = aauth.extract_resource_token(challenged.headers)
        assert resource_token is not None
        auth_token = asyncio.run(
            aauth.exchange_resource_token(resource_token, private_key, agent_token)
        )
        headers = aauth.sign_request("GET", url, {}, None, private_key, "jwt", jwt=auth_token)
        granted = client.get(url, headers=headers)
    assert granted.status_code == 200
    assert aauth.parse_token_claims(auth_token)["payload"]["scope"] == "data.read"


def test_egress_refuses_loopback_by_default(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "EGRESS", EgressPolicy())
    url = f"{world.resource}/.well-known/aauth-resource.json"
    with pytest.raises(aauth.MetadataError, match=r"(?i)egress|loopback|not admitted|https"):
        aauth.fetch_metadata(url)
