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
    parse_signature_input,
)

from .errors import AAuthError, InvalidToken
from .headers import find_requirement, parse_mission, parse_signature_error
from .jwt import peek

__all__ = ["describe"]


def _jwt(value: str) -> dict[str, Any]:
    header, claims = peek(value)
    return {"kind": "jwt (unverified)", "header": header, "claims": claims}


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
            params["jwt"] = _jwt(token)
        members[label] = {"scheme": member.scheme, **params}
    return {"kind": "Signature-Key", "members": members}


def _signature_input(value: str) -> dict[str, Any]:
    parsed = parse_signature_input(value)
    return {
        "kind": "Signature-Input",
        "signatures": {
            label: {
                "covered": [c.identifier for c in params.components],
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
        fields["resource_token"] = _jwt(token)
    return {"kind": "AAuth-Requirement", "requirement": requirement.name, **fields}


def _mission(value: str) -> dict[str, Any]:
    ref = parse_mission(value, allow_loopback_http=True)
    return {"kind": "AAuth-Mission", "approver": ref.approver, "s256": ref.s256}


def _signature_error(value: str) -> dict[str, Any]:
    return {"kind": "Signature-Error", **dataclasses.asdict(parse_signature_error(value))}


_BY_HEADER: dict[str, Callable[[str], dict[str, Any]]] = {
    "aauth-requirement": _requirement,
    "signature-key": _signature_key,
    "signature-input": _signature_input,
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
            raise SystemExit(f"aauth: cannot decode header {header!r}; try {sorted(_BY_HEADER)}")
        return reader(value)
    if value.count(".") == 2 and " " not in value:
        try:
            return _jwt(value)
        except InvalidToken:
            pass
    for reader in _BY_HEADER.values():
        try:
            return reader(value)
        except (SignatureError, AAuthError):
            continue
    raise SystemExit("aauth: not a token or a header this tool knows")
