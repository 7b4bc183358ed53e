"""Resource tokens: issuance (RS-03 … RS-08), PS/AS verification (PS-03 … PS-05, AS-03) and
the agent's challenge check (AG-12)."""

from __future__ import annotations

from typing import Any

import pytest
from aauth_signing import SigningKey

from aauth import jwt
from aauth.errors import InvalidRequest, InvalidScope, InvalidToken, TokenExpired
from aauth.headers import MissionRef
from aauth.keys import thumbprint
from aauth.tokens import (
    RESOURCE_TOKEN,
    Interaction,
    check_resource_challenge,
    decode_unverified,
    issue_resource_token,
)

RESOURCE = "https://docs.example"
PS = "https://ps.example"
AS = "https://as.example"
AGENT = "aauth:bot@ap.example"
TYP = "aa-resource+jwt"
S256 = "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"
MISSION = MissionRef(PS, S256)


def issue(world: Any, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "iss": RESOURCE,
        "aud": PS,
        "agent": AGENT,
        "agent_jkt": world.agent_jkt,
        "scope": "docs.read docs.write",
        "now": world.clock.now,
    }
    args.update(overrides)
    return issue_resource_token(world.resource, **args)


def good_claims(world: Any) -> dict[str, Any]:
    now = int(world.clock.now)
    return {
        "iss": RESOURCE,
        "dwk": "aauth-resource.json",
        "aud": PS,
        "jti": "r-1",
        "agent": AGENT,
        "agent_jkt": world.agent_jkt,
        "scope": "docs.read",
        "iat": now,
        "exp": now + 300,
    }


def verify(world: Any, token: str, **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "audience": PS,
        "agent": AGENT,
        "agent_jkt": world.agent_jkt,
        "approver": PS,
    }
    args.update(overrides)
    return world.verifier().verify_resource_token(token, **args)


# -- issuance -----------------------------------------------------------------------------------


def test_rs03_rs04_issued_token_has_the_required_header_and_claims(world: Any) -> None:
    header, claims = jwt.peek(issue(world, account="acme"))
    assert header == {"alg": "Ed25519", "typ": TYP, "kid": world.resource.current_kid}
    assert claims["iss"] == RESOURCE
    assert claims["dwk"] == "aauth-resource.json"
    assert claims["aud"] == PS
    assert claims["agent"] == AGENT
    assert claims["agent_jkt"] == world.agent_jkt
    assert claims["scope"] == "docs.read docs.write"
    assert claims["account"] == "acme"
    assert claims["jti"]
    assert claims["exp"] - claims["iat"] == 300
    assert "mission" not in claims
    assert "interaction" not in claims


def test_rs06_agent_jkt_is_the_signing_key_thumbprint(world: Any) -> None:
    claims = jwt.peek(issue(world))[1]
    assert claims["agent_jkt"] == thumbprint(world.agent_key.public_key())
    with pytest.raises(ValueError, match="agent_jkt"):
        issue(world, agent_jkt="abc")


def test_lifetime_is_at_most_five_minutes(world: Any) -> None:
    assert jwt.peek(issue(world, lifetime=60))[1]["exp"] == int(world.clock.now) + 60
    with pytest.raises(ValueError, match="lifetime"):
        issue(world, lifetime=301)


def test_rs07_scope_must_be_offered(world: Any) -> None:
    allowed = {"docs.read", "docs.write", "openid"}
    token = issue(world, scope=("docs.read", "openid"), allowed_scopes=allowed)
    assert jwt.peek(token)[1]["scope"] == "docs.read openid"
    with pytest.raises(InvalidScope, match="admin"):
        issue(world, scope="docs.read admin", allowed_scopes=allowed)


@pytest.mark.parametrize("scope", ["", " ", "a  b", "a\tb", 'quo"te', ()])
def test_rs04_scope_must_be_well_formed(world: Any, scope: Any) -> None:
    with pytest.raises(InvalidScope):
        issue(world, scope=scope)


def test_rs05_aud_and_iss_must_be_server_identifiers(world: Any) -> None:
    with pytest.raises(ValueError, match="aud"):
        issue(world, aud="ps.example")
    with pytest.raises(ValueError, match="iss"):
        issue(world, iss="https://docs.example/api")
    with pytest.raises(InvalidRequest):
        issue(world, agent="bot")


def test_rs08_mission_and_interaction_are_copied_unchanged(world: Any) -> None:
    interaction = Interaction("https://docs.example/interact", "ABCD-EFGH")
    claims = jwt.peek(issue(world, mission=MISSION, interaction=interaction))[1]
    assert claims["mission"] == {"approver": PS, "s256": S256}
    assert claims["interaction"] == {"url": "https://docs.example/interact", "code": "ABCD-EFGH"}
    with pytest.raises(ValueError, match="interaction"):
        issue(world, interaction=Interaction("https://docs.example/i?x=1", "C"))


# -- verification at the PS / AS ----------------------------------------------------------------


def test_ps03_a_good_token_verifies(world: Any) -> None:
    interaction = Interaction("https://docs.example/interact", "ABCD")
    token = issue(world, mission=MISSION, interaction=interaction, account="acme")
    claims = verify(world, token)
    assert claims.iss == RESOURCE
    assert claims.aud == PS
    assert claims.agent == AGENT
    assert claims.scope == ("docs.read", "docs.write")
    assert claims.account == "acme"
    assert claims.mission == MISSION
    assert claims.interaction == interaction
    assert world.keys.calls == [(RESOURCE, "aauth-resource.json", world.resource.current_kid)]


