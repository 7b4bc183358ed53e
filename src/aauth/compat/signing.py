"""aauth 0.3's signing layer: ``sign_request``, ``verify_signature`` and the header helpers.

Requests are signed with :class:`aauth_signing.RequestSigner`, one per key and
``Signature-Key`` member, kept between calls (see :class:`~aauth.compat.keys.PerKey`).
Verification is :func:`aauth_signing.verify_request`; the 0.3 boolean result means: True, the
signature verified; False, it did not; a key that cannot be obtained raises
:class:`SignatureError` (B16).
"""

from __future__ import annotations

import time
from binascii import b2a_base64
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aauth_signing import (
    HttpRequest,
    Hwk,
    InvalidSignature,
    JktJwt,
    JwksUri,
    Jwt,
    RequestSigner,
    ResolvedKey,
    SignatureError,
    SignatureKeyHeader,
    SignatureKeyMember,
    SigningKey,
    UnknownScheme,
    VerificationPolicy,
    jwk_thumbprint,
    verify_request,
)
from aauth_signing import (
    parse_signature as _parse_signature,
)
from aauth_signing import (
    parse_signature_input as _parse_signature_input,
)
from aauth_signing import (
    sign_request as _sign_request,
)
from aauth_signing._structured import serialize_bare_item, serialize_string

from ..keysource import FetcherKeySource, StaticKeySource
from ..token_keys import TokenKeyResolver
from ..tokens import TokenVerifier
from ..tokens.wire import AGENT_DWK
from .keys import PerKey, public_key_to_jwk, signing_key, verifying_key

__all__ = [
    "ECDSA_P256_SHA256",
    "ECDSA_P384_SHA384",
    "ED25519",
    "RSA_PSS_SHA256",
    "RSA_PSS_SHA512",
    "SUPPORTED_ALGORITHMS",
    "build_signature_header",
    "build_signature_input_header",
    "build_signature_key_header",
    "is_supported",
    "parse_signature",
    "parse_signature_input",
    "parse_signature_key",
    "sign_request",
    "verify_signature",
]

ED25519 = "ed25519"
RSA_PSS_SHA512 = "rsa-pss-sha512"
RSA_PSS_SHA256 = "rsa-pss-sha256"
ECDSA_P256_SHA256 = "ecdsa-p256-sha256"
ECDSA_P384_SHA384 = "ecdsa-p384-sha384"
SUPPORTED_ALGORITHMS = [
    ED25519,
    RSA_PSS_SHA512,
    RSA_PSS_SHA256,
    ECDSA_P256_SHA256,
    ECDSA_P384_SHA384,
]


def is_supported(algorithm: str) -> bool:
    """Whether ``algorithm`` (an RFC 9421 algorithm name, any case) is supported."""
    return algorithm.lower() in SUPPORTED_ALGORITHMS


# -- Signature-Key members ---------------------------------------------------------------------


def _member(sig_scheme: str, private_key: Any, options: Mapping[str, Any]) -> SignatureKeyMember:
    """The member for a 0.3 ``sig_scheme`` and its keyword arguments (``jwks`` is 0.3's name
    for ``jwks_uri``; ``kid`` defaults to ``key-1`` and ``dwk`` to ``aauth-agent.json``)."""
    if sig_scheme == "hwk":
        if private_key is None:
            raise ValueError("scheme=hwk requires the private key")
        return Hwk(public_key_to_jwk(signing_key(private_key).public_key()))
    if sig_scheme in ("jwks_uri", "jwks"):
        agent_id = options.get("id")
        if not agent_id:
            raise ValueError("scheme=jwks_uri requires 'id' parameter")
        return JwksUri(
            str(agent_id), str(options.get("dwk") or AGENT_DWK), str(options.get("kid") or "key-1")
        )
    if sig_scheme in ("jwt", "jkt-jwt"):
        token = options.get("jwt")
        if not token:
            raise ValueError(f"scheme={sig_scheme} requires 'jwt' parameter")
        return Jwt(str(token)) if sig_scheme == "jwt" else JktJwt(str(token))
    raise ValueError(f"Unknown signature scheme: {sig_scheme}")


