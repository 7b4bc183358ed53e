"""A resource's revocation endpoint (protocol-10 §F.11): auth tokens revoked by their issuer.

The issuer of an auth token (the PS or AS named by its ``iss``) POSTs ``{"iss", "jti"}``,
signed as itself (``jwks_uri`` scheme, §I.5). Only the token's own issuer, among the issuers
this resource trusts, may revoke it (V-44); state is keyed by ``(iss, jti)`` and kept for the
longest an auth token can live (V-45). The request verifier then treats a revoked token as
absent, so the agent is challenged again and its PS decides anew.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ..errors import Forbidden, InvalidRequest
from ..store.base import Store
from ..tokens.auth import MAX_AUTH_TOKEN_LIFETIME
from .caller import VerifiedCaller

__all__ = ["RevokedTokens"]

_NS = "revoked"
MAX_MEMBER = 512


class RevokedTokens:
    """Revoked ``(iss, jti)`` pairs in ``store``, each kept ``keep_for`` seconds: until no such
    token can be alive (auth tokens by default; a PS keeps agent tokens' 24 h)."""

    def __init__(
        self,
        store: Store,
        *,
        keep_for: float = MAX_AUTH_TOKEN_LIFETIME,
        namespace: str = _NS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._keep_for = keep_for
        self._ns = namespace
        self._clock = clock

    def is_revoked(self, iss: str, jti: str) -> bool:
        return self._store.get(self._ns, f"{iss}\x00{jti}") is not None

    def revoke(
        self, caller: VerifiedCaller, body: Mapping[str, Any], trusted: Collection[str] | None
    ) -> None:
        """Record a revocation request from ``caller`` (verified), if it may make it: it signed
        as the token's issuer, one of ``trusted`` (None: any issuer whose keys were found)."""
        iss, jti = body.get("iss"), body.get("jti")
        if not (
            isinstance(iss, str)
            and isinstance(jti, str)
            and 0 < len(iss) <= MAX_MEMBER
            and 0 < len(jti) <= MAX_MEMBER
        ):
            raise InvalidRequest("a revocation needs string 'iss' and 'jti' (V-45)")
        signer = caller.signature.signer
        if signer != iss or (trusted is not None and iss not in trusted):
            raise Forbidden("only the token's issuer, trusted here, may revoke it (V-44)")
        self._store.create(self._ns, f"{iss}\x00{jti}", {}, self._clock() + self._keep_for)