def test_as03_a_four_party_token_verifies_at_the_as(world: Any) -> None:
    token = issue(world, aud=AS, mission=MISSION)
    assert verify(world, token, audience=AS, approver=PS).aud == AS


def test_ps03_aud_must_be_the_recipient(world: Any) -> None:
    with pytest.raises(InvalidToken, match="aud"):
        verify(world, issue(world), audience=AS)


@pytest.mark.parametrize("agent", ["aauth:other@ap.example", "aauth:bot@AP.example", "aauth:Bot"])
def test_ps03_v29_agent_must_be_the_requester_exactly(world: Any, agent: str) -> None:
    with pytest.raises(InvalidToken, match="agent"):
        verify(world, issue(world), agent=agent)


def test_ps03_agent_jkt_must_be_the_signing_key(world: Any) -> None:
    with pytest.raises(InvalidToken, match="agent_jkt"):
        verify(world, issue(world), agent_jkt=thumbprint(SigningKey.generate("Ed25519")))


def test_ps05_mission_approver_must_be_this_ps(world: Any) -> None:
    token = issue(world, mission=MISSION)
    with pytest.raises(InvalidToken, match="approver"):
        verify(world, token, approver="https://other-ps.example")
    with pytest.raises(InvalidToken, match="approver"):
        verify(world, token, approver=None)
    assert verify(world, issue(world), approver=None).mission is None


def test_ps04_expired_token_is_token_expired(world: Any) -> None:
    token = issue(world)
    world.clock.now += 300 + 61
    with pytest.raises(TokenExpired) as info:
        verify(world, token)
    assert info.value.expired


def test_ps03_typ_and_dwk_are_checked_before_any_key_lookup(world: Any) -> None:
    with pytest.raises(InvalidToken, match="typ"):
        verify(world, world.forge(world.resource, "aa-auth+jwt", good_claims(world)))
    with pytest.raises(InvalidToken, match="dwk"):
        verify(world, world.forge(world.resource, TYP, {**good_claims(world), "dwk": None}))
    assert world.keys.calls == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"aud": None}, "aud"),
        ({"aud": ["https://ps.example"]}, "aud"),
        ({"jti": None}, "jti"),
        ({"agent": None}, "agent"),
        ({"agent": "bot@ap.example"}, "agent"),
        ({"agent_jkt": None}, "agent_jkt"),
        ({"agent_jkt": "c2hvcnQ"}, "agent_jkt"),
        ({"scope": None}, "scope"),
        ({"scope": ""}, "scope"),
        ({"scope": ["docs.read"]}, "scope"),
        ({"exp": None}, "exp"),
        ({"iat": None}, "iat"),
        ({"account": 5}, "account"),
        ({"mission": "x"}, "mission"),
        ({"mission": {"approver": "ps.example", "s256": S256}}, "approver"),
        ({"mission": {"approver": PS}}, "s256"),
        ({"mission": {"approver": PS, "s256": "short"}}, "s256"),
        ({"interaction": {"url": "http://docs.example/i", "code": "C"}}, "interaction"),
        ({"interaction": {"url": "https://docs.example/i"}}, "code"),
        ({"interaction": []}, "interaction"),
    ],
)
def test_rs04_claim_checks(world: Any, change: dict[str, Any], match: str) -> None:
    claims = {**good_claims(world), **change}
    with pytest.raises(InvalidToken, match=match):
        verify(world, world.forge(world.resource, TYP, claims))


# -- the agent's challenge check (AG-12) --------------------------------------------------------


def read(world: Any, token: str) -> Any:
    return decode_unverified(RESOURCE_TOKEN, token, now=world.clock.now)


def test_ag12_challenge_token_for_me_passes(world: Any) -> None:
    claims = read(world, issue(world))
    check_resource_challenge(claims, resource=RESOURCE, agent=AGENT, agent_jkt=world.agent_jkt)
    assert world.keys.calls == []


def test_ag12_challenge_can_also_be_signature_checked(world: Any) -> None:
    claims = world.verifier().verify(RESOURCE_TOKEN, issue(world))
    check_resource_challenge(claims, resource=RESOURCE, agent=AGENT, agent_jkt=world.agent_jkt)
    impostor = world.forge(world.ps, TYP, good_claims(world), kid=world.resource.current_kid)
    with pytest.raises(InvalidToken, match="signature"):
        world.verifier().verify(RESOURCE_TOKEN, impostor)


@pytest.mark.parametrize(
    ("expected", "match"),
    [
        ({"resource": "https://other.example"}, "iss"),
        ({"agent": "aauth:other@ap.example"}, "agent"),
        ({"agent_jkt": "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"}, "agent_jkt"),
    ],
)
def test_ag12_challenge_for_someone_else_is_refused(
    world: Any, expected: dict[str, str], match: str
) -> None:
    args = {"resource": RESOURCE, "agent": AGENT, "agent_jkt": world.agent_jkt, **expected}
    with pytest.raises(InvalidToken, match=match):
        check_resource_challenge(read(world, issue(world)), **args)


def test_ag12_ag16_expired_challenge_token_is_token_expired(world: Any) -> None:
    token = issue(world)
    world.clock.now += 400
    with pytest.raises(TokenExpired):
        read(world, token)


def test_ag12_unverified_decode_still_checks_typ_and_dwk(world: Any) -> None:
    with pytest.raises(InvalidToken, match="typ"):
        read(world, world.forge(world.resource, "aa-agent+jwt", good_claims(world)))
    with pytest.raises(InvalidToken, match="dwk"):
        read(world, world.forge(world.resource, TYP, {**good_claims(world), "dwk": "x"}))
