"""JWT/JWS text as it arrives in ``Signature-Key`` and token request bodies: the compact-JWS
decoders of both packages, ``decode_unverified`` and every ``TokenVerifier`` entry point, and
the ``aauth decode`` description (whose only other exit is a one-line ``SystemExit``)."""

from __future__ import annotations

from _harness import attempt, instrumented, main, text

with instrumented("aauth.jwt", "aauth.tokens", "aauth.decode", "aauth_signing.jws"):
    from aauth_signing import decode_compact

    from aauth import jwt
    from aauth.decode import describe
    from aauth.keys import KeySet, generate_key
    from aauth.keysource import StaticKeySource
    from aauth.tokens import (
        AGENT_TOKEN,
        AUTH_TOKEN,
        RESOURCE_TOKEN,
        TokenVerifier,
        decode_unverified,
        issue_agent_token,
    )

NOW = 1_767_225_600
AP = "https://ap.example"
KEYS = KeySet.generate()
VERIFIER = TokenVerifier(StaticKeySource({AP: KEYS.jwks()}), clock=lambda: NOW, cache_size=0)
AGENT_KEY = generate_key()
SEEDS = [
    issue_agent_token(
        KEYS, iss=AP, sub="aauth:bot@ap.example", cnf_jwk=AGENT_KEY.public_key(), now=NOW
    ),
    "eyJhbGciOiJub25lIiwidHlwIjoiYWEtYWdlbnQrand0Iiwia2lkIjoiayJ9.e30.",
    "a.b.c",
    "..",
]


def target(data: bytes) -> None:
    token = text(data)
    attempt(decode_compact, token)
    attempt(jwt.parse, token)
    for kind in (AGENT_TOKEN, RESOURCE_TOKEN, AUTH_TOKEN):
        attempt(decode_unverified, kind, token, allow_loopback_http=True)
    attempt(VERIFIER.verify_agent_token, token, expected_jkt=None)
    attempt(
        VERIFIER.verify_resource_token,
        token,
        audience=AP,
        agent="aauth:bot@ap.example",
        agent_jkt="x",
        approver=None,
    )
    attempt(VERIFIER.verify_auth_token, token, audience=AP, agent=None, request_jkt=None)
    try:
        describe(token)
    except SystemExit as exit_:
        if not isinstance(exit_.code, str) or "\n" in exit_.code:
            raise AssertionError(f"aauth decode must exit with one line: {exit_.code!r}") from None


if __name__ == "__main__":
    main(target, SEEDS)
