"""RFC 9530 ``Content-Digest``: creation, verification, and the algorithms that never count."""

from __future__ import annotations

import pytest
from aauth_signing import InvalidSignature, content_digest, verify_content_digest

BODY = b'{"hello": "world"}'
SHA256 = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
SHA512 = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
    "XvJwew==:"
)
EMPTY_SHA256 = "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"


def test_creation() -> None:
    assert content_digest(BODY) == SHA256
    assert content_digest(BODY, ("sha-512",)) == SHA512
    assert content_digest(BODY, ("sha-256", "sha-512")) == f"{SHA256}, {SHA512}"
    assert content_digest(b"") == EMPTY_SHA256
    with pytest.raises(ValueError, match="md5"):
        content_digest(BODY, ("md5",))


@pytest.mark.parametrize(
    "header",
    [
        SHA256,
        SHA512,
        f"{SHA256}, {SHA512}",
        f"md5=:AAAA:, {SHA256}",  # a deprecated member beside a good one is ignored
        f"{SHA256}, future-hash=:AAAA:",  # unknown members are ignored
        f"{SHA256};p=1",  # parameters on the member do not matter
    ],
)
def test_verification(header: str) -> None:
    verify_content_digest(header, BODY)


def test_empty_body() -> None:
    verify_content_digest(EMPTY_SHA256, b"")
    with pytest.raises(InvalidSignature):
        verify_content_digest(SHA256, b"")


@pytest.mark.parametrize(
    "header",
    [
        "md5=:5mMYcP8WuvzSQi2FO5QbQw==:",  # insecure algorithms never count
        "sha=:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:",
        "crc32c=:AAAAAA==:",
        "",
        "sha-256=:AAAA:",  # wrong digest
        f"{SHA256}, sha-512=:AAAA:",  # every accepted member must match
        'sha-256="X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="',  # a String, not bytes
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE",  # malformed
    ],
)
def test_failures(header: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_content_digest(header, BODY)


def test_a_body_change_of_one_byte_fails() -> None:
    with pytest.raises(InvalidSignature):
        verify_content_digest(SHA256, BODY[:-1] + b"]")


def test_accepted_algorithms_can_be_narrowed() -> None:
    verify_content_digest(SHA512, BODY, accepted=("sha-512",))
    with pytest.raises(InvalidSignature):
        verify_content_digest(SHA256, BODY, accepted=("sha-512",))
