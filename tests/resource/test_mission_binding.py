"""A grant is bound to its mission at the resource: an auth token issued under mission A,
presented on a request that declares mission B in a signed ``AAuth-Mission``, grants nothing
there, even on a route that checks scopes itself (``require_scopes``) instead of requiring an
auth token in its policy (RS-08, §E.2)."""

from __future__ import annotations

import pytest

from aauth.headers import MissionRef, build_mission

from .conftest import PS, Resource

A = MissionRef(PS, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
B = MissionRef("https://other-ps.example", "_RALkiy8GSiBPx7QuQMmAEoDKq8rBgYBWTJQCc6E5xQ")


@pytest.mark.parametrize("held", [A, None])
def test_rs08_a_token_of_another_mission_grants_nothing_under_this_one(
    world: Resource, held: MissionRef | None
) -> None:
    verifier = world.verifier(required_scopes=())
    token = world.auth_token(mission=held)
    request = world.request(token=token, headers={"AAuth-Mission": build_mission(B)})
    caller = verifier.verify(request)
    assert caller.mission == B
    assert caller.auth_token is None
    assert caller.scopes == frozenset()
    assert caller.agent_id == "aauth:bot@ap.example"  # who signed is still known


def test_rs08_a_token_of_the_declared_mission_keeps_its_grant(world: Resource) -> None:
    verifier = world.verifier(required_scopes=())
    token = world.auth_token(mission=A)
    request = world.request(token=token, headers={"AAuth-Mission": build_mission(A)})
    caller = verifier.verify(request)
    assert (caller.mission, caller.scopes) == (A, frozenset({"docs.read"}))
    undeclared = verifier.verify(world.request(token=token))  # the token's own mission
    assert (undeclared.mission, undeclared.scopes) == (A, frozenset({"docs.read"}))
