"""``Signature-Input`` (RFC 9421 §4.1): parse, then re-parse each member's canonical form,
which must give the same parameters (the signature base depends on that serialization)."""

from __future__ import annotations

from _harness import instrumented, main, text

with instrumented("aauth_signing._rfc9421", "aauth_signing._structured", "http_sf"):
    from aauth_signing import parse_signature_input

SEEDS = [
    'sig=("@method" "@authority" "@path" "signature-key");created=1767225600',
    'sig=("@method" "@authority" "@path" "@query" "content-type" "content-digest" '
    '"signature-key");created=1767225600;nonce="n0nce";expires=1767225660',
    'a=("@method");created=1, b=("@query-param";name="x" "x";sf "y";key="k" "@status";req)',
    'sig=("signature-key";key="sig" "@authority");alg="ed25519";keyid="k";tag="aauth"',
    "sig=();created=-1",
]


def target(data: bytes) -> None:
    for label, (params, serialized) in parse_signature_input(text(data)).items():
        again = parse_signature_input(f"{label}={serialized}")[label]
        assert again[0].serialize() == params.serialize() == serialized, (serialized, again)


if __name__ == "__main__":
    main(target, SEEDS)
