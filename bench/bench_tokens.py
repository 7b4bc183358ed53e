"""Token-scheme verification cost, as ratios to a raw Ed25519 verify measured in the same run.

- jwt-scheme request with an agent token, cold: the token is verified afresh (its JWS is a
  second Ed25519 verify, so ~2x is the floor); target <= 2.1.
- the same request warm: the verified token comes from the cache; target <= 1.15.
- a full RequestVerifier check of a request carrying an auth token, warm; target <= 1.2.
- the same with a revocation list in SQLite (one indexed read per request, §F.11); target
  <= 1.3.

Run: .venv/bin/python bench/bench_tokens.py
"""

from __future__ import annotations

import sys
import time

from aauth_signing import HttpRequest, VerificationPolicy, verify_request
from timing import alternating, report

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
from aauth.resource import RevokedTokens
from aauth.store import SQLiteStore
from aauth.token_keys import TokenKeyResolver

AP, PS, API = "https://agent.example", "https://ps.example", "https://api.example"
AGENT = "aauth:assistant@agent.example"
OPERATIONS = 500


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

    def agent_token_cold() -> None:
        for _ in range(OPERATIONS):
            tokens.clear_cache()
            verify_request(
                with_agent_token, signature_policy, TokenKeyResolver(keys, tokens, audience=API)
            )

    def agent_token_warm() -> None:
        for _ in range(OPERATIONS):
            verify_request(
                with_agent_token, signature_policy, TokenKeyResolver(keys, tokens, audience=API)
            )

    def full_check_warm() -> None:
        for _ in range(OPERATIONS):
            verifier.verify(with_auth_token)

    def full_check_with_revocations() -> None:
        for _ in range(OPERATIONS):
            revocation_aware.verify(with_auth_token)

    public = agent_key.public_key()
    base = b'"@method": GET\n' + b"x" * 600  # about the size of a jwt-scheme signature base
    raw_signature = agent_key.sign(base)

    def raw_verify() -> None:
        for _ in range(OPERATIONS):
            public.verify(raw_signature, base)

    full_check_warm()  # prime the caches
    full_check_with_revocations()
    cases = [
        ("agent token, cold", agent_token_cold, 2.1),
        ("agent token, warm", agent_token_warm, 1.15),
        ("RequestVerifier + auth token, warm", full_check_warm, 1.2),
        ("... + revocation list (SQLite)", full_check_with_revocations, 1.3),
    ]
    missed = False
    for name, library, target in cases:
        micros, baseline = alternating(library, raw_verify, OPERATIONS)
        missed |= micros / baseline > target
        print(report(name, micros, baseline, target, above=True))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
