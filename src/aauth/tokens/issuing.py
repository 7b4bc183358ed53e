"""What every token issuer does the same way: pick the signing key, stamp times and ``jti``, sign.

Issuers refuse to mint what a verifier would reject, so a misconfigured server fails at
issuance, not at its peers. Configuration mistakes (a lifetime over the protocol's maximum,
extra claims that shadow protocol claims) raise ``ValueError``; values that come from a
request raise :class:`~aauth.errors.InvalidRequest` (or ``InvalidScope``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from aauth_signing import SigningKey

from .. import jwt
from ..keys import KeySet, default_kid

__all__ = ["Signer", "sign_token"]

Signer = KeySet | SigningKey
"""An issuer's key: a :class:`~aauth.keys.KeySet` (its current key signs unless ``kid`` picks
another), or a bare key (``kid`` defaults to its thumbprint, as in a KeySet)."""


def sign_token(
    signer: Signer,
    *,
    kid: str | None,
    typ: str,
    claims: Mapping[str, Any],
    lifetime: int,
    max_lifetime: int,
    now: float | None,
    extra_claims: Mapping[str, Any] | None = None,
    exp_cap: float | None = None,
) -> str:
    """Add ``jti``, ``iat`` and ``exp`` (at most ``exp_cap``) to ``claims`` and sign them."""
    if not 0 < lifetime <= max_lifetime:
        raise ValueError(f"{typ} lifetime must be between 1 and {max_lifetime} seconds")
    if isinstance(signer, KeySet):
        key = signer.current if kid is None else signer.select(kid)
        kid = signer.current_kid if kid is None else kid
    else:
        key, kid = signer, kid or default_kid(signer)
    iat = int(time.time() if now is None else now)
    exp = iat + lifetime if exp_cap is None else min(iat + lifetime, int(exp_cap))
    if exp <= iat:
        raise ValueError(f"{typ} would expire before it is issued")
    body: dict[str, Any] = {}
    if extra_claims:
        body.update(extra_claims)
    clash = set(body).intersection(claims) | set(body).intersection({"jti", "iat", "exp"})
    if clash:
        raise ValueError(f"extra claims may not replace protocol claims {sorted(clash)}")
    body.update({k: v for k, v in claims.items() if v is not None})
    body.update(jti=secrets.token_urlsafe(16), iat=iat, exp=exp)
    return jwt.encode(body, key, typ=typ, kid=kid)
