"""Verifying signatures. Every path either returns a :class:`VerifiedSignature` describing
exactly what was checked, or raises a :class:`~aauth_signing.errors.SignatureError`.

The work is split so the same pure code serves sync and async callers: :func:`_prepare`
parses and checks everything that needs no key, the caller resolves the key (blocking or
awaiting), and :func:`_finish` checks the key and the signature.
"""

from __future__ import annotations

import hashlib
from binascii import Error as BinasciiError
from binascii import a2b_base64
from collections.abc import Mapping
from typing import Any, NamedTuple

from ._cache import BoundedCache
from ._rfc9421.base import SignatureParams, signature_base
from ._rfc9421.fields import parse_signature, parse_signature_input_shared
from ._structured import MAX_FIELD_LENGTH
from .algorithms import ALGORITHMS, VerifyingKey
from .digest import verify_content_digest
from .errors import (
    InvalidInput,
    InvalidKey,
    InvalidSignature,
    SignatureError,
    UnsupportedAlgorithm,
    UnsupportedScheme,
)
from .message import HttpRequest, HttpResponse
from .policy import VerificationPolicy
from .signature_key import (
    AsyncKeyResolver,
    Hwk,
    JktJwt,
    KeyResolver,
    ResolvedKey,
    SignatureKeyHeader,
    SignatureKeyMember,
    require_supported,
    resolve_locally,
)

__all__ = ["VerifiedSignature", "averify_request", "verify", "verify_request"]


class VerifiedSignature(NamedTuple):
    """A signature that verified, and what it covered (immutable).

    ``signature_key`` is set when the key came from ``Signature-Key``: its scheme, the JWK
    thumbprint, the signer identity and any JWT claims are there. ``signature`` is the raw
    signature value. ``base`` is the signature base, what was signed: the same for every
    valid encoding of one signature (ECDSA accepts both ``s`` and ``n - s``), so replay
    guards key on :attr:`base_digest` and never on ``signature``. A named tuple: one is
    built per verified request, and a tuple costs less than half of a frozen dataclass.
    """

    label: str
    params: SignatureParams
    key: VerifyingKey
    signature_key: ResolvedKey | None = None
    signature: bytes = b""
    base: bytes = b""

    @property
    def base_digest(self) -> bytes:
        """SHA-256 of the signature base, the replay key's material; computed on use, since
        only requests a replay guard tracks (unsafe methods) need it."""
        return hashlib.sha256(self.base).digest()

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


_build = tuple.__new__
"""Builds a named tuple from all its fields without the generated ``__new__`` (a Python
frame): half the cost, for the two built on every verification."""


class _Pending(NamedTuple):
    message: HttpRequest | HttpResponse
    policy: VerificationPolicy
    label: str
    params: SignatureParams
    serialized: str
    signature: bytes
    member: SignatureKeyMember | None
    resolved: ResolvedKey | None


_signature_keys: BoundedCache[tuple[str, str, bool], ResolvedKey | SignatureKeyMember] = (
    BoundedCache(1024)
)
"""``Signature-Key`` members by (header text, label, legacy flag): an ``hwk`` member resolved
(a pure function of the text), any other the parsed member. A client presents the same
header on every request, and parsing a long JWT string is the costliest part of a warm check."""


def _add_accept_lists(exc: SignatureError, policy: VerificationPolicy) -> None:
    """Give an error raised while resolving a key the lists the policy advertises."""
    if isinstance(exc, UnsupportedAlgorithm) and not exc.accepted:
        exc.accepted = policy.accepted_algorithms
    elif isinstance(exc, UnsupportedScheme) and not exc.accepted:
        exc.accepted = policy.accepted_schemes


