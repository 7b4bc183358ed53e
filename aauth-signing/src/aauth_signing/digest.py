"""RFC 9530 ``Content-Digest``: create it for a body and check a received body against it.

Only ``sha-256`` and ``sha-512`` are accepted; the deprecated algorithms the registry still
lists (md5, sha, crc32c …) never count as integrity.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from ._structured import parse_dictionary, serialize_bare_item
from .errors import InvalidSignature

__all__ = ["DIGEST_ALGORITHMS", "content_digest", "verify_content_digest"]

DIGEST_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def content_digest(body: bytes, algorithms: Sequence[str] = ("sha-256",)) -> str:
    """The ``Content-Digest`` value for ``body`` (an empty body digests the empty string)."""
    members = []
    for name in algorithms:
        if name not in DIGEST_ALGORITHMS:
            raise ValueError(f"unsupported digest algorithm {name!r}")
        members.append(f"{name}={serialize_bare_item(DIGEST_ALGORITHMS[name](body).digest())}")
    return ", ".join(members)


def verify_content_digest(
    header: str, body: bytes, accepted: Sequence[str] = ("sha-256", "sha-512")
) -> None:
    """Raise InvalidSignature unless every accepted digest in ``header`` matches ``body``.

    At least one accepted algorithm must be present; unknown members are ignored, known but
    insecure ones do not count.
    """
    members = parse_dictionary(header, "Content-Digest", InvalidSignature)
    checked = 0
    for name in accepted:
        if name not in members:
            continue
        entry = members[name]
        value = entry[0] if isinstance(entry, tuple) else entry
        if not isinstance(value, bytes):
            raise InvalidSignature(f"Content-Digest {name} is not a byte sequence")
        if not hmac.compare_digest(DIGEST_ALGORITHMS[name](body).digest(), value):
            raise InvalidSignature(f"the body does not match its Content-Digest ({name})")
        checked += 1
    if not checked:
        raise InvalidSignature(
            "Content-Digest carries no accepted algorithm (" + ", ".join(accepted) + ")"
        )
