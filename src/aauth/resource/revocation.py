"""A resource's revocation endpoint (protocol-10 §F.11): auth tokens revoked by their issuer.

The issuer of an auth token (the PS or AS named by its ``iss``) POSTs ``{"iss", "jti"}``,
signed as itself (``jwks_uri`` scheme, §I.5). Only the token's own issuer, among the issuers
this resource trusts, may revoke it (V-44); state is keyed by ``(iss, jti)`` and kept for the
longest an auth token can live (V-45). The request verifier then treats a revoked token as
absent, so the agent is challenged again and its PS decides anew.

Every request asks whether its token was revoked, so the answer "not revoked" is remembered
in memory; a revocation recorded anywhere bumps one generation record, read at most every
``recheck_after`` seconds, and a new generation forgets everything remembered (before the
first revocation there is nothing to look up at all). A revocation
made through this object applies at once; one made by another instance sharing the store
applies within ``recheck_after`` (1 s by default; 0 reads the store on every check).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from aauth_signing._cache import BoundedCache

from ..errors import Forbidden, InvalidRequest
from ..store.base import Store
from ..store.update import update_record
from ..tokens.auth import MAX_AUTH_TOKEN_LIFETIME
from .caller import VerifiedCaller

__all__ = ["RevokedTokens"]

_NS = "revoked"
_GENERATION = "\x00generation"
"""The record whose version counts revocations (no revoked pair has an empty issuer)."""
MAX_MEMBER = 512
_REMEMBERED = 4096


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
        recheck_after: float = 1.0,
    ) -> None:
        if recheck_after < 0:
            raise ValueError("recheck_after must be >= 0 seconds")
        self._store = store
        self._keep_for = keep_for
        self._ns = namespace
        self._clock = clock
        self._recheck_after = recheck_after
        self._not_revoked: BoundedCache[tuple[str, str], bool] = BoundedCache(_REMEMBERED)
        self._generation: int | None = None
        self._checked_at = -float("inf")

    def is_revoked(self, iss: str, jti: str) -> bool:
        now = self._clock()
        if now - self._checked_at >= self._recheck_after:
            self._recheck(now)
        if self._generation is None:  # nothing was ever revoked through this store
            return False
        pair = (iss, jti)
        if self._not_revoked.get(pair):
            return False
        revoked = self._store.get(self._ns, f"{iss}\x00{jti}") is not None
        if not revoked:
            self._not_revoked.put(pair, True)
        return revoked

    def _recheck(self, now: float) -> None:
        """Forget what is remembered when a revocation was recorded since the last look."""
        record = self._store.get(self._ns, _GENERATION)
        generation = None if record is None else record.version
        if generation != self._generation:
            self._not_revoked.clear()
            self._generation = generation
        self._checked_at = now

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
        self.record(iss, jti)

    def record(self, iss: str, jti: str) -> None:
        """Record ``(iss, jti)`` as revoked: for the issuer itself (a PS refusing its own
        revoked token when it comes back, §F.11), or once :meth:`revoke` has checked who
        asks."""
        self._store.create(self._ns, f"{iss}\x00{jti}", {}, self._clock() + self._keep_for)
        self._bump_generation()
        self._checked_at = -float("inf")  # the next check sees the new generation

    def _bump_generation(self) -> None:
        """Tell every instance sharing the store that a revocation was recorded (the record's
        version is the generation)."""
        update_record(self._store, self._ns, _GENERATION, lambda _: {})