def _select_label(
    inputs: Mapping[str, tuple[SignatureParams, str]],
    policy: VerificationPolicy,
    key_labels: list[str] | None,
) -> str:
    """By policy label, then tag, then the first label that has a Signature-Key member."""
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
    message: HttpRequest | HttpResponse,
    params: SignatureParams,
    policy: VerificationPolicy,
    with_signature_key: bool,
) -> None:
    """InvalidInput unless every required component is covered as a whole.

    A ``;key`` member or a ``;req`` value covers only part of (or another message's) field,
    so it does not satisfy a requirement for the field itself. ``signature-key`` must be
    covered whenever it supplies the key, whatever the policy says (V-03).
    """
    covered = params.whole
    if not covered.issuperset(policy.required_components) or (
        isinstance(message, HttpRequest) and _uncovered_conditionals(message, policy, covered)
    ):
        required = [*policy.required_components]
        if isinstance(message, HttpRequest):
            required.extend(_uncovered_conditionals(message, policy, frozenset()))
        missing = [name for name in required if name not in covered]
        raise InvalidInput(
            "the signature does not cover " + ", ".join(missing),
            required_input=list(dict.fromkeys(required)),
        )
    if with_signature_key and "signature-key" not in covered:
        raise InvalidInput("signature-key must be covered", required_input=["signature-key"])


def _uncovered_conditionals(
    request: HttpRequest, policy: VerificationPolicy, covered: frozenset[str]
) -> list[str]:
    """Components the policy requires because of what this request carries, less ``covered``."""
    headers = request.headers
    names = [n for n in policy.covered_when_present if n not in covered and headers.get_all(n)]
    if policy.require_query and "@query" not in covered and request.target.query:
        names.append("@query")
    if policy.require_content_digest and "content-digest" not in covered and request.body:
        names.append("content-digest")
    return names


def _check_required_params(params: SignatureParams, policy: VerificationPolicy) -> None:
    for name in policy.required_params:
        if params.get(name) is None:
            raise InvalidSignature(f"signature parameter {name!r} is required")


def _check_window(params: SignatureParams, policy: VerificationPolicy, now: float) -> None:
    created, expires = params.created, params.expires
    if created is not None:
        if created < now - policy.max_age:
            raise InvalidSignature("signature 'created' is outside the accepted window")
        if created > now + policy.max_future_skew:
            raise InvalidSignature("signature 'created' is in the future")
    if expires is not None and expires < now:
        raise InvalidSignature("signature has expired")


class _Plan(NamedTuple):
    """What one policy concluded about one single-signature ``Signature-Input`` text: every
    check that depends on nothing else passed. ``policy`` is held, so the id in the memo key
    cannot be reused by another policy while the entry lives. What still depends on the
    request: ``when_present`` (fields that must not be sent, being uncovered), ``query``
    and ``body`` (an uncovered ``@query``/``content-digest`` the policy would require)."""

    policy: VerificationPolicy
    label: str
    params: SignatureParams
    serialized: str
    prefix: str
    when_present: tuple[str, ...]
    query: bool
    body: bool


_plans: BoundedCache[tuple[int, str, bool], _Plan] = BoundedCache(1024)
"""Plans by (policy id, Signature-Input text, whether Signature-Key names the key): within a
second every request a client sends with the same components carries the same text."""


def _plan(
    policy: VerificationPolicy, params: SignatureParams, label: str, serialized: str
) -> _Plan:
    covered = params.whole
    return _Plan(
        policy,
        label,
        params,
        serialized,
        f"{label}=:",
        tuple(name for name in policy.covered_when_present if name not in covered),
        policy.require_query and "@query" not in covered,
        policy.require_content_digest and "content-digest" not in covered,
    )


def _read_signature(plan: _Plan, text: str) -> bytes:
    """The signature of the plan's label: the canonical one-member ``Signature`` value
    (``label=:base64:``) is decoded directly, anything else goes through the full parser."""
    prefix = plan.prefix
    if len(prefix) < len(text) <= MAX_FIELD_LENGTH and text.startswith(prefix) and text[-1] == ":":
        try:
            return a2b_base64(text[len(prefix) : -1], strict_mode=True)
        except BinasciiError:
            pass  # not strict base64, or a second member: the parser decides
    signatures = parse_signature(text)
    if len(signatures) != 1 or plan.label not in signatures:
        raise InvalidSignature("Signature-Input and Signature labels differ")
    return signatures[plan.label]


