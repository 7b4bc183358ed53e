"""Interaction codes (protocol-10 §F.5): short, typed by a person, correlation only.

Eight Crockford base32 symbols from the OS CSPRNG (40 bits), shown as ``XXXX-XXXX``.
Comparison is forgiving the way a person types: hyphens dropped, case ignored, ``I``/``L``
read as ``1`` and ``O`` as ``0``.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["ALPHABET", "generate_code", "normalize_code"]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SYMBOLS = 8
_FOLD = str.maketrans({"I": "1", "L": "1", "O": "0"})
_VALID = re.compile(f"[{ALPHABET}]{{{_SYMBOLS},32}}")


def generate_code(symbols: int = _SYMBOLS) -> str:
    """A fresh code such as ``7QKX-3MPD`` (at least 8 symbols, ≥ 40 bits)."""
    if symbols < _SYMBOLS:
        raise ValueError("interaction codes need at least 8 symbols (40 bits)")
    raw = "".join(secrets.choice(ALPHABET) for _ in range(symbols))
    return "-".join(raw[i : i + 4] for i in range(0, symbols, 4))


def normalize_code(text: str) -> str | None:
    """The canonical form of a typed code, or None when it cannot be a code."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    folded = text.replace("-", "").replace(" ", "").upper().translate(_FOLD)
    return folded if _VALID.fullmatch(folded) else None
