"""Token verification past the signature: the fuzzer writes a token's JOSE header and claims
as JSON text and the harness signs them with the real issuer key, so every claim check of
the agent, resource and auth token verifiers (types, times, ``cnf``, ``act``, ``mission``,
identifiers, scopes) sees arbitrary values, not only malformed base64."""

from __future__ import annotations

import time

from _harness import attempt, instrumented, main

with instrumented("aauth.jwt", "aauth.tokens", "aauth.identifiers", "aauth.headers.mission"):
    from aauth_signing import b64url_decode, b64url_encode

    from aauth.headers import MissionRef
    from aauth.keys import KeySet, generate_key
    from aauth.keysource import StaticKeySource
    from aauth.tokens import (
        Actor,
        TokenVerifier,
        issue_agent_token,
        issue_auth_token,
        issue_resource_token,
    )

NOW = 1_767_225_600
AP, PS, RESOURCE = "https://ap.example", "https://ps.example", "https://docs.example"
AGENT = "aauth:bot@ap.example"
KEYS = KeySet.generate()
AGENT_KEY = generate_key()
JKT = b64url_encode(b"\x00" * 32)
SOURCE = StaticKeySource({AP: KEYS.jwks(), PS: KEYS.jwks(), RESOURCE: KEYS.jwks()})
VERIFIERS = (
    TokenVerifier(SOURCE, clock=lambda: NOW, cache_size=0),
    TokenVerifier(SOURCE, clock=lambda: NOW, cache_size=0, allow_eddsa=True, trusted_issuers=[PS]),
)
MISSION = MissionRef(PS, b64url_encode(b"\x01" * 32))


def _parts(token: str) -> bytes:
    header, payload, _ = token.split(".")
    return b64url_decode(header) + b"\n" + b64url_decode(payload)


SEEDS = [
    _parts(
        issue_agent_token(KEYS, iss=AP, sub=AGENT, cnf_jwk=AGENT_KEY.public_key(), ps=PS, now=NOW)
    ),
    _parts(
        issue_resource_token(
            KEYS,
            iss=RESOURCE,
            aud=PS,
            agent=AGENT,
            agent_jkt=JKT,
            scope="docs.read",
            mission=MISSION,
            now=NOW,
        )
    ),
    _parts(
        issue_auth_token(
            KEYS,
            iss=PS,
            dwk="aauth-person.json",
            aud=RESOURCE,
            agent=AGENT,
            cnf_jwk=AGENT_KEY.public_key(),
            agent_exp=NOW + 3600,
            resource_scope="docs.read",
            sub="person-1",
            act=Actor(AGENT, Actor("aauth:up@ap.example")),
            mission=MISSION,
            now=NOW,
        )
    ),
]


def target(data: bytes) -> None:
    header, _, payload = data.partition(b"\n")
    signing_input = f"{b64url_encode(header)}.{b64url_encode(payload)}"
    signature = KEYS.current.sign(signing_input.encode("ascii"))
    token = f"{signing_input}.{b64url_encode(signature)}"
    verifier = VERIFIERS[len(data) % len(VERIFIERS)]
    attempt(verifier.verify_agent_token, token, expected_jkt=None)
    attempt(
        verifier.verify_resource_token,
        token,
        audience=PS,
        agent=AGENT,
        agent_jkt=JKT,
        approver=PS,
    )
    attempt(verifier.verify_auth_token, token, audience=RESOURCE, agent=AGENT, request_jkt=None)


if __name__ == "__main__":
    assert time.time() > NOW - 10**9  # the fixed clock is only for the verifiers
    main(target, SEEDS)
