"""Creating signatures. Signing never mutates the caller's headers: it returns the headers
to add (or replace), so the same request object can be signed again or inspected.

Every method other than ``GET``, ``HEAD`` and ``OPTIONS`` is signed with a fresh RFC 9421
``nonce`` parameter (it lands in ``@signature-params``, so it is covered). A verifier's replay
guard keys on the signature base; without a nonce, two genuine identical POSTs made in the
same second would share one base, and the second would be refused as a replay of the first.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from binascii import b2a_base64
from collections.abc import Sequence
from functools import lru_cache

from ._rfc9421.base import SignatureParams, signature_base
from ._rfc9421.components import Component
from ._rfc9421.fields import merge_member
from ._structured import BareItem
from .algorithms import SigningKey
from .digest import content_digest
from .message import Fields, HeadersInput, HttpRequest, HttpResponse, TargetURI, split_target
from .signature_key import SignatureKeyHeader, SignatureKeyMember

__all__ = ["NONCE_EXEMPT_METHODS", "RequestSigner", "aauth_components", "sign", "sign_request"]

NONCE_EXEMPT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods signed without a nonce: safe methods, which replay guards do not track."""


def _nonce_for(method: str) -> str | None:
    """A fresh 128-bit nonce for a method a replay guard tracks; None for a safe one."""
    return None if method.upper() in NONCE_EXEMPT_METHODS else secrets.token_urlsafe(16)


def _as_component(value: str | Component) -> Component:
    """A Component from itself, a bare name (``@path``) or an identifier (``"x";sf``)."""
    if isinstance(value, Component):
        return value
    return Component.parse(value) if value.startswith('"') else Component(value)


def aauth_components(request: HttpRequest, extra: Sequence[str] = ()) -> list[str]:
    """The components AAuth covers for ``request`` (protocol-10 §C.2).

    ``@method @authority @path``, ``@query`` when there is a query, ``content-type`` and
    ``content-digest`` when there is a body, ``authorization``/``aauth-mission`` when sent,
    then ``extra``, and ``signature-key`` last.
    """
    names = ["@method", "@authority", "@path"]
    if request.target.query:
        names.append("@query")
    headers = request.headers
    if request.body:
        if "content-type" in headers:
            names.append("content-type")
        names.append("content-digest")
    for name in ("authorization", "aauth-mission"):
        if name in headers:
            names.append(name)
    names.extend(n for n in extra if n not in names and n != "signature-key")
    names.append("signature-key")
    return names


def sign(
    message: HttpRequest | HttpResponse,
    key: SigningKey,
    components: Sequence[str | Component],
    *,
    label: str = "sig",
    created: int | None = None,
    expires: int | None = None,
    nonce: str | None = None,
    keyid: str | None = None,
    tag: str | None = None,
    include_alg: bool = False,
) -> dict[str, str]:
    """RFC 9421 signing of any message with an explicit component list.

    Returns ``Signature-Input`` and ``Signature``; members already in the message are kept,
    so calling this twice with different labels produces a message with two signatures.
    ``created`` defaults to now; pass ``created=-1`` to omit it (RFC 9421 allows that,
    AAuth does not).
    """
    params: list[tuple[str, BareItem]] = []
    if created != -1:
        params.append(("created", int(time.time()) if created is None else created))
    if expires is not None:
        params.append(("expires", expires))
    if nonce is not None:
        params.append(("nonce", nonce))
    if include_alg:
        if key.algorithm.http_name is None:
            raise ValueError(f"{key.algorithm.jose} has no RFC 9421 algorithm name")
        params.append(("alg", key.algorithm.http_name))
    if keyid is not None:
        params.append(("keyid", keyid))
    if tag is not None:
        params.append(("tag", tag))
    sig_params = SignatureParams(tuple(_as_component(c) for c in components), tuple(params))
    serialized = sig_params.serialize()
    signature = key.sign(signature_base(message, sig_params, serialized))
    encoded = ":" + base64.b64encode(signature).decode("ascii") + ":"
    headers = message.headers
    return {
        "Signature-Input": merge_member(
            headers.get("signature-input"), label, serialized, "Signature-Input"
        ),
        "Signature": merge_member(headers.get("signature"), label, encoded, "Signature"),
    }


