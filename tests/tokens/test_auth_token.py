"""Auth tokens: issuance at the PS/AS (PS-09 … PS-11, AS-05), verification at the resource
(RS-09 … RS-13), the agent's receipt check (AG-17, PS-12) and call chaining (PS-16, PS-17)."""

from __future__ import annotations

from typing import Any

import pytest
from aauth_signing import SigningKey, jwk_from_public_key

from aauth import jwt
from aauth.errors import (
    ExpiredAgentToken,
    InvalidAuthToken,
    InvalidScope,
    InvalidToken,
    TokenExpired,
    UntrustedIssuer,
)
from aauth.headers import MissionRef
from aauth.keys import thumbprint
from aauth.tokens import (
    AGENT_TOKEN,
    AUTH_TOKEN,
    Actor,
    chained_actor,
    check_auth_receipt,
    check_upstream_token,
    decode_unverified,
    issue_agent_token,
    issue_auth_token,
)

RESOURCE = "https://docs.example"
PS = "https://ps.example"
AS = "https://as.example"
AP = "https://ap.example"
AGENT = "aauth:bot@ap.example"
UPSTREAM = "aauth:planner@ap.example"
TYP = "aa-auth+jwt"
S256 = "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"


def issue(world: Any, *, by: str = "ps", **overrides: Any) -> str:
    now = world.clock.now
    args: dict[str, Any] = {
        "iss": PS if by == "ps" else AS,
        "dwk": "aauth-person.json" if by == "ps" else "aauth-access.json",
        "aud": RESOURCE,
        "agent": AGENT,
        "cnf_jwk": world.agent_key.public_key(),
        "agent_exp": now + 7200,
        "resource_scope": "docs.read docs.write",
        "scope": "docs.read",
        "sub": "user-123",
        "now": now,
    }
    args.update(overrides)
    return issue_auth_token(world.ps if by == "ps" else world.as_, **args)


def good_claims(world: Any) -> dict[str, Any]:
    now = int(world.clock.now)
    return {
        "iss": PS,
        "dwk": "aauth-person.json",
        "aud": RESOURCE,
        "jti": "a-1",
        "agent": AGENT,
        "cnf": {"jwk": jwk_from_public_key(world.agent_key.public_key())},
        "sub": "user-123",
        "scope": "docs.read",
        "iat": now,
        "exp": now + 3600,
    }


def verify(world: Any, token: str, verifier: Any = None, **overrides: Any) -> Any:
    args: dict[str, Any] = {"audience": RESOURCE, "agent": AGENT, "request_jkt": world.agent_jkt}
    args.update(overrides)
    return (verifier or world.verifier()).verify_auth_token(token, **args)


# -- issuance -----------------------------------------------------------------------------------


def test_ps09_issued_token_has_the_required_header_and_claims(world: Any) -> None:
    token = issue(world, account="acme", tenant="t1", mission=MissionRef(PS, S256))
    header, claims = jwt.peek(token)
    assert header == {"alg": "Ed25519", "typ": TYP, "kid": world.ps.current_kid}
    assert claims["iss"] == PS
    assert claims["dwk"] == "aauth-person.json"
    assert claims["aud"] == RESOURCE
    assert claims["agent"] == AGENT
    assert claims["cnf"]["jwk"] == jwk_from_public_key(world.agent_key.public_key())
    assert claims["cnf"]["jwk"]["alg"] == "Ed25519"
    assert claims["jti"]
    assert claims["sub"] == "user-123"
    assert claims["scope"] == "docs.read"
    assert claims["account"] == "acme"
    assert claims["tenant"] == "t1"
    assert claims["mission"] == {"approver": PS, "s256": S256}
    assert claims["exp"] - claims["iat"] == 3600
    assert "act" not in claims


def test_as05_as_issued_token_uses_aauth_access_json(world: Any) -> None:
    header, claims = jwt.peek(issue(world, by="as"))
    assert header["alg"] == "ES256"
    assert (claims["iss"], claims["dwk"], claims["aud"]) == (AS, "aauth-access.json", RESOURCE)


def test_ps09_dwk_must_name_a_ps_or_as_document(world: Any) -> None:
    with pytest.raises(ValueError, match="dwk"):
        issue(world, dwk="aauth-agent.json")


def test_ps10_lifetime_is_at_most_one_hour(world: Any) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        issue(world, lifetime=3601)


def test_ps10_as05_exp_never_exceeds_the_agent_tokens(world: Any) -> None:
    claims = jwt.peek(issue(world, agent_exp=world.clock.now + 600))[1]
    assert claims["exp"] == int(world.clock.now) + 600
    with pytest.raises(ExpiredAgentToken):
        issue(world, agent_exp=world.clock.now - 1)


