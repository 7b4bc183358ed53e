"""Agent tokens: issuance rules at the AP (AP-02 … AP-06) and verification (V-26 … V-28)."""

from __future__ import annotations

from typing import Any

import pytest
from aauth_signing import SigningKey, UnknownKey, jwk_from_public_key

from aauth import jwt
from aauth.errors import InvalidRequest, InvalidToken, TokenExpired
from aauth.keys import KeySet, default_kid, private_jwk, thumbprint
from aauth.keysource import StaticKeySource
from aauth.tokens import TokenVerifier, issue_agent_token

AP = "https://ap.example"
PS = "https://ps.example"
AGENT = "aauth:bot@ap.example"
TYP = "aa-agent+jwt"


def issue(world: Any, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "iss": AP,
        "sub": AGENT,
        "cnf_jwk": world.agent_key.public_key(),
        "ps": PS,
        "now": world.clock.now,
    }
    args.update(overrides)
    return issue_agent_token(world.ap, **args)


def good_claims(world: Any) -> dict[str, Any]:
    now = int(world.clock.now)
    return {
        "iss": AP,
        "dwk": "aauth-agent.json",
        "sub": AGENT,
        "jti": "j-1",
        "cnf": {"jwk": jwk_from_public_key(world.agent_key.public_key())},
        "ps": PS,
        "iat": now,
        "exp": now + 3600,
    }


# -- issuance -----------------------------------------------------------------------------------


def test_ap02_ap03_issued_token_has_the_required_header_and_claims(world: Any) -> None:
    header, claims = jwt.peek(issue(world))
    assert header == {"alg": "Ed25519", "typ": TYP, "kid": world.ap.current_kid}
    assert claims["iss"] == AP
    assert claims["dwk"] == "aauth-agent.json"
    assert claims["sub"] == AGENT
    assert claims["ps"] == PS
    assert claims["cnf"]["jwk"]["alg"] == "Ed25519"
    assert claims["cnf"]["jwk"] == jwk_from_public_key(world.agent_key.public_key())
    assert claims["iat"] == int(world.clock.now)
    assert claims["exp"] == claims["iat"] + 3600
    assert "parent_agent" not in claims


def test_ap03_jti_is_random_per_token(world: Any) -> None:
    jtis = {jwt.peek(issue(world))[1]["jti"] for _ in range(20)}
    assert len(jtis) == 20
    assert all(len(jti) >= 22 for jti in jtis)


def test_lifetime_defaults_to_one_hour_and_is_capped_at_24_hours(world: Any) -> None:
    claims = jwt.peek(issue(world, lifetime=24 * 3600))[1]
    assert claims["exp"] - claims["iat"] == 24 * 3600
    for lifetime in (24 * 3600 + 1, 0, -5):
        with pytest.raises(ValueError, match="lifetime"):
            issue(world, lifetime=lifetime)


@pytest.mark.parametrize(
    "sub",
    ["bot@ap.example", "aauth:Bot@ap.example", "aauth:@ap.example", "aauth:bot@AP.example", ""],
)
def test_ap04_sub_must_be_an_agent_identifier(world: Any, sub: str) -> None:
    with pytest.raises(InvalidRequest):
        issue(world, sub=sub)


def test_ap04_sub_must_belong_to_the_issuing_ap(world: Any) -> None:
    with pytest.raises(InvalidRequest, match="not an agent of"):
        issue(world, sub="aauth:bot@other.example")


def test_ap05_top_level_agents_have_no_plus(world: Any) -> None:
    with pytest.raises(InvalidRequest, match=r"\+"):
        issue(world, sub="aauth:bot+x@ap.example")


def test_ap05_sub_agent_is_parent_plus_discriminator(world: Any) -> None:
    token = issue(world, sub="aauth:bot+search1@ap.example", parent_agent=AGENT)
    assert jwt.peek(token)[1]["parent_agent"] == AGENT
    for sub in ("aauth:bot+@ap.example", "aauth:other+x@ap.example", "aauth:botx@ap.example"):
        with pytest.raises(InvalidRequest, match="sub-agent"):
            issue(world, sub=sub, parent_agent=AGENT)


def test_ap06_parent_may_not_itself_be_a_sub_agent(world: Any) -> None:
    with pytest.raises(InvalidRequest, match="sub-agent"):
        issue(world, sub="aauth:bot+a+b@ap.example", parent_agent="aauth:bot+a@ap.example")


def test_issuer_and_ps_must_be_server_identifiers(world: Any) -> None:
    with pytest.raises(ValueError, match="iss"):
        issue(world, iss="https://ap.example/")
    with pytest.raises(InvalidRequest, match="ps"):
        issue(world, ps="http://ps.example")


