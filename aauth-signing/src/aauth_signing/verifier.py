"""Verifying signatures. Every path either returns a :class:`VerifiedSignature` describing
exactly what was checked, or raises a :class:`~aauth_signing.errors.SignatureError`.

The work is split so the same pure code serves sync and async callers: :func:`_prepare`
parses and checks everything that needs no key, the caller resolves the key (blocking or
awaiting), and :func:`_finish` checks the key and the signature.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._rfc9421.base import SignatureParams, signature_base
from ._rfc9421.fields import parse_signature, parse_signature_input
from .algorithms import VerifyingKey
from .digest import verify_content_digest
from .errors import (
    InvalidInput,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
    UnsupportedScheme,
)
from .message import HttpRequest, HttpResponse
from .policy import VerificationPolicy
from .signature_key import (
    AsyncKeyResolver,
    Hwk,
    KeyResolver,
    ResolvedKey,
    SignatureKeyHeader,
    SignatureKeyMember,
    require_supported,
    resolve_locally,
)

__all__ = ["VerifiedSignature", "averify_request", "verify", "verify_request"]

_HWK_CACHE_SIZE = 1024


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified, and what it covered.

    ``signature_key`` is set when the key came from ``Signature-Key``: its scheme, the JWK
    thumbprint, the signer identity and any JWT claims are there.
    """

    label: str
    params: SignatureParams
    key: VerifyingKey
    signature_key: ResolvedKey | None = None

    @property
    def created(self) -> int | None:
        return self.params.created

    @property
    def covered(self) -> frozenset[str]:
        return self.params.names

    @property
    def scheme(self) -> str | None:
        return self.signature_key.scheme if self.signature_key else None

    @property
    def thumbprint(self) -> str | None:
        return self.signature_key.thumbprint if self.signature_key else None

    @property
    def signer(self) -> str | None:
        return self.signature_key.signer if self.signature_key else None

    @property
    def claims(self) -> Mapping[str, Any] | None:
        return self.signature_key.claims if self.signature_key else None


@dataclass(frozen=True)
class _Pending:
    message: HttpRequest | HttpResponse
    policy: VerificationPolicy
    label: str
    params: SignatureParams
    serialized: str
    signature: bytes
    member: SignatureKeyMember | None
    resolved: ResolvedKey | None