def _violates(plan: _Plan, message: HttpRequest | HttpResponse) -> bool:
    """Whether ``message`` carries something ``plan``'s signature should have covered."""
    if not isinstance(message, HttpRequest):
        return False
    if plan.when_present and not message.headers._index.keys().isdisjoint(plan.when_present):
        return True
    return (plan.query and bool(message.target.query)) or (plan.body and bool(message.body))


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
        found = (
            ("Signature-Input", input_text),
            ("Signature", signature_text),
            ("Signature-Key", key_text),
        )
        missing = ", ".join(name for name, value in found if value is None)
        error = policy.missing_headers_error("missing " + missing)
        if with_signature_key:
            error.advertised_schemes = policy.accepted_schemes
        raise error
    plan_key = (id(policy), input_text, with_signature_key)
    plan = _plans.get(plan_key)
    if plan is not None and plan.policy is policy:
        label, params, serialized = plan.label, plan.params, plan.serialized
        signature = _read_signature(plan, signature_text)
        if _violates(plan, message):
            _check_coverage(message, params, policy, with_signature_key)  # raises
        sk_header: SignatureKeyHeader | None = None
    else:
        inputs = parse_signature_input_shared(input_text)
        signatures = parse_signature(signature_text)
        if len(inputs) != len(signatures) or not inputs.keys() <= signatures.keys():
            raise InvalidSignature("Signature-Input and Signature labels differ")
        if not inputs:
            raise InvalidSignature("Signature-Input has no signature")
        sk_header = None
        single = len(inputs) == 1 and policy.label is None and policy.tag is None
        if single:
            (label,) = inputs
        else:
            if with_signature_key:
                sk_header = SignatureKeyHeader.parse(key_text)
            label = _select_label(inputs, policy, sk_header.labels if sk_header else None)
        params, serialized = inputs[label]
        signature = signatures[label]
        _check_coverage(message, params, policy, with_signature_key)
        _check_required_params(params, policy)
        if single:
            _plans.put(plan_key, _plan(policy, params, label, serialized))
    now = policy.clock()
    created = params.created
    if (
        created is None
        or params.expires is not None
        or not now - policy.max_age <= created <= now + policy.max_future_skew
    ):
        _check_window(params, policy, now)  # raises unless an unbounded case is fine
    if not with_signature_key:
        return _Pending(message, policy, label, params, serialized, signature, None, None)
    cache_key = (key_text, label, policy.allow_legacy_keys)
    entry = _signature_keys.get(cache_key)
    member: SignatureKeyMember
    resolved: ResolvedKey | None
    try:
        if entry is None:
            header = sk_header or SignatureKeyHeader.parse(key_text)
            member = header.member(label, policy.accepted_schemes)
            require_supported(member, policy.accepted_schemes)
            resolved = resolve_locally(
                member, allow_legacy=policy.allow_legacy_keys, now=now, leeway=policy.jwt_leeway
            )
            if isinstance(member, Hwk) and resolved is not None:
                _signature_keys.put(cache_key, resolved)
            else:
                _signature_keys.put(cache_key, member)
        else:
            if isinstance(entry, ResolvedKey):
                member, resolved = entry.member, entry
            else:
                member, resolved = entry, None
            if member.scheme not in policy.accepted_schemes:
                require_supported(member, policy.accepted_schemes)
            if isinstance(member, JktJwt):  # its times are checked on every request
                resolved = resolve_locally(
                    member, allow_legacy=policy.allow_legacy_keys, now=now, leeway=policy.jwt_leeway
                )
    except SignatureError as exc:
        _add_accept_lists(exc, policy)
        raise
    return _build(
        _Pending, (message, policy, label, params, serialized, signature, member, resolved)
    )


