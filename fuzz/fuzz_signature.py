"""``Signature`` (RFC 9421 §4.2): a dictionary of byte sequences."""

from __future__ import annotations

from _harness import instrumented, main, text

with instrumented("aauth_signing._rfc9421", "aauth_signing._structured", "http_sf"):
    from aauth_signing import parse_signature

SEEDS = [
    "sig=:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==:",
    "a=:YQ==:, b=:Yg==:;p=1",
    "sig=:AA==:, sig=:AQ==:",
    "sig=(:AA==:)",
]


def target(data: bytes) -> None:
    for label, value in parse_signature(text(data)).items():
        assert isinstance(label, str)
        assert isinstance(value, bytes)


if __name__ == "__main__":
    main(target, SEEDS)