class _HwkCache:
    """Bounded cache of resolved ``hwk`` members keyed by the raw header text.

    Resolution is a pure function of that text, so repeat callers skip the parse and key
    decoding. Oldest entries are evicted first.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str, bool], ResolvedKey] = OrderedDict()

    def get(self, key: tuple[str, str, bool]) -> ResolvedKey | None:
        return self._entries.get(key)

    def put(self, key: tuple[str, str, bool], value: ResolvedKey) -> None:
        self._entries[key] = value
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


_hwk_cache = _HwkCache(_HWK_CACHE_SIZE)


def _select_label(
    inputs: Mapping[str, tuple[SignatureParams, str]],
    policy: VerificationPolicy,
    key_labels: list[str] | None,
) -> str:
    if policy.label is not None:
        if policy.label not in inputs:
            raise InvalidSignature(f"no signature labelled {policy.label!r}")
        return policy.label
    if policy.tag is not None:
        for label, (params, _) in inputs.items():
            if params.tag == policy.tag:
                return label
        raise InvalidSignature(f"no signature with tag {policy.tag!r}")
    if key_labels is not None:
        for label in inputs:
            if label in key_labels:
                return label
        raise InvalidSignature("no signature has a matching Signature-Key member")
    return next(iter(inputs))


def _check_coverage(
    message: HttpRequest | HttpResponse, params: SignatureParams, policy: VerificationPolicy
) -> None:
    required = list(policy.required_components)
    if isinstance(message, HttpRequest):
        if policy.require_query and urlsplit(message.target_uri).query:
            required.append("@query")
        if policy.require_content_digest and message.body:
            required.append("content-digest")
        required.extend(n for n in policy.covered_when_present if n in message.headers)
    covered = params.names
    missing = [name for name in required if name not in covered]
    if missing:
        raise InvalidInput(
            "the signature does not cover " + ", ".join(missing),
            required_input=list(dict.fromkeys(required)),
        )


def _check_times(params: SignatureParams, policy: VerificationPolicy) -> None:
    for name in policy.required_params:
        if params.get(name) is None:
            raise InvalidSignature(f"signature parameter {name!r} is required")
    now = policy.clock()
    created, expires = params.created, params.expires
    if created is not None:
        if created < now - policy.max_age:
            raise InvalidSignature("signature 'created' is outside the accepted window")
        if created > now + policy.max_future_skew:
            raise InvalidSignature("signature 'created' is in the future")
    if expires is not None and expires < now:
        raise InvalidSignature("signature has expired")


def _prepare(
    message: HttpRequest | HttpResponse,
    policy: VerificationPolicy,
    *,
    with_signature_key: bool,
) -> _Pending:
    headers = message.headers
    input_text = headers.get("signature-input")
    signature_text = headers.get("signature")
    key_text = headers.get("signature-key") if with_signature_key else ""
    if input_text is None or signature_text is None or key_text is None:
        missing = [
            name
            for name, value in (
                ("Signature-Input", input_text),
                ("Signature", signature_text),
                ("Signature-Key", key_text),
            )
            if value is None
        ]
        raise policy.missing_headers_error("missing " + ", ".join(missing))
    inputs = parse_signature_input(input_text)
    signatures = parse_signature(signature_text)
    if set(inputs) != set(signatures):
        raise InvalidSignature("Signature-Input and Signature labels differ")
    sk_header: SignatureKeyHeader | None = None
    cache_key: tuple[str, str, bool] | None = None
    cached: ResolvedKey | None = None
    if with_signature_key:
        assert key_text is not None
        label = _select_label(inputs, policy, None if len(inputs) == 1 else _key_labels(key_text))
        cache_key = (key_text, label, policy.allow_legacy_keys)
        cached = _hwk_cache.get(cache_key)
        if cached is None:
            sk_header = SignatureKeyHeader.parse(key_text)
    else:
        label = _select_label(inputs, policy, None)
    params, serialized = inputs[label]
    _check_coverage(message, params, policy)
    if with_signature_key and "signature-key" not in params.names:
        raise InvalidInput("signature-key must be covered", required_input=["signature-key"])
    _check_times(params, policy)
    member: SignatureKeyMember | None = None
    resolved: ResolvedKey | None = None
    if cached is not None:
        member, resolved = cached.member, cached
        require_supported(member, policy.accepted_schemes)
    elif sk_header is not None:
        member = sk_header.member(label)
        require_supported(member, policy.accepted_schemes)
        resolved = resolve_locally(
            member,
            allow_legacy=policy.allow_legacy_keys,
            now=policy.clock(),
            leeway=policy.jwt_leeway,
        )
        if isinstance(member, Hwk) and resolved is not None and cache_key is not None:
            _hwk_cache.put(cache_key, resolved)
    return _Pending(message, policy, label, params, serialized, signatures[label], member, resolved)


def _key_labels(key_text: str) -> list[str]:
    return SignatureKeyHeader.parse(key_text).labels


def _finish(
    pending: _Pending, key: VerifyingKey, resolved: ResolvedKey | None
) -> VerifiedSignature:
    policy, params = pending.policy, pending.params
    if key.algorithm.jose not in policy.accepted_algorithms:
        raise UnsupportedAlgorithm(
            f"algorithm {key.algorithm.jose} is not accepted", policy.accepted_algorithms
        )
    alg_param = params.get("alg")
    ignored = alg_param is None or policy.ignore_alg_parameter
    if not ignored and alg_param != key.algorithm.http_name:
        raise InvalidSignature(f"signature 'alg' {alg_param!r} does not match the key")
    keyid = params.keyid
    if keyid is not None and resolved is not None:
        names = {
            resolved.thumbprint,
            resolved.jwk.get("kid"),
            getattr(resolved.member, "kid", None),
        }
        if keyid not in names:
            raise InvalidKey("signature 'keyid' does not name the Signature-Key key")
    message = pending.message
    if "content-digest" in params.names:
        digest = message.headers.get("content-digest")
        if digest is None:
            raise InvalidSignature("content-digest is covered but absent")
        verify_content_digest(digest, message.body or b"")
    base = signature_base(message, params, pending.serialized)
    key.verify(pending.signature, base)
    return VerifiedSignature(pending.label, params, key, resolved)


def verify(
    message: HttpRequest | HttpResponse,
    key: VerifyingKey,
    *,
    policy: VerificationPolicy | None = None,
) -> VerifiedSignature:
    """Verify a plain RFC 9421 signature with a key the caller already knows.

    No ``Signature-Key`` is consulted. The default policy here requires nothing but a valid
    signature over the listed components (``created`` is checked when present); pass
    ``label`` through the policy to pick one of several signatures.
    """
    policy = policy or VerificationPolicy.generic(
        required_components=(),
        covered_when_present=(),
        require_query=False,
        require_content_digest=False,
        required_params=(),
        max_age=2**62,
    )
    pending = _prepare(message, policy, with_signature_key=False)
    return _finish(pending, key, None)


def verify_request(
    request: HttpRequest,
    policy: VerificationPolicy | None = None,
    resolver: KeyResolver | None = None,
) -> VerifiedSignature:
    """Verify a request whose key is named by ``Signature-Key``.

    ``hwk`` and ``jkt-jwt`` resolve here; any other accepted scheme needs ``resolver``.
    """
    policy = policy or VerificationPolicy.aauth()
    pending = _prepare(request, policy, with_signature_key=True)
    resolved = pending.resolved
    if resolved is None:
        member = pending.member
        assert member is not None
        if resolver is None:
            raise UnsupportedScheme(
                f"no resolver is configured for scheme {member.scheme!r}",
                _local_schemes(policy),
            )
        resolved = resolver.resolve(member)
    return _finish(pending, resolved.key, resolved)


async def averify_request(
    request: HttpRequest,
    policy: VerificationPolicy | None = None,
    resolver: AsyncKeyResolver | None = None,
) -> VerifiedSignature:
    """The asynchronous form of :func:`verify_request`."""
    policy = policy or VerificationPolicy.aauth()
    pending = _prepare(request, policy, with_signature_key=True)
    resolved = pending.resolved
    if resolved is None:
        member = pending.member
        assert member is not None
        if resolver is None:
            raise UnsupportedScheme(
                f"no resolver is configured for scheme {member.scheme!r}",
                _local_schemes(policy),
            )
        resolved = await resolver.resolve(member)
    return _finish(pending, resolved.key, resolved)


def _local_schemes(policy: VerificationPolicy) -> tuple[str, ...]:
    return tuple(s for s in policy.accepted_schemes if s in ("hwk", "jkt-jwt"))
