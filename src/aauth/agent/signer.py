"""The agent's request signer: every request signed, AAuth's way, with the right key.

AAuth agents sign with the ``jwt`` scheme, presenting their agent token or, once they hold
one, the auth token for the resource (protocol-10 §C.5). ``hwk`` and ``jwks_uri`` remain
for the pseudonymous and identified phases that predate agent tokens.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from aauth_signing import (
    HttpRequest,
    Hwk,
    JwksUri,
    Jwt,
    RequestSigner,
    SignatureKeyMember,
    SigningKey,
    jwk_from_public_key,
    jwk_thumbprint,
    sign_request,
)
from aauth_signing.message import HeadersInput

__all__ = ["AAUTH_COVERED", "AgentSigner", "coverable"]

_SIGNER_CACHE = 32


class AgentSigner:
    """Signs requests for one agent key.

    >>> signer = AgentSigner(SigningKey.generate(), agent_token="eyJ...")  # doctest: +SKIP
    >>> headers = signer.sign("GET", "https://api.example/items")  # doctest: +SKIP
    """

    def __init__(
        self,
        key: SigningKey,
        agent_token: str | None = None,
        *,
        identity: JwksUri | None = None,
    ) -> None:
        if not isinstance(key, SigningKey):
            raise TypeError(
                f"key must be an aauth_signing.SigningKey (aauth.generate_key()), "
                f"not {type(key).__name__}"
            )
        if agent_token is not None and not isinstance(agent_token, str):
            raise TypeError(
                f"agent_token must be the agent token (a str) or None, not {agent_token!r}"
            )
        self.key = key
        self.agent_token = agent_token
        self.identity = identity
        self.jwk = jwk_from_public_key(key.public_key())
        self.thumbprint = jwk_thumbprint(self.jwk)
        self._signers: OrderedDict[str, RequestSigner] = OrderedDict()

    def member(self, scheme: str = "jwt", token: str | None = None) -> SignatureKeyMember:
        """The ``Signature-Key`` member for ``scheme`` (``jwt``, ``hwk`` or ``jwks_uri``)."""
        if scheme == "jwt":
            presented = token or self.agent_token
            if presented is None:
                raise ValueError("the jwt scheme needs an agent token or an auth token")
            return Jwt(presented)
        if scheme == "hwk":
            return Hwk.from_public_key(self.key.public_key())
        if scheme == "jwks_uri":
            if self.identity is None:
                raise ValueError("the jwks_uri scheme needs identity=JwksUri(id, dwk, kid)")
            return self.identity
        raise ValueError(f"unsupported signing scheme {scheme!r}")

    def _signer_for(self, member: SignatureKeyMember) -> RequestSigner:
        text = member.serialize()
        signer = self._signers.get(text)
        if signer is None:
            signer = RequestSigner(self.key, member)
            self._signers[text] = signer
            if len(self._signers) > _SIGNER_CACHE:
                self._signers.popitem(last=False)
        return signer

    def sign(
        self,
        method: str,
        url: str,
        headers: HeadersInput | None = None,
        body: bytes | None = None,
        *,
        scheme: str = "jwt",
        token: str | None = None,
        extra_components: Sequence[str] = (),
    ) -> dict[str, str]:
        """Headers to add: ``Signature-Key``, ``Signature-Input``, ``Signature`` and, for
        a body, ``Content-Digest``. ``extra_components`` are a resource's
        ``additional_signature_components`` as published (AG-05, V-46): ``@query`` and
        ``content-digest`` are covered when the request has a query or a body, a field when
        the request carries it."""
        member = self.member(scheme, token)
        if extra_components:  # the common case has none: keep the signer's fast path
            request = HttpRequest(method, url, headers or (), body)
            extra = coverable(request, extra_components)
            if extra:
                return sign_request(request, self.key, member, extra_components=extra)
        return self._signer_for(member).sign(method, url, headers, body)


#: Covered on every request, or added by the signer itself when the request has a query/body.
AAUTH_COVERED = frozenset(
    {"@method", "@authority", "@path", "signature-key", "@query", "content-digest"}
)


def coverable(request: HttpRequest, names: Sequence[str]) -> tuple[str, ...]:
    """The components of ``names`` this request must cover beyond what AAuth covers anyway:
    derived ones always, fields only when the request carries them (nothing to cover else)."""
    return tuple(
        name
        for name in dict.fromkeys(names)
        if name not in AAUTH_COVERED
        and (name.startswith("@") or request.headers.get(name) is not None)
    )
