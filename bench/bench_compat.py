"""The aauth 0.3 API against the typed API it wraps, for an ``hwk`` GET (issue 10).

Prints µs per operation (best of several alternating repeats) and the ratios
``aauth.sign_request / RequestSigner.sign``, ``AgentRequestSigner.sign_request /
AgentSigner.sign`` (``jwt`` scheme) and ``aauth.verify_signature /
aauth_signing.verify_request``; the target for each is ≤ 1.15 and the exit status is 1 when
any is above it. Both sides sign with the same key and verify the same signed requests
(64 paths; each call builds its request object, as a server does per request), so the ratio is the
wrappers' own cost: the key conversion, ``hwk`` member and components are built once per
key object, not per call.

Run: ``.venv/bin/python bench/bench_compat.py``
"""

from __future__ import annotations

import itertools

from aauth_signing import HttpRequest, Hwk, RequestSigner, SigningKey, VerificationPolicy
from aauth_signing import verify_request as typed_verify_request
from timing import alternating, report

import aauth
from aauth import AgentSigner

PATHS = 64
REPEATS = 15
NUMBER = 2000
TARGET = 1.15


def main() -> int:
    private, _ = aauth.generate_ed25519_keypair()
    key = SigningKey(private, "Ed25519")
    typed_signer = RequestSigner(key, Hwk.from_public_key(key.public_key()))
    sign_request, verify_signature = aauth.sign_request, aauth.verify_signature
    uris = [f"https://api.example/v1/items/{n}" for n in range(PATHS)]
    targets = list(itertools.islice(itertools.cycle(uris), NUMBER))

    def sign_compat() -> None:
        for uri in targets:
            sign_request("GET", uri, {}, None, private)

    def sign_typed() -> None:
        for uri in targets:
            typed_signer.sign("GET", uri)

    agent_token = aauth.issue_agent_token(
        SigningKey.generate("Ed25519"),
        iss="https://agent.example",
        sub="aauth:bench@agent.example",
        cnf_jwk=key.public_key(),
    )
    compat_agent = aauth.AgentRequestSigner(private, agent_token=agent_token)
    typed_agent = AgentSigner(key, agent_token)

    def agent_compat() -> None:
        for uri in targets:
            compat_agent.sign_request("GET", uri, {}, None, "jwt")

    def agent_typed() -> None:
        for uri in targets:
            typed_agent.sign("GET", uri)

    signed = [(uri, typed_signer.sign("GET", uri)) for uri in targets]
    policy = VerificationPolicy.generic(accepted_schemes=("hwk",))

    def verify_compat() -> None:
        for uri, h in signed:
            verify_signature(
                "GET", uri, h, None, h["Signature-Input"], h["Signature"], h["Signature-Key"]
            )

    def verify_typed() -> None:
        for uri, h in signed:  # a caller of the typed API builds the request object too
            typed_verify_request(HttpRequest("GET", uri, h), policy)

    verify_typed()  # warm the same memos both sides use
    verify_compat()
    results = [
        (
            "0.3 sign_request vs RequestSigner.sign",
            *alternating([sign_compat, sign_typed], NUMBER, repeats=REPEATS),
        ),
        (
            "0.3 AgentRequestSigner vs AgentSigner (jwt)",
            *alternating([agent_compat, agent_typed], NUMBER, repeats=REPEATS),
        ),
        (
            "0.3 verify_signature vs verify_request",
            *alternating([verify_compat, verify_typed], NUMBER, repeats=REPEATS),
        ),
    ]
    failed = False
    for name, compat, typed in results:
        failed |= compat / typed > TARGET
        print(report(name, compat, typed, TARGET, above=True))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
