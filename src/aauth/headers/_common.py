"""Shared plumbing for the protocol headers: one error type, structured-field access.

Parsing goes through ``aauth_signing._structured`` (http-sf with a length cap), so every header
here has the same limits, and any failure surfaces as :class:`HeaderError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aauth_signing import SignatureError
from aauth_signing._structured import parse_dictionary, parse_list, serialize_bare_item
from http_sf import Token

from ..errors import InvalidRequest

__all__ = [
    "HeaderError",
    "dictionary",
    "inner_strings",
    "member",
    "serialize_tokens",
    "sf_list",
    "string_param",
    "token_of",
    "tokens",
    "visible_ascii",
]

Params = dict[str, Any]

_VISIBLE = re.compile(r"[!-~]+")


class HeaderError(InvalidRequest):
    """A protocol header is malformed; raised by every parser in :mod:`aauth.headers`.

    It is an ``invalid_request`` (400), so a server can render it directly; a client that
    gets it from a response treats the response as unusable (fail closed).
    """


def dictionary(text: str, field: str) -> dict[str, Any]:
    """An SF Dictionary, or HeaderError naming ``field``."""
    try:
        return parse_dictionary(text, field)
    except SignatureError as exc:
        raise HeaderError(exc.description) from None


def sf_list(text: str, field: str) -> list[Any]:
    """An SF List, or HeaderError naming ``field``."""
    try:
        return parse_list(text, field)
    except SignatureError as exc:
        raise HeaderError(exc.description) from None


def tokens(text: str, field: str) -> tuple[str, ...]:
    """The bare Tokens of an SF List, in order without repeats; other members and all
    parameters are ignored, as the headers using this require of recipients."""
    found = (token_of(member(entry)[0]) for entry in sf_list(text, field))
    return tuple(dict.fromkeys(t for t in found if t is not None))


def member(entry: Any) -> tuple[Any, Params]:
    """(value, parameters) of a parsed Dictionary/List member; inner lists keep their list."""
    if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], dict):
        return entry[0], entry[1]
    return entry, {}


def token_of(value: Any) -> str | None:
    """The text of an SF Token, else None (Strings and other items are not Tokens)."""
    return str(value) if isinstance(value, Token) else None


def string_param(params: Params, key: str, field: str) -> str | None:
    """A String parameter: None when absent, HeaderError when present with another type."""
    if key not in params:
        return None
    value = params[key]
    if not isinstance(value, str):
        raise HeaderError(f"{field} parameter {key!r} must be a string")
    return value


def inner_strings(entry: Any, field: str, *, tokens: bool = False) -> tuple[str, ...]:
    """An Inner List of Strings (or Tokens too, when ``tokens``) as a tuple."""
    items, _ = member(entry)
    if not isinstance(items, list):
        raise HeaderError(f"{field} must be an inner list")
    out: list[str] = []
    for item in items:
        value, _ = member(item)
        if isinstance(value, str):
            out.append(value)
        elif tokens and isinstance(value, Token):
            out.append(str(value))
        else:
            raise HeaderError(f"{field} must list strings")
    return tuple(out)


def serialize_tokens(values: Iterable[str], field: str) -> str:
    """A non-empty SF List of Tokens; ValueError for an empty list or a non-token value."""
    out = [serialize_bare_item(Token(v)) for v in values]
    if not out:
        raise ValueError(f"{field} needs at least one value; omit the header instead")
    return ", ".join(out)


def visible_ascii(value: str) -> bool:
    """True for one or more visible ASCII characters: no space, control or non-ASCII."""
    return _VISIBLE.fullmatch(value) is not None
