"""Directed subject identifiers: one person, a different ``sub`` at every resource (§D.3).

``sub`` is an HMAC of the person and the resource under a secret kept in the store, so it is
stable for a (person, resource) pair, across restarts too, and two resources comparing their
``sub`` values learn nothing: without the secret one cannot be derived from the other.
"""

from __future__ import annotations

import hashlib
import hmac

from aauth_signing import b64url_encode

from ..store.base import Store
from .server_secrets import stored_secret

__all__ = ["PairwiseSubjects"]


class PairwiseSubjects:
    """Pairwise ``sub`` values under this store's secret (created on first use)."""

    def __init__(self, store: Store) -> None:
        self._secret = stored_secret(store, "pairwise-secret")

    def subject(self, person_id: str, resource: str) -> str:
        """The ``sub`` for ``person_id`` at ``resource``."""
        message = f"{person_id}\x00{resource}".encode()
        return b64url_encode(hmac.new(self._secret, message, hashlib.sha256).digest())