class _KeySigners:
    """The RequestSigners of one private key, by ``Signature-Key`` member (bounded)."""

    __slots__ = ("hwk", "key", "others")

    def __init__(self, private_key: Any) -> None:
        self.key: SigningKey = signing_key(private_key)
        self.hwk = RequestSigner(self.key, Hwk(public_key_to_jwk(self.key.public_key())))
        self.others: OrderedDict[SignatureKeyMember, RequestSigner] = OrderedDict()

    def signer(self, member: SignatureKeyMember) -> RequestSigner:
        signer = self.others.get(member)
        if signer is None:
            signer = self.others[member] = RequestSigner(self.key, member)
            if len(self.others) > 16:
                self.others.popitem(last=False)
        return signer


_SIGNERS: PerKey[Any, _KeySigners] = PerKey(_KeySigners)


def sign_request(
    method: str,
    target_uri: str,
    headers: dict[str, str],
    body: bytes | None,
    private_key: Any,
    sig_scheme: str = "hwk",
    additional_signature_components: list[str] | None = None,
    **kwargs: Any,
) -> dict[str, str]:
    """The headers to add: ``Signature-Input``, ``Signature``, ``Signature-Key`` (and a
    ``Content-Digest`` for a body). ``headers`` is not modified (0.3 added to it).

    ``sig_scheme``: ``hwk``, ``jwks_uri``/``jwks`` (``id``, ``kid``, ``dwk``), ``jwt`` or
    ``jkt-jwt`` (``jwt``). ``additional_signature_components`` are covered too (B11).
    Raises SignatureError when the request cannot be signed.
    """
    try:
        signers = _SIGNERS.get(private_key)
        signer = (
            signers.hwk
            if sig_scheme == "hwk"
            else signers.signer(_member(sig_scheme, None, kwargs))
        )
        if not additional_signature_components:
            return signer.sign(method, target_uri, headers, body)
        request = HttpRequest(method, target_uri, headers or {}, body)
        added = {"Signature-Key": signer.signature_key}
        added.update(
            _sign_request(
                request.with_headers(added),
                signers.key,
                None,
                extra_components=tuple(additional_signature_components),
            )
        )
        return added
    except SignatureError:
        raise
    except (ValueError, TypeError) as exc:
        raise SignatureError(
            f"Failed to sign request: {exc}", details={"scheme": sig_scheme}
        ) from exc


# -- verification ------------------------------------------------------------------------------

_POLICY = VerificationPolicy.generic(
    accepted_schemes=("hwk", "jkt-jwt", "jwks_uri", "jwt"), allow_legacy_keys=True
)
_NO_KEYS = StaticKeySource({})


class _GivenKey:
    """A resolver that answers every member with the key the caller passed."""

    def __init__(self, public_key: Any) -> None:
        self._key = verifying_key(public_key)
        self._jwk = public_key_to_jwk(public_key)
        self.thumbprint = jwk_thumbprint(self._jwk)

    def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
        return ResolvedKey(self._key, member, self._jwk, self.thumbprint)


_FETCHER_RESOLVERS: PerKey[Callable[..., Any], TokenKeyResolver] = PerKey(
    lambda fetcher: _resolver(FetcherKeySource(fetcher, allow_legacy=True))
)


def _resolver(keys: FetcherKeySource | StaticKeySource) -> TokenKeyResolver:
    # No token cache: as in 0.3, the caller's fetcher is consulted on every call.
    tokens = TokenVerifier(keys, trusted_issuers=None, allow_eddsa=True, cache_size=0)
    return TokenKeyResolver(keys, tokens, audience=None, accepted=_POLICY.accepted_schemes)


_NO_FETCHER = _resolver(_NO_KEYS)


