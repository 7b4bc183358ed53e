"""``Accept-Signature``, ``Accept-Signature-Scheme``, ``Accept-Signature-Alg`` (current and
signature-key-04..07 forms) and ``Signature-Error`` (signature-key-08 §3)."""

from __future__ import annotations

from _harness import attempt, instrumented, main, text

with instrumented("aauth.headers", "http_sf"):
    from aauth.headers import (
        is_forbidden_algorithm,
        parse_accept_signature,
        parse_accept_signature_alg,
        parse_accept_signature_scheme,
        parse_legacy_accept_signature,
        parse_signature_error,
    )

SEEDS = [
    'sig=("@method" "@authority" "@path" "signature-key")',
    'sig=("@method" "@authority" "@path");sigkey=jkt',
    "jwt, hwk, jwks_uri",
    "Ed25519, ES256",
    'error=invalid_input, required_input=("@method" "content-digest")',
    "error=unsupported_algorithm",
]


def target(data: bytes) -> None:
    value = text(data)
    attempt(parse_accept_signature, value)
    attempt(parse_legacy_accept_signature, value)
    attempt(parse_accept_signature_scheme, value)
    algorithms = attempt(parse_accept_signature_alg, value) or ()
    assert not any(is_forbidden_algorithm(name) for name in algorithms), algorithms
    parse_signature_error(value)


if __name__ == "__main__":
    main(target, SEEDS)
