"""Password hashes for the people of a person server: scrypt, with its parameters stored.

A hash reads ``scrypt$n=131072,r=8,p=1$<salt hex>$<hash hex>``, so a stronger default
later still verifies every hash made before it, and :func:`needs_rehash` tells the login that
just succeeded to store a new one. Hashes of the first format (``scrypt$<salt>$<hash>``)
were made with N=2^14, r=8, p=1 and verify as such.

The default, N=2^17 and r=8, needs 128 MiB per hash (``128 * r * N`` bytes), so at most
:data:`MAX_CONCURRENT_HASHES` run at once: a burst of logins waits rather than exhausting
memory. Parameters read from a stored hash are bounded for the same reason.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass

__all__ = [
    "DEFAULT_SCRYPT",
    "LEGACY_SCRYPT",
    "MAX_CONCURRENT_HASHES",
    "ScryptParams",
    "decoy_hash",
    "hash_password",
    "is_password_hash",
    "needs_rehash",
    "verify_password",
]

MAX_CONCURRENT_HASHES = 2
_MAX_LOG2_N = 20
_DIGEST_BYTES = 32
_SALT_BYTES = 16
_HASHING = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
_PARAMS = re.compile(r"n=([0-9]{1,8}),r=([0-9]{1,2}),p=([0-9]{1,2})")


@dataclass(frozen=True)
class ScryptParams:
    """scrypt's cost: ``n`` (a power of two, 2^1 … 2^20), block size ``r``, parallelism ``p``."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not (1 < self.n <= 2**_MAX_LOG2_N and self.n & (self.n - 1) == 0):
            raise ValueError(f"scrypt n must be a power of two up to 2^{_MAX_LOG2_N}")
        if not (1 <= self.r <= 32 and 1 <= self.p <= 16):
            raise ValueError("scrypt r must be 1..32 and p 1..16")

    def encode(self) -> str:
        return f"n={self.n},r={self.r},p={self.p}"

    def derive(self, password: str, salt: bytes) -> bytes:
        with _HASHING:
            return hashlib.scrypt(
                password.encode("utf-8"),
                salt=salt,
                n=self.n,
                r=self.r,
                p=self.p,
                maxmem=256 * self.r * self.n + 2**20,  # 128 * r * n, with room to spare
                dklen=_DIGEST_BYTES,
            )


DEFAULT_SCRYPT = ScryptParams()
LEGACY_SCRYPT = ScryptParams(n=2**14)
"""What hashes without stored parameters (``scrypt$<salt>$<hash>``) were made with."""


def hash_password(
    password: str, params: ScryptParams = DEFAULT_SCRYPT, *, salt: bytes | None = None
) -> str:
    """``scrypt$n=…,r=…,p=…$<salt hex>$<hash hex>`` for ``password``."""
    salt = salt or secrets.token_bytes(_SALT_BYTES)
    digest = params.derive(password, salt)
    return f"scrypt${params.encode()}${salt.hex()}${digest.hex()}"


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes] | None:
    parts = stored.split("$")
    try:
        if len(parts) == 3 and parts[0] == "scrypt":
            return LEGACY_SCRYPT, bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        if len(parts) == 4 and parts[0] == "scrypt":
            match = _PARAMS.fullmatch(parts[1])
            if match is None:
                return None
            n, r, p = (int(group) for group in match.groups())
            return ScryptParams(n, r, p), bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
    except ValueError:
        return None
    return None


def is_password_hash(stored: str) -> bool:
    """Whether ``stored`` is a hash :func:`verify_password` can check."""
    return _parse(stored) is not None


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; False for a malformed hash (never raises)."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    params, salt, expected = parsed
    return hmac.compare_digest(params.derive(password, salt), expected)


def needs_rehash(stored: str, params: ScryptParams = DEFAULT_SCRYPT) -> bool:
    """Whether ``stored`` was made with other parameters than ``params``."""
    parsed = _parse(stored)
    return parsed is None or parsed[0] != params


def decoy_hash(params: ScryptParams = DEFAULT_SCRYPT) -> str:
    """A hash no password matches, costing ``params`` to check: unknown accounts take as long
    as known ones (computed without hashing anything)."""
    salt, digest = secrets.token_bytes(_SALT_BYTES), secrets.token_bytes(_DIGEST_BYTES)
    return f"scrypt${params.encode()}${salt.hex()}${digest.hex()}"