def test_ps11_sub_or_scope_is_required(world: Any) -> None:
    assert "scope" not in jwt.peek(issue(world, scope=None))[1]
    assert "sub" not in jwt.peek(issue(world, sub=None))[1]
    with pytest.raises(ValueError, match="sub"):
        issue(world, sub=None, scope=None)


def test_ps11_scope_is_never_broader_than_the_resource_tokens(world: Any) -> None:
    claims = jwt.peek(issue(world, scope=("docs.write", "docs.read")))[1]
    assert claims["scope"] == "docs.write docs.read"
    with pytest.raises(InvalidScope, match="admin"):
        issue(world, scope="docs.read admin")
    with pytest.raises(InvalidScope):
        issue(world, scope="docs.read  docs.write")


def test_ps17_act_chain_and_identity_claims_are_emitted(world: Any) -> None:
    act = Actor(UPSTREAM, Actor("aauth:origin@ap.example"))
    claims = jwt.peek(issue(world, act=act, extra_claims={"email": "u@example.com"}))[1]
    assert claims["act"] == {"agent": UPSTREAM, "act": {"agent": "aauth:origin@ap.example"}}
    assert claims["email"] == "u@example.com"
    with pytest.raises(ValueError, match="replace"):
        issue(world, extra_claims={"aud": RESOURCE})


def test_issuance_refuses_malformed_identifiers(world: Any) -> None:
    with pytest.raises(ValueError, match="aud"):
        issue(world, aud="docs.example")
    with pytest.raises(ValueError, match="agent"):
        issue(world, agent="bot")


# -- verification at the resource ---------------------------------------------------------------


def test_rs09_ps_and_as_tokens_verify(world: Any) -> None:
    act = Actor(UPSTREAM)
    claims = verify(world, issue(world, act=act, mission=MissionRef(PS, S256), tenant="t"))
    assert (claims.iss, claims.dwk, claims.aud) == (PS, "aauth-person.json", RESOURCE)
    assert claims.sub == "user-123"
    assert claims.scope == ("docs.read",)
    assert claims.act == act
    assert claims.act.chain == (UPSTREAM,)
    assert claims.mission == MissionRef(PS, S256)
    assert claims.tenant == "t"
    assert claims.jkt == world.agent_jkt
    assert world.keys.calls == [(PS, "aauth-person.json", world.ps.current_kid)]
    as_claims = verify(world, issue(world, by="as"))
    assert (as_claims.iss, as_claims.dwk) == (AS, "aauth-access.json")


@pytest.mark.parametrize("typ", ["aa-agent+jwt", "aa-resource+jwt", "aa-person+jwt", "JWT"])
def test_rs09_h4_only_aa_auth_jwt_is_an_auth_token(world: Any, typ: str) -> None:
    with pytest.raises(InvalidToken, match="typ"):
        verify(world, world.forge(world.ps, typ, good_claims(world)))
    assert world.keys.calls == []


def test_rs09_an_agent_token_is_never_an_auth_token(world: Any) -> None:
    agent_token = issue_agent_token(
        world.ap,
        iss=AP,
        sub=AGENT,
        cnf_jwk=world.agent_key.public_key(),
        now=world.clock.now,
    )
    with pytest.raises(InvalidToken, match="typ"):
        verify(world, agent_token)


@pytest.mark.parametrize("dwk", [None, "aauth-agent.json", "aauth-resource.json", 5])
def test_rs09_dwk_must_be_access_or_person(world: Any, dwk: Any) -> None:
    with pytest.raises(InvalidToken, match="dwk"):
        verify(world, world.forge(world.ps, TYP, {**good_claims(world), "dwk": dwk}))
    assert world.keys.calls == []


@pytest.mark.parametrize("iss", [None, "http://ps.example", "https://ps.example/", "ps.example"])
def test_rs09_iss_must_be_an_https_identifier(world: Any, iss: Any) -> None:
    with pytest.raises(InvalidToken, match="iss"):
        verify(world, world.forge(world.ps, TYP, {**good_claims(world), "iss": iss}))
    assert world.keys.calls == []


def test_rs09_untrusted_issuers_are_refused_without_fetching_keys(world: Any) -> None:
    strict = world.verifier(trusted_issuers={AS})
    with pytest.raises(UntrustedIssuer, match="not trusted"):
        verify(world, issue(world), verifier=strict)
    assert world.keys.calls == []
    assert verify(world, issue(world, by="as"), verifier=strict).iss == AS


def test_rs09_trusted_issuers_do_not_restrict_other_token_types(world: Any) -> None:
    token = issue_agent_token(
        world.ap, iss=AP, sub=AGENT, cnf_jwk=world.agent_key.public_key(), now=world.clock.now
    )
    strict = world.verifier(trusted_issuers={AS})
    assert strict.verify_agent_token(token, expected_jkt=world.agent_jkt).iss == AP


