"""Which person servers an access server takes token requests from, and checking that a
request really comes from one of them (protocol-10 §F.7, phase 11).

A PS signs its requests to an AS as itself, with the ``jwks_uri`` scheme
(``id`` = its identifier, ``dwk`` = ``aauth-person.json``, §I.5). Trust is checked before any
key is fetched, so an untrusted PS costs the AS no discovery and is told plainly that it is
not trusted (403 ``insufficient_trust``); a trusted PS whose signature does not verify gets
the usual 401 ``Signature-Error`` (AS-02).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from aauth_signing import (
    HttpRequest,
    InvalidKey,
    InvalidSignature,
    JwksUri,
    ResolvedKey,
    SignatureKeyMember,
    UnsupportedScheme,
    VerificationPolicy,
    averify_request,
    jwk_thumbprint,
)
from aauth_signing.signer import NONCE_EXEMPT_METHODS

from ..errors import AAuthError, InsufficientTrust
from ..identifiers import server_host
from ..keysource import KeySource
from ..replay import ReplayGuard, replay_key
from ..tokens.wire import PERSON_DWK

__all__ = ["PersonServerVerifier"]

_ACCEPTED = ("jwks_uri",)


class _PersonServerKeys:
    """An :class:`aauth_signing.AsyncKeyResolver` for trusted person servers only."""

    def __init__(self, trusted: frozenset[str], keys: KeySource) -> None:
        self._trusted = trusted
        self._keys = keys

    async def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
        if not isinstance(member, JwksUri):
            raise UnsupportedScheme("a person server signs with the jwks_uri scheme", _ACCEPTED)
        if member.dwk != PERSON_DWK:
            raise InvalidKey(f"a person server's keys are found through {PERSON_DWK}")
        if member.id not in self._trusted:
            raise InsufficientTrust(
                f"person server {member.id[:100]!r} is not trusted by this access server"
            )
        try:
            key, jwk = await self._keys.aget_key(member.id, member.dwk, member.kid)
        except AAuthError as exc:
            raise InvalidKey(f"cannot obtain the person server's keys ({exc.code})") from None
        return ResolvedKey(key, member, jwk, jwk_thumbprint(jwk), member.id)


class PersonServerVerifier:
    """Verifies that a request to this AS was signed by a trusted person server.

    ``identifier`` is this AS (its host is the only ``@authority`` accepted); ``trusted`` the
    PS identifiers it takes requests from. State-changing requests go through ``replay``.
    """

    def __init__(
        self,
        identifier: str,
        trusted: Collection[str],
        keys: KeySource,
        replay: ReplayGuard,
        *,
        signature_window: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._authority = server_host(identifier).lower()
        self._resolver = _PersonServerKeys(frozenset(trusted), keys)
        self._replay = replay
        self._window = signature_window
        self._clock = clock
        self._policy = VerificationPolicy.aauth(
            accepted_schemes=_ACCEPTED, max_age=signature_window, max_future_skew=signature_window
        )

    async def averify(self, request: HttpRequest) -> str:
        """The identifier of the person server that signed ``request``.

        Raises a SignatureError (401) when the signature fails and InsufficientTrust (403)
        when the signer is not a trusted person server.
        """
        target = request.target
        if target.authority != self._authority:
            raise InvalidSignature(f"this access server does not answer to {target.authority!r}")
        verified = await averify_request(request, self._policy, self._resolver)
        resolved = verified.signature_key
        if resolved is None or resolved.signer is None:
            raise InvalidSignature("the signature names no person server")
        if request.method.upper() not in NONCE_EXEMPT_METHODS:
            key = replay_key(resolved.thumbprint, verified.base_digest)
            await self._replay.acheck_and_store(key, self._clock() + 2 * self._window)
        return resolved.signer
