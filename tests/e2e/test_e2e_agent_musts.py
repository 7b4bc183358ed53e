"""K.1 agent MUSTs read off the wire: every request the agent sends in a phase-3 flow against
real servers (resource, person server, agent provider on loopback), checked header by header.
"""

from __future__ import annotations

import time

import httpx
from aauth_signing import SignatureKeyHeader, parse_signature_input

from aauth.demo.world import World
from aauth.tokens import decode_unverified
from aauth.tokens.verifier import AGENT_TOKEN

from .conftest import blocking_agent, recorder

BASE = ("@method", "@authority", "@path", "signature-key")


def signed_requests(world: World) -> list[httpx.Request]:
    """The requests the agent signed (metadata and JWKS reads are plain GETs)."""
    return [r.request for r in recorder(world).responses if "signature-input" in r.request.headers]


def test_ag01_to_ag09_ag15_every_agent_request_is_signed_the_aauth_way(autonomous: World) -> None:
    world = autonomous
    data, ps = f"{world.resource}/data", world.person_server
    started = int(time.time())
    with blocking_agent(world, None) as agent:
        assert agent.request("GET", data).status_code == 200
        assert agent.request("GET", data + "?page=2").status_code == 200
        auth_token = agent.auth.cache.get(world.resource)
        agent_token = agent.auth.signer.agent_token
    requests = signed_requests(world)
    assert {str(r.url).split("?")[0] for r in requests} == {data, f"{ps}/token"}
    for request in requests:
        header = SignatureKeyHeader.parse(request.headers["signature-key"])
        member = header.member("sig")
        assert member.scheme == "jwt"  # AG-01, AG-02: never hwk or jwks_uri
        ((_, (params, _)),) = parse_signature_input(request.headers["signature-input"]).items()
        covered = [c.name for c in params.components]
        assert set(BASE) <= set(covered)  # AG-03
        if request.url.query:
            assert "@query" in covered  # AG-05 (published: @query when there is a query)
        if request.content:
            assert "content-digest" in covered
        created = params.get("created")
        assert isinstance(created, int)  # AG-06: an Integer, the current time
        assert started - 1 <= created <= int(time.time()) + 1
        assert params.get("alg") is None  # AG-07
        assert params.get("keyid") is None  # AG-08: not sent, so it cannot name another key
        presented = member.jwt  # type: ignore[attr-defined]
        if str(request.url).startswith(ps):
            # AG-15: a signed POST to the token endpoint presenting the agent token, with the
            # resource token in the body.
            assert request.method == "POST"
            assert presented == agent_token
            assert b'"resource_token":' in request.content
        else:
            assert presented in (agent_token, auth_token)
    claims = decode_unverified(AGENT_TOKEN, agent_token or "", allow_loopback_http=True)
    assert claims.cnf_jwk["alg"] == "Ed25519"  # AG-09: fully specified, never EdDSA
    assert claims.cnf_jwk["kty"] == "OKP"
