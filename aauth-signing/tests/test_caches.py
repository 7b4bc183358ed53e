"""V-25: the verifier's caches are size-bounded, and callers never share a cached result."""

from __future__ import annotations

from aauth_signing import (
    HttpRequest,
    Hwk,
    SigningKey,
    VerificationPolicy,
    sign_request,
    verify_request,
)
from aauth_signing._cache import BoundedCache
from aauth_signing._rfc9421 import fields
from aauth_signing._rfc9421.fields import parse_signature_input
from aauth_signing.verifier import _signature_keys

NOW = 1_767_225_600


def test_bounded_cache_evicts_the_oldest() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 3)  # replacing a key evicts nothing
    assert (cache.get("a"), cache.get("b"), len(cache)) == (3, 2, 2)
    cache.put("c", 4)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (None, 2, 4, 2)


def test_the_hwk_cache_stays_bounded() -> None:
    policy = VerificationPolicy.generic(accepted_schemes=("hwk",), clock=lambda: NOW)
    for _ in range(1100):
        key = SigningKey.generate("Ed25519")
        request = HttpRequest("GET", "https://a.example/")
        signed = request.with_headers(
            sign_request(request, key, Hwk.from_public_key(key.public_key()), created=NOW)
        )
        verify_request(signed, policy)
    assert len(_signature_keys) <= 1024


def test_the_signature_input_memo_stays_bounded_and_is_not_shared_with_callers() -> None:
    for n in range(600):
        parse_signature_input(f'sig=("@method");created={n}')
    assert len(fields._FAST_INPUTS) <= 512
    first = parse_signature_input('sig=("@method");created=1')
    first.clear()  # callers get their own dict
    assert parse_signature_input('sig=("@method");created=1')["sig"][0].created == 1