def _finish(
    pending: _Pending, key: VerifyingKey, resolved: ResolvedKey | None
) -> VerifiedSignature:
    policy, params = pending.policy, pending.params
    if key.algorithm.jose not in policy.accepted_algorithms:
        raise UnsupportedAlgorithm(
            f"algorithm {key.algorithm.jose} is not accepted", policy.accepted_algorithms
        )
    if not policy.ignore_alg_parameter:
        alg = params.get("alg")
        if alg is not None and alg != key.algorithm.http_name:
            raise InvalidSignature(f"signature 'alg' {alg!r} does not match the key")
    if params.keyid is not None and resolved is not None:
        names = {
            resolved.thumbprint,
            resolved.jwk.get("kid"),
            getattr(resolved.member, "kid", None),
        }
        if params.keyid not in names:
            raise InvalidKey("signature 'keyid' does not name the Signature-Key key")
    message = pending.message
    if "content-digest" in params.names:
        digest = message.headers.get("content-digest")
        if digest is None:
            raise InvalidSignature("content-digest is covered but absent")
        verify_content_digest(digest, message.body or b"")
    base = signature_base(message, params, pending.serialized)
    key.verify(pending.signature, base)
    return _build(
        VerifiedSignature, (pending.label, params, key, resolved, pending.signature, base)
    )


_PLAIN_POLICY = VerificationPolicy.generic(
    required_components=(),
    covered_when_present=(),
    require_query=False,
    require_content_digest=False,
    required_params=(),
    max_age=2**62,
    accepted_algorithms=tuple(ALGORITHMS),
    accepted_schemes=(),  # Signature-Key is never read here, so HMAC keys are allowed
)


def verify(
    message: HttpRequest | HttpResponse,
    key: VerifyingKey,
    *,
    policy: VerificationPolicy | None = None,
) -> VerifiedSignature:
    """Verify a plain RFC 9421 signature with a key the caller already knows.

    No ``Signature-Key`` is consulted. The default policy here requires nothing but a valid
    signature over the listed components (``created`` is checked when present) and accepts
    whatever algorithm ``key`` is bound to, HMAC included, because the caller chose the key.
    Pass a policy with ``label`` or ``tag`` to pick one of several signatures.
    """
    policy = policy or _PLAIN_POLICY
    pending = _prepare(message, policy, with_signature_key=False)
    return _finish(pending, key, None)


def _unresolvable(pending: _Pending) -> UnsupportedScheme:
    """The error for a member that needs a resolver when none is configured."""
    member = pending.member
    scheme = member.scheme if member is not None else "?"
    local = tuple(s for s in pending.policy.accepted_schemes if s in ("hwk", "jkt-jwt"))
    return UnsupportedScheme(f"no resolver is configured for scheme {scheme!r}", local)


def verify_request(
    request: HttpRequest,
    policy: VerificationPolicy | None = None,
    resolver: KeyResolver | None = None,
) -> VerifiedSignature:
    """Verify a request whose key is named by ``Signature-Key``.

    ``hwk`` and ``jkt-jwt`` resolve here; any other accepted scheme needs ``resolver``.

    >>> verified = verify_request(request, VerificationPolicy.aauth(), resolver)  # doctest: +SKIP
    >>> verified.signer, verified.claims  # doctest: +SKIP
    """
    policy = policy or VerificationPolicy.aauth()
    pending = _prepare(request, policy, with_signature_key=True)
    resolved = pending.resolved
    if resolved is None:
        if resolver is None or pending.member is None:
            raise _unresolvable(pending)
        try:
            resolved = resolver.resolve(pending.member)
        except SignatureError as exc:
            _add_accept_lists(exc, policy)
            raise
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
        if resolver is None or pending.member is None:
            raise _unresolvable(pending)
        try:
            resolved = await resolver.resolve(pending.member)
        except SignatureError as exc:
            _add_accept_lists(exc, policy)
            raise
    return _finish(pending, resolved.key, resolved)
