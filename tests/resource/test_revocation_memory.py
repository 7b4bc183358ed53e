"""RevokedTokens remembers "not revoked" (every request asks) and forgets it whenever any
instance sharing the store records a revocation (§F.11, V-44, V-45)."""

from __future__ import annotations

import time

import pytest
from aauth_signing import HttpRequest, Hwk, ResolvedKey, SigningKey, VerifiedSignature
from aauth_signing._rfc9421.base import SignatureParams

from aauth import (
    AgentSigner,
    KeySet,
    RequestVerifier,
    ResourcePolicy,
    StaticKeySource,
    generate_key,
    issue_agent_token,
    issue_auth_token,
)
from aauth.errors import Forbidden
from aauth.resource import RevokedTokens, VerifiedCaller
from aauth.store import SQLiteStore

PS = "https://ps.example"


class Clock:
    """Real time (the store expires records by it) that a test can move forward."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def issuer(signer: str) -> VerifiedCaller:
    """A caller that signed as ``signer`` (what the revocation endpoint verified)."""
    key = SigningKey.generate().public_key()
    member = Hwk.from_public_key(key)
    resolved = ResolvedKey(key, member, member.jwk, "thumb", signer)
    signature = VerifiedSignature("sig", SignatureParams(()), key, resolved)
    return VerifiedCaller(signature, "jwks_uri", "thumb")


@pytest.fixture
def store() -> SQLiteStore:
    return SQLiteStore()


def test_v45_a_revocation_made_here_applies_at_once(store: SQLiteStore) -> None:
    revoked = RevokedTokens(store, clock=Clock())
    assert not revoked.is_revoked(PS, "t1")  # remembered as not revoked
    revoked.revoke(issuer(PS), {"iss": PS, "jti": "t1"}, trusted=[PS])
    assert revoked.is_revoked(PS, "t1")
    assert not revoked.is_revoked(PS, "t2")


def test_v45_another_instance_sees_it_within_recheck_after(store: SQLiteStore) -> None:
    clock = Clock()
    here = RevokedTokens(store, clock=clock, recheck_after=1.0)
    there = RevokedTokens(store, clock=clock, recheck_after=1.0)
    assert not here.is_revoked(PS, "t1")
    there.revoke(issuer(PS), {"iss": PS, "jti": "t1"}, trusted=[PS])
    assert not here.is_revoked(PS, "t1")  # remembered, within the documented second
    clock.now += 1.0
    assert here.is_revoked(PS, "t1")
    assert not here.is_revoked(PS, "t2")


def test_v45_each_new_revocation_is_seen_again(store: SQLiteStore) -> None:
    clock = Clock()
    here = RevokedTokens(store, clock=clock)
    there = RevokedTokens(store, clock=clock)
    for jti in ("t1", "t2", "t3"):
        assert not here.is_revoked(PS, jti)
        there.revoke(issuer(PS), {"iss": PS, "jti": jti}, trusted=[PS])
        clock.now += 1.0
        assert here.is_revoked(PS, jti)


def test_v45_recheck_after_zero_reads_the_store_every_time(store: SQLiteStore) -> None:
    clock = Clock()
    here = RevokedTokens(store, clock=clock, recheck_after=0)
    there = RevokedTokens(store, clock=clock)
    assert not here.is_revoked(PS, "t1")
    there.revoke(issuer(PS), {"iss": PS, "jti": "t1"}, trusted=[PS])
    assert here.is_revoked(PS, "t1")


def test_a_refused_revocation_changes_nothing(store: SQLiteStore) -> None:
    clock = Clock()
    revoked = RevokedTokens(store, clock=clock, recheck_after=0)
    with pytest.raises(Exception, match="V-44"):
        revoked.revoke(issuer("https://other.example"), {"iss": PS, "jti": "t1"}, [PS])
    assert not revoked.is_revoked(PS, "t1")


def test_negative_recheck_after_is_refused(store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="recheck_after"):
        RevokedTokens(store, recheck_after=-1)


def test_v44_an_agent_signing_with_the_issuers_auth_token_may_not_revoke(
    store: SQLiteStore,
) -> None:
    """V-44: an agent whose ``Signature-Key`` is an auth token from the PS (scheme ``jwt``)
    is verified with ``signer`` = the token's ``iss``, the PS; it signed as the agent, not as
    the PS, so it may not revoke the PS's tokens (another agent's, for one). Only the issuer's
    own key (``jwks_uri``, §I.5) may, whatever schemes the verifier that checked it accepts."""
    api, ap = "https://api.example", "https://agent.example"
    ps_keys, ap_keys = KeySet.generate(), KeySet.generate()
    agent_key = generate_key()
    auth_token = issue_auth_token(
        ps_keys,
        iss=PS,
        dwk="aauth-person.json",
        aud=api,
        agent="aauth:a@agent.example",
        cnf_jwk=agent_key.public_key(),
        agent_exp=time.time() + 3600,
        resource_scope="data.read",
        scope="data.read",
    )
    agent_token = issue_agent_token(
        ap_keys, iss=ap, sub="aauth:a@agent.example", cnf_jwk=agent_key.public_key(), ps=PS
    )
    policy = ResourcePolicy(
        resource=api, canonical_authorities=("api.example",), trusted_issuers=(PS,)
    )
    keys = StaticKeySource({PS: ps_keys.jwks(), ap: ap_keys.jwks()})
    url = f"{api}/revoke"
    signed = AgentSigner(agent_key, agent_token).sign("POST", url, token=auth_token)
    caller = RequestVerifier(policy, keys).verify(HttpRequest("POST", url, signed))
    assert caller.signature.signer == PS  # what the check compared against ``iss``
    revoked = RevokedTokens(store, recheck_after=0)
    with pytest.raises(Forbidden, match="V-44"):
        revoked.revoke(caller, {"iss": PS, "jti": "another-agents-token"}, [PS])
    assert not revoked.is_revoked(PS, "another-agents-token")
