"""``Signature-Key`` (signature-key-08 §2): parse the dictionary, select every member, and
resolve the schemes that need no I/O (``hwk`` parses a JWK, ``jkt-jwt`` a JWT)."""

from __future__ import annotations

from _harness import instrumented, main, text

with instrumented(
    "aauth_signing.signature_key", "aauth_signing.jwk", "aauth_signing.jws", "http_sf"
):
    from aauth_signing import ALL_SCHEMES, SignatureKeyHeader, resolve_locally

SEEDS = [
    'sig=hwk;kty="OKP";crv="Ed25519";alg="Ed25519";x="11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"',
    'sig=hwk;kty="EC";crv="P-256";alg="ES256";x="f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";'
    'y="x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"',
    'sig=jwt;jwt="eyJhbGciOiJFZDI1NTE5IiwidHlwIjoiYWEtYWdlbnQrand0Iiwia2lkIjoiayJ9.e30.AA"',
    'sig=jkt-jwt;jwt="eyJhbGciOiJFZDI1NTE5IiwidHlwIjoiamt0LXMyNTYrand0In0.e30.AA"',
    'sig=jwks_uri;id="https://ps.example";dwk="aauth-person.json";kid="k1"',
    'sig=jwks;url="https://ap.example/jwks.json";kid="k"',
    'sig=x509;x5u="https://a.example/c.pem";x5t="AA"',
    'sig=cached;id="abc", other=unknown;x="1"',
]


def target(data: bytes) -> None:
    header = SignatureKeyHeader.parse(text(data))
    for label in header.labels:
        member = header.member(label, ALL_SCHEMES)
        member.serialize()
        resolve_locally(member, allow_legacy=True, now=1_767_225_600)
        resolve_locally(member, now=1_767_225_600)


if __name__ == "__main__":
    main(target, SEEDS)
