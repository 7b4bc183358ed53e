"""AS-08 in process: a call-chained request a person server brings to the access server, with
the caller's auth token as ``upstream_token`` (§D.4). The intermediary here is the agent of
the endpoint tests' world; its upstream token is one the PS issued for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from aauth.keys import KeySet, generate_key, thumbprint
from aauth.tokens import Actor, decode_unverified, issue_auth_token
from aauth.tokens.verifier import AUTH_TOKEN
from aauth.tokens.wire import PERSON_DWK

from .test_as_endpoints import (
    AGENT,
    AP,
    AS,
    OTHER_PS,
    PS,
    SUBAGENT,
    World,
    as_ps,
    call,
    problem,
    run,
)

ORIGINAL = "aauth:assistant@agents.example"
"""The agent that called the intermediary (``AGENT``) with the upstream token."""


@pytest.fixture
def chain_world() -> Iterator[World]:
    world = World()
    yield world
    world.store.close()


def upstream(world: World, keys: KeySet | None = None, **changes: Any) -> str:
    values: dict[str, Any] = {
        "iss": PS,
        "dwk": PERSON_DWK,
        "aud": AP,  # the intermediary: the iss of its agent token
        "agent": ORIGINAL,
        "cnf_jwk": KeySet.generate().current.public_key(),
        "agent_exp": time.time() + 3600,
        "resource_scope": "data.read",
        "sub": "upstream-directed-sub",
    }
    values.update(changes)
    return issue_auth_token(keys or world.ps_keys, **values)


def test_as08_a_chained_request_names_the_chain_and_never_copies_sub(chain_world: World) -> None:
    world = chain_world
    body = world.body(upstream_token=upstream(world))
    granted = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    assert granted.status_code == 200, granted.text
    claims = decode_unverified(AUTH_TOKEN, granted.json()["auth_token"])
    assert (claims.iss, claims.agent) == (AS, AGENT)  # the intermediary is the agent
    assert claims.act == Actor(ORIGINAL)  # … for the agent that called it (§D.4)
    assert claims.sub != "upstream-directed-sub"


def test_as08_an_upstream_chain_is_nested(chain_world: World) -> None:
    world = chain_world
    token = upstream(world, act=Actor("aauth:first@agents.example"))
    body = world.body(upstream_token=token)
    granted = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    claims = decode_unverified(AUTH_TOKEN, granted.json()["auth_token"])
    assert claims.act == Actor(ORIGINAL, Actor("aauth:first@agents.example"))


def test_as08_a_chain_deeper_than_allowed_is_forbidden(chain_world: World) -> None:
    world = chain_world
    token = upstream(world, act=Actor("aauth:first@agents.example"))
    body = world.body(upstream_token=token)
    response = run(call(world.app(max_chain_depth=1), "POST", "/token", body, signer=as_ps(world)))
    assert "at most 1" in problem(response, 403, "forbidden")["detail"]


def test_as08_the_intermediary_twice_in_the_chain_is_forbidden(chain_world: World) -> None:
    world = chain_world
    body = world.body(upstream_token=upstream(world, act=Actor(AGENT)))
    response = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    assert "already appears" in problem(response, 403, "forbidden")["detail"]


def test_as08_an_upstream_token_for_another_audience_is_refused(chain_world: World) -> None:
    world = chain_world
    body = world.body(upstream_token=upstream(world, aud="https://elsewhere.example"))
    response = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    assert "intermediary" in problem(response, 400, "invalid_request")["detail"]


def test_as08_an_expired_or_forged_upstream_token_is_refused(chain_world: World) -> None:
    world = chain_world
    app = world.app()
    old = upstream(world, now=time.time() - 7200, lifetime=600)
    forged = upstream(world, keys=KeySet.generate())
    for token in (old, forged, "eyJ.e30.c2ln"):
        response = run(
            call(app, "POST", "/token", world.body(upstream_token=token), signer=as_ps(world))
        )
        assert "upstream token" in problem(response, 400, "invalid_request")["detail"]


def test_as08_only_the_calling_ps_or_this_as_may_be_extended(chain_world: World) -> None:
    """A token of an issuer the AS does not trust fails before any key of it is fetched; a
    token of this AS's (a trusted issuer) from another PS's grant is still acceptable."""
    world = chain_world
    stranger = upstream(world, iss="https://stranger.example")
    response = run(
        call(
            world.app(), "POST", "/token", world.body(upstream_token=stranger), signer=as_ps(world)
        )
    )
    assert "upstream token" in problem(response, 400, "invalid_request")["detail"]
    app = world.app(trusted_person_servers=[PS, OTHER_PS])
    other = upstream(world, iss=OTHER_PS)
    response = run(
        call(app, "POST", "/token", world.body(upstream_token=other), signer=as_ps(world))
    )
    assert "not by" in problem(response, 400, "invalid_request")["detail"]


def test_a_non_string_upstream_token_is_invalid_request(chain_world: World) -> None:
    world = chain_world
    body = world.body(upstream_token=["x"])
    response = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    assert "upstream_token" in problem(response, 400, "invalid_request")["detail"]


def test_as08_as04_a_sub_agent_counts_its_parent_in_the_chain_depth(chain_world: World) -> None:
    """A sub-agent's token names its parent in ``act`` above the upstream chain, so the
    parent counts against ``max_chain_depth``: a chain that fits alone is one too deep with
    it, and no token is minted whose ``act`` is longer than the AS allows."""
    world = chain_world
    child_key = generate_key()
    child = world.agent_token(sub=SUBAGENT, cnf_jwk=child_key.public_key(), parent_agent=AGENT)
    token = world.resource_token(agent=SUBAGENT, agent_jkt=thumbprint(child_key.public_key()))
    body = world.body(resource_token=token, subagent_token=child, upstream_token=upstream(world))
    app = world.app(max_chain_depth=1)
    response = run(call(app, "POST", "/token", body, signer=as_ps(world)))
    assert "at most 1" in problem(response, 403, "forbidden")["detail"]
    granted = run(call(world.app(max_chain_depth=2), "POST", "/token", body, signer=as_ps(world)))
    assert granted.status_code == 200, granted.text
    claims = decode_unverified(AUTH_TOKEN, granted.json()["auth_token"])
    assert claims.act is not None
    assert claims.act.chain == (AGENT, ORIGINAL)
