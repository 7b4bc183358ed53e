"""JWKs and JWKS documents from the other side (``hwk``, ``cnf.jwk``, fetched JWKS, discovery
documents): ``public_key_from_jwk``, ``jwk_thumbprint``, ``select_jwk`` and
``check_discovery_document`` on any JSON value."""

from __future__ import annotations

import json

from _harness import attempt, instrumented, main

with instrumented("aauth_signing.jwk", "aauth_signing.signature_key"):
    from aauth_signing import (
        check_discovery_document,
        jwk_thumbprint,
        public_key_from_jwk,
        select_jwk,
    )

    from aauth.keys import KeySet

_KEYS = KeySet.generate()
SEEDS = [
    json.dumps(_KEYS.jwks()["keys"][0]).encode(),
    json.dumps(_KEYS.jwks()).encode(),
    json.dumps(KeySet.generate("ES256").jwks()["keys"][0]).encode(),
    b'{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
    b'{"kty": "RSA", "alg": "RS256", "n": "AQAB", "e": "AQAB", "kid": "k"}',
    b'{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}',
    b'{"issuer": "https://ap.example", "jwks_uri": "https://ap.example/jwks"}',
]


def target(data: bytes) -> None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return  # not JSON: the fetch layer refuses it before any of these run
    kid = value.get("kid") if isinstance(value, dict) else None
    if isinstance(value, dict):
        attempt(public_key_from_jwk, value)
        attempt(public_key_from_jwk, value, allow_legacy=True)
        attempt(jwk_thumbprint, value)
    attempt(select_jwk, value, kid if isinstance(kid, str) else "k", allow_legacy=True)
    attempt(check_discovery_document, value, "https://ap.example")


if __name__ == "__main__":
    main(target, SEEDS)