def test_rs09_signature_and_times(world: Any) -> None:
    impostor = world.forge(world.resource, TYP, good_claims(world), kid=world.ps.current_kid)
    with pytest.raises(InvalidToken, match="signature"):
        verify(world, impostor)
    token = issue(world)
    world.clock.now += 3661
    with pytest.raises(TokenExpired):
        verify(world, token)


def test_rs09_lifetime_over_one_hour_is_refused(world: Any) -> None:
    claims = good_claims(world)
    claims["exp"] = claims["iat"] + 3601
    with pytest.raises(InvalidToken, match="lifetime"):
        verify(world, world.forge(world.ps, TYP, claims))


def test_rs10_aud_must_be_this_resource(world: Any) -> None:
    with pytest.raises(InvalidAuthToken, match="aud"):
        verify(world, issue(world), audience="https://other.example")


def test_rs10_agent_must_be_the_signing_agent(world: Any) -> None:
    with pytest.raises(InvalidAuthToken, match="agent"):
        verify(world, issue(world), agent="aauth:other@ap.example")
    assert verify(world, issue(world), agent=None).agent == AGENT


def test_rs12_cnf_jwk_must_be_the_request_signing_key(world: Any) -> None:
    other = thumbprint(SigningKey.generate("Ed25519"))
    with pytest.raises(InvalidAuthToken, match="cnf"):
        verify(world, issue(world), request_jkt=other)


@pytest.mark.parametrize(
    ("jwk", "match"),
    [
        ({"kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}, "incomplete"),
        ({"kty": "OKP", "crv": "Ed25519", "alg": "Ed25519"}, "incomplete"),
        ({"crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}, "incomplete"),
        ({"kty": "EC", "crv": "P-256", "x": "AAAA", "alg": "ES256"}, "incomplete"),
        ({"kty": "RSA", "n": "AAAA", "alg": "PS256"}, "incomplete"),
        ({"kty": "oct", "k": "AAAA"}, "incomplete"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "alg": "Ed25519"}, "usable"),
        ({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "alg": "ES256"}, "usable"),
    ],
)
def test_rs11_cnf_jwk_must_be_structurally_complete_before_decoding(
    world: Any, jwk: dict[str, str], match: str
) -> None:
    claims = {**good_claims(world), "cnf": {"jwk": jwk}}
    with pytest.raises(InvalidToken, match=match):
        verify(world, world.forge(world.ps, TYP, claims), request_jkt=None)


@pytest.mark.parametrize("cnf", [None, "x", {"jkt": "abc"}, {"jwk": ["a"]}])
def test_rs11_cnf_jwk_must_be_present(world: Any, cnf: Any) -> None:
    with pytest.raises(InvalidToken, match="cnf"):
        verify(world, world.forge(world.ps, TYP, {**good_claims(world), "cnf": cnf}))


def test_rs13_sub_or_scope_must_be_present(world: Any) -> None:
    with pytest.raises(InvalidToken, match="neither"):
        verify(
            world, world.forge(world.ps, TYP, {**good_claims(world), "sub": None, "scope": None})
        )
    assert (
        verify(world, world.forge(world.ps, TYP, {**good_claims(world), "sub": None})).sub is None
    )
    only_sub = verify(world, world.forge(world.ps, TYP, {**good_claims(world), "scope": None}))
    assert only_sub.scope == ()


@pytest.mark.parametrize(
    "act",
    [
        "aauth:planner@ap.example",
        {},
        {"sub": "aauth:planner@ap.example"},
        {"agent": "planner"},
        {"agent": 5},
        {"agent": UPSTREAM, "act": {"agent": "not-an-agent"}},
        {"agent": UPSTREAM, "act": "x"},
    ],
)
def test_rs13_act_agent_must_be_well_formed(world: Any, act: Any) -> None:
    with pytest.raises(InvalidToken, match="act"):
        verify(world, world.forge(world.ps, TYP, {**good_claims(world), "act": act}))


def test_rs13_act_chains_are_bounded(world: Any) -> None:
    act: dict[str, Any] = {"agent": UPSTREAM}
    for _ in range(16):
        act = {"agent": UPSTREAM, "act": act}
    with pytest.raises(InvalidToken, match="deeper"):
        verify(world, world.forge(world.ps, TYP, {**good_claims(world), "act": act}))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"aud": None}, "aud"),
        ({"aud": [RESOURCE]}, "aud"),
        ({"jti": None}, "jti"),
        ({"agent": None}, "agent"),
        ({"agent": "bot"}, "agent"),
        ({"sub": 5}, "sub"),
        ({"scope": "a  b"}, "scope"),
        ({"scope": ""}, "scope"),
        ({"tenant": 1}, "tenant"),
        ({"account": ["a"]}, "account"),
        ({"mission": {"approver": PS, "s256": "x"}}, "s256"),
    ],
)
def test_rs09_claim_checks(world: Any, change: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidToken, match=match):
        verify(world, world.forge(world.ps, TYP, {**good_claims(world), **change}))


