"""Signature-layer response headers (signature-key-08 §3): what a verifier accepts.

``Accept-Signature-Scheme`` and ``Accept-Signature-Alg`` say which keys to sign with;
RFC 9421 ``Accept-Signature`` says which components to cover; ``Signature-Error`` says what
went wrong. Servers render ``Signature-Error`` from :mod:`aauth_signing.errors`; clients parse
it here. The -04..-07 ``Accept-Signature …;sigkey=`` form is read, never written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aauth_signing import Component

from ._common import (
    HeaderError,
    dictionary,
    inner_strings,
    member,
    serialize_tokens,
    token_of,
    tokens,
)

__all__ = [
    "ACCEPT_SIGNATURE_ALG_HEADER",
    "ACCEPT_SIGNATURE_HEADER",
    "ACCEPT_SIGNATURE_SCHEME_HEADER",
    "SIGNATURE_ERROR_HEADER",
    "LegacyAcceptSignature",
    "SignatureErrorInfo",
    "build_accept_signature_alg",
    "build_accept_signature_scheme",
    "is_forbidden_algorithm",
    "parse_accept_signature",
    "parse_accept_signature_alg",
    "parse_accept_signature_scheme",
    "parse_legacy_accept_signature",
    "parse_signature_error",
]

ACCEPT_SIGNATURE_SCHEME_HEADER = "Accept-Signature-Scheme"
ACCEPT_SIGNATURE_ALG_HEADER = "Accept-Signature-Alg"
ACCEPT_SIGNATURE_HEADER = "Accept-Signature"
SIGNATURE_ERROR_HEADER = "Signature-Error"

#: signature-key-04..-07 ``sigkey`` values and the -08 scheme each one stood for.
_SIGKEY_SCHEMES = {"jkt": "hwk", "uri": "jwks_uri", "x509": "x509"}


def is_forbidden_algorithm(name: str) -> bool:
    """``none``, symmetric ``HS*`` and polymorphic ``EdDSA``: never acceptable (V-13, V-18)."""
    lowered = name.lower()
    return lowered in ("none", "eddsa") or lowered.startswith("hs")


def build_accept_signature_scheme(schemes: Iterable[str]) -> str:
    """``Accept-Signature-Scheme`` in preference order, e.g. ``jwt`` on AAuth routes (V-19)."""
    return serialize_tokens(dict.fromkeys(schemes), ACCEPT_SIGNATURE_SCHEME_HEADER)


def parse_accept_signature_scheme(value: str) -> tuple[str, ...]:
    """The schemes a server accepts, in its order; non-token members are ignored."""
    return tokens(value, ACCEPT_SIGNATURE_SCHEME_HEADER)


def build_accept_signature_alg(algorithms: Iterable[str]) -> str:
    """``Accept-Signature-Alg`` listing JOSE names as given (``ES256``, not ``es256``).

    Raises ValueError for ``none``, ``HS*`` or ``EdDSA``: a server must never offer them (V-18).
    """
    names = list(dict.fromkeys(algorithms))
    forbidden = [n for n in names if is_forbidden_algorithm(n)]
    if forbidden:
        raise ValueError(f"Accept-Signature-Alg must not list {forbidden} (V-18)")
    return serialize_tokens(names, ACCEPT_SIGNATURE_ALG_HEADER)


def parse_accept_signature_alg(value: str) -> tuple[str, ...]:
    """The algorithms a server accepts; forbidden names are dropped so a client never picks
    one even when a misconfigured server lists it."""
    algs = tokens(value, ACCEPT_SIGNATURE_ALG_HEADER)
    return tuple(a for a in algs if not is_forbidden_algorithm(a))


@dataclass(frozen=True)
class SignatureErrorInfo:
    """A parsed ``Signature-Error``: the header, not the body, is authoritative (AG-38).

    ``supported_algorithms`` exists only in -04..-07 headers; -08 sends
    ``Accept-Signature-Alg`` instead.
    """

    error: str
    required_input: tuple[str, ...] = ()
    supported_algorithms: tuple[str, ...] = ()


def parse_signature_error(value: str) -> SignatureErrorInfo:
    """``error=invalid_input, required_input=("@method" …)``; unknown members are ignored."""
    members = dictionary(value, SIGNATURE_ERROR_HEADER)
    error = token_of(member(members.get("error"))[0])
    if error is None:
        raise HeaderError("Signature-Error needs an error token")
    required = members.get("required_input")
    legacy_algs = members.get("supported_algorithms")
    return SignatureErrorInfo(
        error,
        () if required is None else inner_strings(required, "required_input"),
        ()
        if legacy_algs is None
        else inner_strings(legacy_algs, "supported_algorithms", tokens=True),
    )


def _components(entry: Any) -> tuple[str, ...]:
    """Component names; one with parameters comes as its identifier (``"x";sf``), the form
    :func:`aauth_signing.sign` takes."""
    items, _ = member(entry)
    if not isinstance(items, list):
        raise HeaderError("Accept-Signature members must be inner lists of components")
    out: list[str] = []
    for item in items:
        name, params = member(item)
        if not isinstance(name, str) or not name:
            raise HeaderError("Accept-Signature lists a component that is not a string")
        out.append(Component(name, tuple(params.items())).identifier if params else name)
    return tuple(out)


def parse_accept_signature(value: str) -> tuple[str, ...]:
    """The components RFC 9421 ``Accept-Signature`` asks to cover (its first member)."""
    members = dictionary(value, ACCEPT_SIGNATURE_HEADER)
    if not members:
        raise HeaderError("Accept-Signature is empty")
    return _components(next(iter(members.values())))


@dataclass(frozen=True)
class LegacyAcceptSignature:
    """A -04..-07 ``Accept-Signature: sig=(…);sigkey=uri`` (input only).

    ``scheme`` is the -08 scheme the ``sigkey`` stood for: ``jkt`` → ``hwk``,
    ``uri`` → ``jwks_uri``, ``x509`` → ``x509``.
    """

    label: str
    components: tuple[str, ...]
    sigkey: str
    scheme: str


def parse_legacy_accept_signature(value: str) -> LegacyAcceptSignature | None:
    """The first member carrying ``sigkey``, or None when no member does (a current
    ``Accept-Signature``); HeaderError when malformed or the ``sigkey`` is unknown."""
    for label, entry in dictionary(value, ACCEPT_SIGNATURE_HEADER).items():
        raw = member(entry)[1].get("sigkey")
        if raw is None:
            continue
        sigkey = token_of(raw) or (raw if isinstance(raw, str) else None)
        scheme = _SIGKEY_SCHEMES.get(sigkey or "")
        if sigkey is None or scheme is None:
            raise HeaderError(f"Accept-Signature has an unknown sigkey {raw!r}")
        return LegacyAcceptSignature(label, _components(entry), sigkey, scheme)
    return None
