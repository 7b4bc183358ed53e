"""The claims builders remember what every token of an agent repeats (its identifiers, its
``cnf.jwk``); a remembered result must never admit a token that differs in anything that
decides it (V-26, V-27)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aauth_signing import jwk_from_public_key

from aauth.errors import InvalidToken
from aauth.keys import generate_key
from aauth.tokens import AgentTokenClaims, AuthTokenClaims, ResourceTokenClaims

AP = "https://ap.example"
PS = "https://ps.example"
AGENT = "aauth:bot@ap.example"
NOW = 1_767_225_600


def agent_claims(**change: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": AP,
        "dwk": "aauth-agent.json",
        "sub": AGENT,
        "jti": "j-1",
        "cnf": {"jwk": jwk_from_public_key(generate_key().public_key())},
        "ps": PS,
        "iat": NOW,
        "exp": NOW + 3600,
    }
    claims.update(change)
    return {name: value for name, value in claims.items() if value is not None}


def test_every_claims_object_carries_every_field() -> None:
    """The builders fill the frozen dataclasses directly; a copy through ``__init__`` is equal."""
    jwk = jwk_from_public_key(generate_key().public_key())
    built = [
        AgentTokenClaims.from_claims(agent_claims(parent_agent="aauth:lead@ap.example")),
        ResourceTokenClaims.from_claims(
            {
                "iss": "https://docs.example",
                "aud": PS,
                "jti": "r-1",
                "agent": AGENT,
                "agent_jkt": "A" * 43,
                "iat": NOW,
                "exp": NOW + 300,
                "scope": "docs.read",
            }
        ),
        AuthTokenClaims.from_claims(
            {
                "iss": PS,
                "dwk": "aauth-person.json",
                "aud": "https://docs.example",
                "jti": "a-1",
                "agent": AGENT,
                "cnf": {"jwk": jwk},
                "scope": "docs.read",
                "iat": NOW,
                "exp": NOW + 300,
            }
        ),
    ]
    for claims in built:
        names = {field.name for field in dataclasses.fields(claims)}
        assert set(vars(claims)) == names
        assert dataclasses.replace(claims) == claims
        with pytest.raises(dataclasses.FrozenInstanceError):
            claims.iss = "https://evil.example"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"ps": "http://ps.example"}, "'ps'"),
        ({"ps": ["https://ps.example"]}, "'ps'"),
        ({"parent_agent": "bot@ap.example"}, "'parent_agent'"),
        ({"sub": "aauth:bot@evil.example"}, "not an agent of"),
        ({"iss": "https://AP.example"}, "'iss'"),
        ({"sub": "https://ap.example"}, "'sub'"),
    ],
)
def test_v26_a_remembered_identity_admits_no_changed_identifier(
    change: dict[str, Any], match: str
) -> None:
    AgentTokenClaims.from_claims(agent_claims())  # remembered
    with pytest.raises(InvalidToken, match=match):
        AgentTokenClaims.from_claims(agent_claims(**change))


def test_v26_remembered_identities_keep_their_switches_apart() -> None:
    """Loopback issuers and URL-form agents are admitted only by the switch that admits them,
    even after the same identity passed with the switch on."""
    dev = agent_claims(iss="http://localhost:8001", sub="aauth:bot@localhost:8001", ps=None)
    AgentTokenClaims.from_claims(dev, allow_loopback_http=True)
    with pytest.raises(InvalidToken, match="'iss'"):
        AgentTokenClaims.from_claims(dev)
    legacy = agent_claims(sub=AP)
    AgentTokenClaims.from_claims(legacy, allow_legacy=True)
    with pytest.raises(InvalidToken, match="'sub'"):
        AgentTokenClaims.from_claims(legacy)


@pytest.mark.parametrize(
    "change",
    [{"d": "private"}, {"alg": "ES256"}, {"crv": "X25519"}, {"kty": "EC"}, {"x": None}],
)
def test_v27_a_remembered_cnf_jwk_admits_no_changed_key(change: dict[str, Any]) -> None:
    claims = agent_claims()
    AgentTokenClaims.from_claims(claims)  # remembered
    jwk = {**claims["cnf"]["jwk"], **change}
    changed = agent_claims(cnf={"jwk": {k: v for k, v in jwk.items() if v is not None}})
    with pytest.raises(InvalidToken, match=r"cnf\.jwk"):
        AgentTokenClaims.from_claims(changed)


def test_v27_a_remembered_cnf_jwk_is_never_another_keys() -> None:
    claims = agent_claims()
    first = AgentTokenClaims.from_claims(claims)
    other = jwk_from_public_key(generate_key().public_key())
    second = AgentTokenClaims.from_claims(
        agent_claims(cnf={"jwk": {**claims["cnf"]["jwk"], "x": other["x"]}})
    )
    assert second.jkt != first.jkt
    assert second.cnf_key.key.public_bytes_raw() != first.cnf_key.key.public_bytes_raw()


def test_v27_a_remembered_alg_less_cnf_jwk_still_needs_the_legacy_switch() -> None:
    jwk = agent_claims()["cnf"]["jwk"]
    no_alg = agent_claims(cnf={"jwk": {k: v for k, v in jwk.items() if k != "alg"}})
    AgentTokenClaims.from_claims(no_alg, allow_legacy=True)
    with pytest.raises(InvalidToken, match="usable"):
        AgentTokenClaims.from_claims(no_alg)


def test_v27_cnf_jwk_with_structured_members_is_still_decoded() -> None:
    """A member value that cannot be a memo key (a list) takes the uncached path."""
    claims = agent_claims()
    jwk = {**claims["cnf"]["jwk"], "key_ops": ["verify"]}
    verified = AgentTokenClaims.from_claims(agent_claims(cnf={"jwk": jwk}))
    assert verified.cnf_jwk["key_ops"] == ["verify"]