def test_cnf_jwk_is_normalised_to_public_members_with_alg(world: Any) -> None:
    jwk = {**jwk_from_public_key(world.agent_key.public_key()), "kid": "x", "use": "sig"}
    claims = jwt.peek(issue(world, cnf_jwk=jwk))[1]
    assert claims["cnf"]["jwk"] == jwk_from_public_key(world.agent_key.public_key())


@pytest.mark.parametrize("change", ["private", "no-alg", "eddsa", "incomplete"])
def test_ap03_cnf_jwk_must_be_a_public_key_with_alg(world: Any, change: str) -> None:
    jwk: dict[str, Any] = dict(jwk_from_public_key(world.agent_key.public_key()))
    if change == "private":
        jwk = private_jwk(world.agent_key)
    elif change == "no-alg":
        del jwk["alg"]
    elif change == "eddsa":
        jwk["alg"] = "EdDSA"
    else:
        del jwk["x"]
    with pytest.raises(InvalidRequest, match="agent key"):
        issue(world, cnf_jwk=jwk)


def test_extra_claims_are_added_but_cannot_shadow_protocol_claims(world: Any) -> None:
    claims = jwt.peek(issue(world, extra_claims={"attestation": "tpm"}))[1]
    assert claims["attestation"] == "tpm"
    for name in ("sub", "jti", "exp", "cnf"):
        with pytest.raises(ValueError, match="replace"):
            issue(world, extra_claims={name: "x"})


def test_a_bare_signing_key_signs_with_its_thumbprint_kid(world: Any) -> None:
    key = SigningKey.generate("ES256")
    token = issue_agent_token(
        key, iss=AP, sub=AGENT, cnf_jwk=world.agent_key.public_key(), now=world.clock.now
    )
    assert jwt.peek(token)[0] == {"alg": "ES256", "typ": TYP, "kid": default_kid(key)}


def test_a_key_set_can_sign_with_a_chosen_kid(world: Any) -> None:
    old = world.ap.current_kid
    world.ap.rotate()
    assert jwt.peek(issue(world))[0]["kid"] == world.ap.current_kid
    assert jwt.peek(issue(world, kid=old))[0]["kid"] == old


# -- verification -------------------------------------------------------------------------------


def test_v26_v27_a_good_token_verifies_and_is_bound_to_the_request_key(world: Any) -> None:
    token = issue(world, sub="aauth:bot+s@ap.example", parent_agent=AGENT)
    claims = world.verifier().verify_agent_token(token, expected_jkt=world.agent_jkt)
    assert claims.iss == AP
    assert claims.sub == "aauth:bot+s@ap.example"
    assert claims.ps == PS
    assert claims.parent_agent == AGENT
    assert claims.jkt == world.agent_jkt
    assert claims.cnf_key.algorithm.jose == "Ed25519"
    assert world.keys.calls == [(AP, "aauth-agent.json", world.ap.current_kid)]


def test_v27_cnf_jwk_must_be_the_key_that_signed_the_request(world: Any) -> None:
    other = thumbprint(SigningKey.generate("Ed25519"))
    with pytest.raises(InvalidToken, match="signed the request"):
        world.verifier().verify_agent_token(issue(world), expected_jkt=other)


def test_expected_jkt_none_skips_the_binding(world: Any) -> None:
    claims = world.verifier().verify_agent_token(issue(world), expected_jkt=None)
    assert claims.sub == AGENT


def test_unknown_claims_are_ignored_but_kept(world: Any) -> None:
    token = world.forge(world.ap, TYP, {**good_claims(world), "aud_sub": "x", "zzz": [1]})
    claims = world.verifier().verify_agent_token(token, expected_jkt=world.agent_jkt)
    assert claims.raw["zzz"] == [1]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"dwk": None}, "dwk"),
        ({"dwk": "aauth-person.json"}, "dwk"),
        ({"iss": None}, "iss"),
        ({"iss": "http://ap.example"}, "iss"),
        ({"iss": "https://AP.example"}, "iss"),
        ({"iss": "https://ap.example:8443"}, "iss"),
    ],
)
def test_v26_keyless_checks_fail_before_any_key_lookup(
    world: Any, change: dict[str, Any], match: str
) -> None:
    token = world.forge(world.ap, TYP, {**good_claims(world), **change})
    with pytest.raises(InvalidToken, match=match):
        world.verifier().verify_agent_token(token, expected_jkt=None)
    assert world.keys.calls == []


@pytest.mark.parametrize("typ", ["aa-auth+jwt", "aa-resource+jwt", "JWT", "aa-person+jwt"])
def test_v26_typ_must_be_aa_agent_jwt(world: Any, typ: str) -> None:
    token = world.forge(world.ap, typ, good_claims(world))
    with pytest.raises(InvalidToken, match="typ"):
        world.verifier().verify_agent_token(token, expected_jkt=None)
    assert world.keys.calls == []


