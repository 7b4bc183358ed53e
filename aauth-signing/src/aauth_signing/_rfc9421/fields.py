"""Parsing and building the ``Signature-Input`` and ``Signature`` fields (RFC 9421 §4)."""

from __future__ import annotations

from collections.abc import Mapping

from .._cache import BoundedCache
from .._structured import fast_names, fast_signature, fast_signature_input, parse_dictionary
from ..errors import InvalidSignature
from .base import SignatureParams
from .components import Component

__all__ = [
    "merge_member",
    "parse_signature",
    "parse_signature_input",
    "parse_signature_input_shared",
]

_FAST_INPUTS: BoundedCache[str, dict[str, tuple[SignatureParams, str]]] = BoundedCache(512)


def parse_signature_input(text: str) -> dict[str, tuple[SignatureParams, str]]:
    """label → (parameters, canonical serialization of the member)."""
    return dict(parse_signature_input_shared(text))


def parse_signature_input_shared(text: str) -> Mapping[str, tuple[SignatureParams, str]]:
    """:func:`parse_signature_input` for callers that never mutate the result.

    Within one second every request with the same covered components carries the same
    value, so the canonical single-signature form is memoised by its text and shared.
    """
    cached = _FAST_INPUTS.get(text)
    if cached is not None:
        return cached
    fast = fast_signature_input(text)
    if fast is not None:
        label, inner, fast_params, serialized = fast
        params = SignatureParams(tuple(Component(n) for n in fast_names(inner)), fast_params)
        parsed = {label: (params, serialized)}
        _FAST_INPUTS.put(text, parsed)
        return parsed
    result: dict[str, tuple[SignatureParams, str]] = {}
    for label, entry in parse_dictionary(text, "Signature-Input", InvalidSignature).items():
        if not isinstance(entry, tuple) or not isinstance(entry[0], list):
            raise InvalidSignature(f"Signature-Input member {label!r} is not an inner list")
        items, raw_params = entry
        components: list[Component] = []
        for item in items:
            value, item_params = item if isinstance(item, tuple) else (item, {})
            if not isinstance(value, str):
                raise InvalidSignature(f"Signature-Input {label!r} lists a non-string component")
            components.append(Component(value, tuple(item_params.items())))
        params = SignatureParams(tuple(components), tuple(raw_params.items()))
        result[label] = (params, params.serialize())
    return result


def parse_signature(text: str) -> dict[str, bytes]:
    """label → raw signature bytes."""
    fast = fast_signature(text)
    if fast is not None:
        return {fast[0]: fast[1]}
    result: dict[str, bytes] = {}
    for label, entry in parse_dictionary(text, "Signature", InvalidSignature).items():
        value = entry[0] if isinstance(entry, tuple) else entry
        if not isinstance(value, bytes):
            raise InvalidSignature(f"Signature member {label!r} is not a byte sequence")
        result[label] = value
    return result


def merge_member(existing: str | None, label: str, member: str, field: str) -> str:
    """``existing`` dictionary text plus one new member (a label may not be reused)."""
    if not existing:
        return f"{label}={member}"
    current: Mapping[str, object] = parse_dictionary(existing, field, InvalidSignature)
    if label in current:
        raise InvalidSignature(f"{field} already has a member labelled {label!r}")
    return f"{existing}, {label}={member}"