def verify_signature(
    method: str,
    target_uri: str,
    headers: dict[str, str],
    body: bytes | None,
    signature_input_header: str,
    signature_header: str,
    signature_key_header: str,
    public_key: Any = None,
    jwks_fetcher: Callable[..., Any] | None = None,
) -> bool:
    """True when the signature verifies, False when it does not (B16).

    ``public_key`` verifies with that key (an ``hwk`` key must be the same key);
    ``jwks_fetcher`` supplies the keys of the ``jwks_uri`` and ``jwt`` schemes, taking
    ``(issuer, dwk, kid)``, ``(issuer, kid)`` or ``(issuer)``. A key that cannot be
    obtained raises :class:`SignatureError` carrying the ``Signature-Error`` code.
    """
    fields = {name.lower(): value for name, value in headers.items()}
    fields["signature-input"] = signature_input_header
    fields["signature"] = signature_header
    fields["signature-key"] = signature_key_header
    request = HttpRequest(method, target_uri, fields, body)
    given = None if public_key is None else _GivenKey(public_key)
    if given is not None:
        resolver: Any = given
    elif jwks_fetcher is not None:
        resolver = _FETCHER_RESOLVERS.get(jwks_fetcher)
    else:
        resolver = _NO_FETCHER
    try:
        verified = verify_request(request, _POLICY, resolver)
    except InvalidSignature:
        return False
    if given is not None and verified.signature_key is not None:
        return verified.signature_key.thumbprint == given.thumbprint
    return True


# -- header helpers ----------------------------------------------------------------------------


def build_signature_key_header(
    sig_scheme: str, private_key: Any = None, label: str = "sig", **kwargs: Any
) -> str:
    """A ``Signature-Key`` value with one member (signature-key-08 dictionary form)."""
    return SignatureKeyHeader.serialize({label: _member(sig_scheme, private_key, kwargs)})


def parse_signature_key(header_value: str) -> dict[str, Any]:
    """``{"scheme", "params", "label"}`` of the first member; ValueError when malformed."""
    try:
        parsed = SignatureKeyHeader.parse(header_value)
        label = parsed.labels[0]
        member = parsed.member(label)
    except (SignatureError, IndexError) as exc:
        raise ValueError(f"Invalid Signature-Key format: {header_value}") from exc
    if isinstance(member, UnknownScheme):
        params = {name: str(value) for name, value in member.params()}
    elif isinstance(member, Hwk):
        params = dict(member.jwk)
    else:
        params = {name: str(value) for name, value in member.params()}
    return {"scheme": member.scheme, "params": params, "label": label}


def build_signature_input_header(
    covered_components: list[str], label: str = "sig", created: int | None = None
) -> str:
    """``label=("c1" "c2");created=…`` (RFC 9421 §4.1)."""
    inner = " ".join(serialize_string(c) for c in covered_components)
    stamp = int(time.time()) if created is None else created
    return f"{label}=({inner});created={stamp}"


T = TypeVar("T")


def _members(parse: Callable[[str], dict[str, T]], header_value: str, field: str) -> dict[str, T]:
    """The members of a signature field; ValueError (0.3's error) when it has none or is
    malformed."""
    try:
        members = parse(header_value)
    except SignatureError as exc:
        raise ValueError(f"Invalid {field} format: {header_value}") from exc
    if not members:
        raise ValueError(f"Invalid {field} format: {header_value}")
    return members


def parse_signature_input(header_value: str) -> tuple[list[str], dict[str, Any]]:
    """The first member's covered component names and parameters (values as text, as
    0.3 returned them); ValueError when malformed."""
    parsed = _members(_parse_signature_input, header_value, "Signature-Input")
    params = next(iter(parsed.values()))[0]
    names = [component.name for component in params.components]
    values = {
        name: value if isinstance(value, str) else serialize_bare_item(value)
        for name, value in params.params
    }
    return names, values


def build_signature_header(signature_bytes: bytes, label: str = "sig") -> str:
    """``label=:base64:`` (an RFC 8941 byte sequence: standard base64 with padding)."""
    return f"{label}=:{b2a_base64(signature_bytes, newline=False).decode('ascii')}:"


def parse_signature(header_value: str, label: str | None = None) -> bytes:
    """The signature bytes of ``label`` (default: the first member); ValueError otherwise."""
    members = _members(_parse_signature, header_value, "Signature")
    if label is None:
        return next(iter(members.values()))
    if label not in members:
        raise ValueError(f"Label mismatch: no signature labelled {label!r}")
    return members[label]
