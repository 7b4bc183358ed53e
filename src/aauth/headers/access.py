"""``AAuth-Access`` and ``Authorization: AAuth`` (protocol-10 §E.3): a resource's session token.

The resource hands out an opaque ``token68`` in ``AAuth-Access``; the agent returns it as
``Authorization: AAuth <token68>`` inside a signed request. It is never a bearer token, so
parsing is strict: one credential, exactly token68, nothing else (RS-15).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aauth_signing._structured import MAX_FIELD_LENGTH

from ._common import HeaderError

__all__ = [
    "ACCESS_HEADER",
    "AUTHORIZATION_SCHEME",
    "build_access",
    "build_authorization",
    "parse_access",
    "parse_authorization",
]

ACCESS_HEADER = "AAuth-Access"
AUTHORIZATION_SCHEME = "AAuth"

_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _is_token68(value: str) -> bool:
    return len(value) <= MAX_FIELD_LENGTH and _TOKEN68.fullmatch(value) is not None


def build_access(token: str) -> str:
    """The ``AAuth-Access`` value; ValueError unless ``token`` is one token68."""
    if not _is_token68(token):
        raise ValueError("an AAuth-Access token must be a token68")
    return token


def parse_access(value: str) -> str:
    """The session token from ``AAuth-Access`` (the agent must switch to it, AG-27)."""
    token = value.strip(" \t")
    if not _is_token68(token):
        raise HeaderError("AAuth-Access must be exactly one token68")
    return token


def build_authorization(token: str) -> str:
    """``AAuth <token68>``; the signature must then cover ``authorization`` (AG-04)."""
    return f"{AUTHORIZATION_SCHEME} {build_access(token)}"


def parse_authorization(lines: str | Sequence[str]) -> str:
    """The token68 of the one ``Authorization: AAuth`` credential.

    ``lines`` is the field value or every ``Authorization`` field line of the request; several
    lines, a comma-joined value, an empty or malformed credential, or another scheme (matched
    case-insensitively) raise HeaderError (RS-15).
    """
    values = [lines] if isinstance(lines, str) else list(lines)
    if len(values) != 1:
        raise HeaderError("expected exactly one Authorization field line (RS-15)")
    value = values[0].strip(" \t")
    if "," in value:
        raise HeaderError("Authorization carries more than one credential (RS-15)")
    scheme, _, credential = value.partition(" ")
    if not scheme.isascii() or scheme.lower() != AUTHORIZATION_SCHEME.lower():
        raise HeaderError("the Authorization scheme is not AAuth")
    token = credential.lstrip(" ")
    if not _is_token68(token):
        raise HeaderError("the AAuth credential must be exactly one token68 (RS-15)")
    return token