def test_v26_key_is_looked_up_by_header_kid(world: Any) -> None:
    token = world.forge(world.ap, TYP, good_claims(world), kid="nope")
    with pytest.raises(UnknownKey):
        world.verifier().verify_agent_token(token, expected_jkt=None)
    assert world.keys.calls == [(AP, "aauth-agent.json", "nope")]


def test_v26_signature_by_another_key_is_rejected(world: Any) -> None:
    impostor = KeySet.generate(kid=world.ap.current_kid)
    token = world.forge(impostor, TYP, good_claims(world))
    with pytest.raises(InvalidToken, match="signature"):
        world.verifier().verify_agent_token(token, expected_jkt=None)


def test_v26_exp_in_the_past_is_expired(world: Any) -> None:
    token = issue(world)
    world.clock.now += 3600 + 61
    with pytest.raises(TokenExpired):
        world.verifier().verify_agent_token(token, expected_jkt=None)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"exp": None}, "exp"),
        ({"iat": None}, "iat"),
        ({"iat": 1_767_225_600 + 3000}, "future"),
        ({"sub": None}, "sub"),
        ({"sub": "bot"}, "sub"),
        ({"sub": "aauth:bot@evil.example"}, "not an agent of"),
        ({"jti": None}, "jti"),
        ({"jti": 42}, "jti"),
        ({"cnf": None}, "cnf"),
        ({"cnf": {"jwk": "abc"}}, "cnf"),
        ({"cnf": {"jkt": "abc"}}, "cnf"),
        ({"ps": "http://ps.example"}, "ps"),
        ({"ps": 7}, "ps"),
        ({"parent_agent": "bot@ap.example"}, "parent_agent"),
    ],
)
def test_v26_v27_claim_checks(world: Any, change: dict[str, Any], match: str) -> None:
    claims = good_claims(world)
    claims.update(change)
    token = world.forge(world.ap, TYP, claims)
    with pytest.raises(InvalidToken, match=match):
        world.verifier().verify_agent_token(token, expected_jkt=None)


@pytest.mark.parametrize(
    ("jwk_change", "match"),
    [
        ({"x": None}, "incomplete"),
        ({"kty": "oct"}, "incomplete"),
        ({"alg": None}, "usable"),
        ({"alg": "EdDSA"}, "usable"),
        ({"alg": "ES256"}, "usable"),
        ({"d": "AAAA"}, "usable"),
        ({"x": "AAAA"}, "usable"),
    ],
)
def test_v27_cnf_jwk_must_be_complete_public_and_fully_specified(
    world: Any, jwk_change: dict[str, Any], match: str
) -> None:
    claims = good_claims(world)
    jwk = {**claims["cnf"]["jwk"], **jwk_change}
    claims["cnf"] = {"jwk": {k: v for k, v in jwk.items() if v is not None}}
    with pytest.raises(InvalidToken, match=match):
        world.verifier().verify_agent_token(world.forge(world.ap, TYP, claims), expected_jkt=None)


@pytest.mark.parametrize("alg", ["none", "EdDSA", "HS256"])
def test_v28_forbidden_header_algs_are_rejected(world: Any, alg: str) -> None:
    token = world.forge(world.ap, TYP, good_claims(world), alg=alg)
    with pytest.raises(InvalidToken, match="alg"):
        world.verifier().verify_agent_token(token, expected_jkt=None)


def test_seed_style_eddsa_tokens_verify_only_in_compat_mode(world: Any) -> None:
    claims = good_claims(world)
    claims["cnf"]["jwk"].pop("alg")
    token = world.forge(world.ap, TYP, claims, alg="EdDSA")
    with pytest.raises(InvalidToken):
        world.verifier().verify_agent_token(token, expected_jkt=None)
    verified = world.verifier(allow_eddsa=True).verify_agent_token(
        token, expected_jkt=world.agent_jkt
    )
    assert verified.cnf_key.algorithm.jose == "Ed25519"


def test_loopback_issuers_need_the_dev_flag(world: Any) -> None:
    dev = "http://localhost:8001"
    with pytest.raises(ValueError, match="iss"):
        issue(world, iss=dev, sub="aauth:bot@localhost:8001", ps=None)
    token = issue(world, iss=dev, sub="aauth:bot@localhost:8001", ps=None, allow_loopback_http=True)
    keys = StaticKeySource({dev: world.ap.jwks()})
    strict = TokenVerifier(keys, clock=world.clock)
    with pytest.raises(InvalidToken, match="iss"):
        strict.verify_agent_token(token, expected_jkt=None)
    dev_verifier = TokenVerifier(keys, clock=world.clock, allow_loopback_http=True)
    assert dev_verifier.verify_agent_token(token, expected_jkt=None).iss == dev