def sign_request(
    request: HttpRequest,
    key: SigningKey,
    signature_key: SignatureKeyMember | None,
    *,
    label: str = "sig",
    components: Sequence[str] | None = None,
    extra_components: Sequence[str] = (),
    created: int | None = None,
    expires: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a request the AAuth way and return every header to add.

    ``signature_key`` becomes the ``Signature-Key`` header; pass None when the request
    already carries a complete ``Signature-Key`` (several signatures: signature-key-08 wants
    the whole header in place before any signature is made). A ``Content-Digest`` is added
    for a body that has none. ``components`` overrides :func:`aauth_components`. ``nonce``
    defaults to a fresh random value for every method but GET, HEAD and OPTIONS.
    """
    added: dict[str, str] = {}
    if signature_key is not None:
        added["Signature-Key"] = SignatureKeyHeader.serialize({label: signature_key})
    if request.body and "content-digest" not in request.headers:
        added["Content-Digest"] = content_digest(request.body)
    prepared = request.with_headers(added) if added else request
    names = components if components is not None else aauth_components(prepared, extra_components)
    if nonce is None:
        nonce = _nonce_for(request.method)
    added.update(
        sign(prepared, key, names, label=label, created=created, expires=expires, nonce=nonce)
    )
    return added


class RequestSigner:
    """Signs many requests with one key and one ``Signature-Key`` member, fast.

    The ``Signature-Key`` value and the component identifiers are built once, and the
    signature base is assembled directly; the output is byte-identical to
    :func:`sign_request` (a test pins that).
    """

    __slots__ = ("_key", "_label", "_sign", "_signature_key")

    def __init__(self, key: SigningKey, signature_key: SignatureKeyMember, label: str = "sig"):
        self._key = key
        self._sign = key._sign  # same package: one method call less per request
        self._label = label
        self._signature_key = SignatureKeyHeader.serialize({label: signature_key})

    @property
    def signature_key(self) -> str:
        """The ``Signature-Key`` header value this signer sends."""
        return self._signature_key

    def sign(
        self,
        method: str,
        target_uri: str,
        headers: HeadersInput | None = None,
        body: bytes | None = None,
    ) -> dict[str, str]:
        """Headers to add to the request (never mutates ``headers``).

        A GET-like request (no body, no query, no headers that need covering) takes a fast
        path that builds the base directly; anything else goes through :func:`sign_request`.
        """
        target = _plain_target(target_uri)
        fields = Fields(headers) if headers else None
        if (
            body
            or target is None
            or (fields is not None and any(name in fields for name in _SLOW_PATH_FIELDS))
            or (method not in _METHODS and _VISIBLE.fullmatch(method) is None)
        ):
            request = HttpRequest(method, target_uri, fields or (), body)
            added = {"Signature-Key": self._signature_key}
            added.update(
                sign_request(request.with_headers(added), self._key, None, label=self._label)
            )
            return added
        params = f'("@method" "@authority" "@path" "signature-key");created={int(time.time())}'
        nonce = _nonce_for(method)
        if nonce is not None:
            params += f';nonce="{nonce}"'
        base = (
            f'"@method": {method}\n"@authority": {target.authority}\n"@path": {target.path}\n'
            f'"signature-key": {self._signature_key}\n"@signature-params": {params}'
        )
        signature = b2a_base64(self._sign(base.encode("ascii")), newline=False).decode("ascii")
        return {
            "Signature-Key": self._signature_key,
            "Signature-Input": f"{self._label}={params}",
            "Signature": f"{self._label}=:{signature}:",
        }


#: Fields that the fast path cannot cover (AAuth covers them) or would have to merge with.
_SLOW_PATH_FIELDS = ("authorization", "aauth-mission", "signature-input", "signature")
_VISIBLE = re.compile(r"[!-~]+")
_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "POST", "PUT", "PATCH"})


@lru_cache(maxsize=1024)
def _plain_target(target_uri: str) -> TargetURI | None:
    """The split target when the fast path can sign for it (visible ASCII, no query)."""
    target = split_target(target_uri)
    if target.query or _VISIBLE.fullmatch(target_uri) is None:
        return None
    return target