# -- the agent on receipt (AG-17) and the PS forwarding an AS token (PS-12) ---------------------


def received(world: Any, token: str) -> Any:
    return decode_unverified(AUTH_TOKEN, token, now=world.clock.now)


def receipt_args(world: Any, **overrides: Any) -> dict[str, Any]:
    return {"resource": RESOURCE, "agent": AGENT, "agent_jkt": world.agent_jkt, **overrides}


def test_ag17_a_token_for_me_passes(world: Any) -> None:
    check_auth_receipt(received(world, issue(world)), **receipt_args(world, issuer=PS))
    assert world.keys.calls == []


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"resource": "https://other.example"}, "aud"),
        ({"agent": "aauth:other@ap.example"}, "agent"),
        ({"agent_jkt": "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"}, "cnf"),
        ({"issuer": AS}, "iss"),
    ],
)
def test_ag17_aud_cnf_agent_and_issuer_are_mine(
    world: Any, overrides: dict[str, str], match: str
) -> None:
    with pytest.raises(InvalidToken, match=match):
        check_auth_receipt(received(world, issue(world)), **receipt_args(world, **overrides))


def test_ag17_act_must_name_the_upstream_agent(world: Any) -> None:
    chained = received(world, issue(world, act=Actor(UPSTREAM)))
    check_auth_receipt(chained, **receipt_args(world, upstream_agent=UPSTREAM))
    with pytest.raises(InvalidToken, match="act"):
        check_auth_receipt(chained, **receipt_args(world))
    with pytest.raises(InvalidToken, match="act"):
        check_auth_receipt(chained, **receipt_args(world, upstream_agent="aauth:x@ap.example"))
    with pytest.raises(InvalidToken, match="act"):
        check_auth_receipt(
            received(world, issue(world)), **receipt_args(world, upstream_agent=UPSTREAM)
        )


def test_ps12_forwarded_as_token_is_signature_checked_and_scope_bounded(world: Any) -> None:
    claims = world.verifier().verify(AUTH_TOKEN, issue(world, by="as", scope="docs.write"))
    check_auth_receipt(claims, **receipt_args(world, issuer=AS, resource_scope="docs.write"))
    with pytest.raises(InvalidToken, match="exceed"):
        check_auth_receipt(claims, **receipt_args(world, issuer=AS, resource_scope=("docs.read",)))


# -- call chaining (§D.4) -----------------------------------------------------------------------


def test_ps16_upstream_token_must_be_minted_for_the_intermediary(world: Any) -> None:
    upstream = received(world, issue(world, act=Actor(UPSTREAM)))
    intermediary_token = issue_agent_token(
        world.resource,
        iss=RESOURCE,
        sub="aauth:docs@docs.example",
        cnf_jwk=world.agent_key.public_key(),
        now=world.clock.now,
    )
    intermediary = decode_unverified(AGENT_TOKEN, intermediary_token, now=world.clock.now)
    check_upstream_token(upstream, intermediary=intermediary)
    elsewhere = received(world, issue(world, aud="https://other.example"))
    with pytest.raises(InvalidToken, match="intermediary"):
        check_upstream_token(elsewhere, intermediary=intermediary)


def test_ps17_chained_act_names_the_upstream_agent_and_nests_its_chain(world: Any) -> None:
    upstream = received(world, issue(world, act=Actor(UPSTREAM)))
    actor = chained_actor(upstream)
    assert actor.chain == (upstream.agent, UPSTREAM)
    assert actor.claim() == {"agent": upstream.agent, "act": {"agent": UPSTREAM}}
    plain = received(world, issue(world))
    assert chained_actor(plain).claim() == {"agent": plain.agent}


def test_seed_act_sub_is_read_only_in_legacy_mode() -> None:
    """§A.4 (1): the seed's ``act.sub`` is accepted on input when legacy reading is on."""
    from aauth.tokens.claims import Actor

    legacy = {"sub": UPSTREAM, "act": {"agent": UPSTREAM}}
    assert Actor.from_claim(legacy, "auth token", allow_legacy=True).chain == (UPSTREAM, UPSTREAM)
    assert Actor.from_claim(legacy, "auth token", allow_legacy=True).claim()["agent"] == UPSTREAM
    with pytest.raises(InvalidToken, match="act"):
        Actor.from_claim(legacy, "auth token")
