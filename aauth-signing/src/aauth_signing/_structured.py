"""RFC 8941 structured fields: parsing through http-sf, plus exact canonical output.

http-sf does the parsing. The signature headers AAuth signers emit are always canonical, so
``Signature-Input`` and ``Signature`` values in that form take an anchored-regex fast path whose
result is identical to http-sf's (a property test pins that); anything else goes to http-sf.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any, TypeAlias

import http_sf
from http_sf.types import BareItemType, DictionaryType

from .errors import SignatureError

__all__ = [
    "MAX_FIELD_LENGTH",
    "BareItem",
    "Params",
    "fast_names",
    "fast_signature",
    "fast_signature_input",
    "parse_dictionary",
    "parse_list",
    "serialize_bare_item",
    "serialize_params",
    "serialize_string",
]

BareItem: TypeAlias = BareItemType
Params: TypeAlias = tuple[tuple[str, BareItem], ...]

#: Upper bound for any structured header we parse: a Signature-Key carrying a JWT fits easily,
#: while a hostile multi-megabyte header is refused before the parser sees it.
MAX_FIELD_LENGTH = 16 * 1024

_KEY = r"[a-z*][a-z0-9_\-.*]*"
_PLAIN_STRING = r'"[ !#-\[\]-~]*"'
_COMPONENT = r'"[!#-\[\]-~]*"'  # a plain String without spaces, so " " splits the list
_INTEGER = r"(?:0|[1-9][0-9]{0,14})"
_FAST_SIGNATURE_INPUT = re.compile(
    rf"({_KEY})=\(((?:{_COMPONENT}(?: {_COMPONENT})*)?)\)"
    rf"((?:;{_KEY}=(?:{_INTEGER}|{_PLAIN_STRING}))*)"
)
_FAST_PARAM = re.compile(rf";({_KEY})=({_INTEGER}|{_PLAIN_STRING})")
_LABEL = re.compile(_KEY)


def _check_length(text: str, field: str, error: type[SignatureError]) -> bytes:
    if len(text) > MAX_FIELD_LENGTH:
        raise error(f"{field} is longer than {MAX_FIELD_LENGTH} characters")
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise error(f"{field} contains non-ASCII characters") from None


def parse_dictionary(
    text: str, field: str, error: type[SignatureError] = SignatureError
) -> DictionaryType:
    """Parse an SF Dictionary; any syntax problem raises ``error`` naming the field."""
    data = _check_length(text, field, error)
    try:
        parsed = http_sf.parse(data, tltype="dictionary", on_duplicate_key=None)
    except http_sf.StructuredFieldError as exc:
        raise error(f"{field} is not a valid structured dictionary: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise error(f"{field} is not a valid structured dictionary: {exc}") from None
    assert isinstance(parsed, dict)
    return parsed


def parse_list(text: str, field: str, error: type[SignatureError] = SignatureError) -> list[Any]:
    """Parse an SF List; any syntax problem raises ``error`` naming the field.

    The signature headers are all Dictionaries; ``aauth.headers`` uses this for the List
    headers (``AAuth-Capabilities``, ``Accept-Signature-*``) so both share one parser setup.
    """
    data = _check_length(text, field, error)
    try:
        parsed = http_sf.parse(data, tltype="list")
    except (http_sf.StructuredFieldError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise error(f"{field} is not a valid structured list: {exc}") from None
    assert isinstance(parsed, list)
    return parsed


def fast_signature_input(text: str) -> tuple[str, str, Params, str] | None:
    """(label, inner list text, params, member text) for a one-member canonical value.

    Returns None when the value is not in the simple canonical form (parameterless
    components, Integer and String parameters); the caller then parses with http-sf. For a
    match, the member text *is* its canonical serialization, and :func:`fast_names` splits
    the inner list text.
    """
    match = _FAST_SIGNATURE_INPUT.fullmatch(text) if len(text) <= MAX_FIELD_LENGTH else None
    if match is None:
        return None
    label, inner, param_text = match.groups()
    params: tuple[tuple[str, BareItem], ...]
    if param_text.count(";") == 1:  # one parameter, typically just ``created``
        key, _, raw = param_text[1:].partition("=")
        params = ((key, raw[1:-1] if raw[0] == '"' else int(raw)),)
    else:
        params = tuple(
            (key, raw[1:-1] if raw[0] == '"' else int(raw))
            for key, raw in _FAST_PARAM.findall(param_text)
        )
        if len({k for k, _ in params}) != len(params):
            return None  # duplicate parameters: let http-sf apply its last-wins rule
    return label, inner, params, text[len(label) + 1 :]


def fast_names(inner: str) -> tuple[str, ...]:
    """The component names of an inner list text that :func:`fast_signature_input` matched."""
    return tuple([part[1:-1] for part in inner.split(" ")]) if inner else ()


def _plain_label(label: str) -> bool:
    """``a``-``z`` only: always a valid key, checked without the regex (labels are short)."""
    return label.isascii() and label.isalpha() and label.islower()


def fast_signature(text: str) -> tuple[str, bytes] | None:
    """(label, signature bytes) for a one-member canonical ``Signature`` value, else None."""
    label, _, value = text.partition("=")
    if (
        len(text) > MAX_FIELD_LENGTH
        or len(value) < 2
        or value[0] != ":"
        or value[-1] != ":"
        or not (_plain_label(label) or _LABEL.fullmatch(label))
    ):
        return None
    try:
        return label, binascii.a2b_base64(value[1:-1], strict_mode=True)
    except ValueError:
        return None  # not padded base64 (or a second member): http-sf decides


_PRINTABLE = re.compile(r"[ -~]*")


def serialize_string(value: str) -> str:
    """An SF String; raises ValueError for characters RFC 8941 cannot carry."""
    if _PRINTABLE.fullmatch(value) is None:
        raise ValueError(f"{value!r} cannot be carried in a structured string")
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def serialize_bare_item(value: BareItem) -> str:
    """Canonical RFC 8941 serialization of one bare item."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, str):
        return serialize_string(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    return http_sf.ser(value)


def serialize_params(params: Iterable[tuple[str, BareItem]]) -> str:
    """Parameters in order; a true Boolean is the bare key (``;cache``)."""
    out = []
    for key, value in params:
        if value is True:
            out.append(f";{key}")
        else:
            out.append(f";{key}={serialize_bare_item(value)}")
    return "".join(out)
