"""Token-scheme verification cost, as ratios to one raw Ed25519 verify through ``cryptography``
and to the libsodium floor (the verifies the path cannot skip), measured in the same run.

- jwt-scheme request with an agent token, cold: the token is verified afresh (its JWS is a
  second Ed25519 verify, so the libsodium floor is two verifies); target <= 1.35.
- the same request warm: the verified token comes from the cache; target <= 0.70.
- a full RequestVerifier check of a request carrying an auth token, warm; target <= 0.75.
- the same with a revocation list in SQLite (§F.11: "not revoked" is remembered, and the
  store's revocation generation is read at most once a second); target <= 0.85.

Every line must also stay within 1.15x its libsodium floor; the exit status is 1 when any
target is missed. The baselines verify the very bytes the path verifies (the request's
signature base, and the token's JWS signing input when cold).

The cold line is also given a measured ceiling (diagnostic, not a target): the least a cold
check can do here, written out by hand with no library glue around it. That is the warm
HTTP-signature check with the key already in hand, plus the token work nothing can skip:
split, strict base64url + JSON decode of the payload (duplicate members refused, as
aauth refuses them), the JWS signature decoded, the issuer key looked up in a dict, the
issuer's verify, ``exp``/``iat`` compared. It builds no claims object, checks no identifier,
caches nothing and maps no error, so any real verifier costs more than it.

Run: .venv/bin/python bench/bench_tokens.py
"""

from __future__ import annotations

import sys
import time

from aauth_signing import (
    HttpRequest,
    ResolvedKey,
    VerificationPolicy,
    b64url_decode,
    verify_request,
)
from aauth_signing._rfc9421.base import signature_base
from aauth_signing._rfc9421.fields import parse_signature_input
from aauth_signing.jws import decode_segment
from timing import RawEd25519, alternating, report_floors

from aauth import (
    AgentSigner,
    KeySet,
    RequestVerifier,
    ResourcePolicy,
    StaticKeySource,
    TokenVerifier,
    generate_key,
    issue_agent_token,
    issue_auth_token,
)
from aauth.jwt import peek
from aauth.resource import RevokedTokens
from aauth.store import SQLiteStore
from aauth.token_keys import TokenKeyResolver

AP, PS, API = "https://agent.example", "https://ps.example", "https://api.example"
AGENT = "aauth:assistant@agent.example"
OPERATIONS = 500
REPEATS = 15


def http_base(request: HttpRequest) -> bytes:
    """The signature base the request's one signature covers."""
    inputs = parse_signature_input(request.headers.get("signature-input") or "")
    ((params, serialized),) = inputs.values()
    return signature_base(request, params, serialized)


def signing_input(token: str) -> bytes:
    return token.rpartition(".")[0].encode("ascii")


def main() -> int:
    ap_keys, ps_keys = KeySet.generate(), KeySet.generate()
    agent_key = generate_key()
    agent_token = issue_agent_token(
        ap_keys, iss=AP, sub=AGENT, cnf_jwk=agent_key.public_key(), ps=PS
    )
    auth_token = issue_auth_token(
        ps_keys,
        iss=PS,
        dwk="aauth-person.json",
        aud=API,
        agent=AGENT,
        cnf_jwk=agent_key.public_key(),
        agent_exp=time.time() + 3600,
        resource_scope="data.read",
        scope="data.read",
    )
    keys = StaticKeySource({AP: ap_keys.jwks(), PS: ps_keys.jwks()})
    signer = AgentSigner(agent_key, agent_token)
    url = f"{API}/reports/q3"
    with_agent_token = HttpRequest("GET", url, signer.sign("GET", url))
    with_auth_token = HttpRequest("GET", url, signer.sign("GET", url, token=auth_token))
    policy = ResourcePolicy(
        resource=API,
        canonical_authorities=("api.example",),
        trusted_issuers=(PS,),
        require_auth_token=True,
        required_scopes=("data.read",),
    )
    verifier = RequestVerifier(policy, keys)
    revoked = RevokedTokens(SQLiteStore())
    revocation_aware = RequestVerifier(policy, keys, revoked=revoked)
    signature_policy = VerificationPolicy.aauth()
    tokens = TokenVerifier(keys)
    resolver = TokenKeyResolver(keys, tokens, audience=API)  # stateless: a resource keeps one

    def agent_token_cold() -> None:
        for _ in range(OPERATIONS):
            tokens.clear_cache()
            verify_request(with_agent_token, signature_policy, resolver)

    def agent_token_warm() -> None:
        for _ in range(OPERATIONS):
            verify_request(with_agent_token, signature_policy, resolver)

    def full_check_warm() -> None:
        for _ in range(OPERATIONS):
            verifier.verify(with_auth_token)

    def full_check_with_revocations() -> None:
        for _ in range(OPERATIONS):
            revocation_aware.verify(with_auth_token)

    class KeyInHand:
        """A resolver whose answer is already known: the HTTP half of the ceiling."""

        def __init__(self, resolved: ResolvedKey) -> None:
            self.resolved = resolved

        def resolve(self, member: object) -> ResolvedKey:
            return self.resolved

    resolved = verify_request(with_agent_token, signature_policy, resolver).signature_key
    assert resolved is not None
    in_hand = KeyInHand(resolved)
    header_b64 = agent_token.partition(".")[0]
    issuer_key, _ = keys.get_key(AP, "aauth-agent.json", peek(agent_token)[0]["kid"])
    issuer_keys = {(AP, header_b64): issuer_key}

    def cold_ceiling() -> None:
        for _ in range(OPERATIONS):
            token = agent_token
            header, payload, signature = token.split(".")
            claims = decode_segment(payload, "payload")
            key = issuer_keys[(claims["iss"], header)]
            key.verify(b64url_decode(signature), token[: -len(signature) - 1].encode("ascii"))
            now = time.time()
            if not claims["iat"] - 60 <= now < claims["exp"] + 60:
                raise AssertionError("the bench token is out of date")
            verify_request(with_agent_token, signature_policy, in_hand)

    raw = RawEd25519()
    agent_base, auth_base = http_base(with_agent_token), http_base(with_auth_token)
    full_check_warm()  # prime the caches
    full_check_with_revocations()
    cases = [
        ("jwt agent token, cold", agent_token_cold, 1.35, [agent_base, signing_input(agent_token)]),
        ("jwt agent token, warm", agent_token_warm, 0.70, [agent_base]),
        ("RequestVerifier + auth token, warm", full_check_warm, 0.75, [auth_base]),
        ("... + revocation list (SQLite)", full_check_with_revocations, 0.85, [auth_base]),
    ]
    missed = False
    for name, library, target, floor in cases:
        openssl = raw.verify_openssl([floor[0]] * OPERATIONS)
        sodium = raw.verify_sodium(floor * OPERATIONS)
        if library is agent_token_cold:
            micros, ceiling_us, openssl_us, sodium_us = alternating(
                [library, cold_ceiling, openssl, sodium], OPERATIONS, repeats=REPEATS
            )
        else:
            micros, openssl_us, sodium_us = alternating(
                [library, openssl, sodium], OPERATIONS, repeats=REPEATS
            )
        line, miss = report_floors(name, micros, openssl_us, sodium_us, target, len(floor))
        missed |= miss
        print(line)
        if library is agent_token_cold:
            print(
                f"  measured ceiling, the least a cold check does (see above): {ceiling_us:.1f} µs,"
                f" {ceiling_us / sodium_us:.3f}× the libsodium floor; the library adds"
                f" {micros - ceiling_us:.1f} µs on top of it"
            )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
