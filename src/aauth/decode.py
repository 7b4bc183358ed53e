"""Human-readable views of AAuth values for ``aauth decode`` and the demos.

Nothing here verifies anything: a decoded token is shown as the issuer claims it, and says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from aauth_signing import (
    InvalidSignature,
    SignatureError,
    SignatureKeyHeader,
    UnknownScheme,
    parse_signature,
    parse_signature_input,
)

from .errors import AAuthError, InvalidToken
from .headers import find_requirement, parse_mission, parse_signature_error
from .jwt import peek

__all__ = ["DecodeError", "describe", "describe_lines", "is_header_line"]


class DecodeError(ValueError):
    """The value is not something :func:`describe` can show; the message says why."""


class _BadToken(DecodeError):
    """A header that parses, carrying a token that does not: said as such, not "unknown"."""


def _jwt(value: str) -> dict[str, Any]:
    header, claims = peek(value)
    return {"kind": "jwt (unverified)", "header": header, "claims": claims}


def _embedded_jwt(value: str, where: str) -> dict[str, Any]:
    try:
        return _jwt(value)
    except InvalidToken as exc:
        raise _BadToken(f"{where} is not a well-formed JWT: {exc.description}") from None


def _signature_key(value: str) -> dict[str, Any]:
    header = SignatureKeyHeader.parse(value)
    members: dict[str, Any] = {}
    for label in header.labels:
        member = header.member(label)
        if isinstance(member, UnknownScheme):
            raise InvalidSignature(f"member {label!r} names no known scheme")
        params: dict[str, Any] = dict(member.params())
        token = params.get("jwt")
        if isinstance(token, str):
            params["jwt"] = _embedded_jwt(token, f"the jwt of Signature-Key member {label!r}")
        members[label] = {"scheme": member.scheme, **params}
    return {"kind": "Signature-Key", "members": members}


def _signature_input(value: str) -> dict[str, Any]:
    parsed = parse_signature_input(value)
    return {
        "kind": "Signature-Input",
        "signatures": {
            label: {
                # the name as written in the field, unquoted, with any ;parameters
                "covered": [c.name + c.identifier.rpartition('"')[2] for c in params.components],
                "parameters": dict(params.params),
            }
            for label, (params, _) in parsed.items()
        },
    }


def _requirement(value: str) -> dict[str, Any]:
    requirement = find_requirement({"AAuth-Requirement": value}, allow_loopback_http=True)
    if requirement is None:
        raise AAuthError("not an AAuth-Requirement")
    fields = dataclasses.asdict(requirement)
    token = fields.get("resource_token")
    if isinstance(token, str):
        fields["resource_token"] = _embedded_jwt(token, "the resource-token")
    return {"kind": "AAuth-Requirement", "requirement": requirement.name, **fields}


def _mission(value: str) -> dict[str, Any]:
    ref = parse_mission(value, allow_loopback_http=True)
    return {"kind": "AAuth-Mission", "approver": ref.approver, "s256": ref.s256}


def _signature_error(value: str) -> dict[str, Any]:
    return {"kind": "Signature-Error", **dataclasses.asdict(parse_signature_error(value))}


def _signature(value: str) -> dict[str, Any]:
    signatures = {label: f"{len(raw)} bytes" for label, raw in parse_signature(value).items()}
    return {"kind": "Signature", "signatures": signatures}


_BY_HEADER: dict[str, Callable[[str], dict[str, Any]]] = {
    "aauth-requirement": _requirement,
    "signature-key": _signature_key,
    "signature-input": _signature_input,
    "signature": _signature,
    "aauth-mission": _mission,
    "signature-error": _signature_error,
}


def describe(value: str, header: str | None = None) -> dict[str, Any]:
    """A JSON-friendly description of a token or header value.

    With ``header`` the value is read as that header; otherwise a JWT is recognised by its
    shape and headers are tried in turn.
    """
    value = value.strip()
    if header is not None:
        reader = _BY_HEADER.get(header.lower())
        if reader is None:
            raise DecodeError(f"cannot decode header {header!r}; known: {', '.join(_BY_HEADER)}")
        try:
            return reader(value)
        except (SignatureError, AAuthError) as exc:
            raise DecodeError(f"not a valid {header} value: {exc.description}") from None
    if value.count(".") == 2 and " " not in value:
        try:
            return _jwt(value)
        except InvalidToken as exc:
            if "=" not in value:  # shaped like a JWT and nothing else
                raise DecodeError(f"not a well-formed JWT: {exc.description}") from None
    for reader in _BY_HEADER.values():
        try:
            return reader(value)
        except (SignatureError, AAuthError):
            continue
    raise DecodeError("not a token or a header this tool knows (name it with --header to see why)")


def describe_lines(text: str) -> dict[str, Any]:
    """Each ``Name: value`` line of ``text`` (as ``aauth sign`` prints) described by name."""
    described: dict[str, Any] = {}
    for line in filter(None, (line.strip() for line in text.splitlines())):
        name, sep, value = line.partition(":")
        if not sep or name.strip().lower() not in _BY_HEADER:
            raise DecodeError(f"{line[:40]!r} is not a 'Name: value' line of a known header")
        described[name.strip()] = describe(value, name.strip())
    return described


def is_header_line(text: str) -> bool:
    """Whether ``text`` starts with ``Name:`` for a header :func:`describe` knows."""
    name, sep, _ = text.strip().partition(":")
    return bool(sep) and name.strip().lower() in _BY_HEADER
