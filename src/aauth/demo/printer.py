"""Readable printing of HTTP exchanges: request line, status, AAuth headers, token claims."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TextIO

import httpx
from aauth_signing import b64url_decode

__all__ = ["Printer"]

_SHOWN = (
    "signature-key",
    "signature-input",
    "signature",
    "content-digest",
    "authorization",
    "aauth-requirement",
    "aauth-mission",
    "aauth-access",
    "aauth-capabilities",
    "signature-error",
    "accept-signature-scheme",
    "accept-signature-alg",
    "location",
    "retry-after",
    "prefer",
)
_WIDTH = 110


def _shorten(value: str) -> str:
    return value if len(value) <= _WIDTH else value[: _WIDTH - 25] + " … " + value[-20:]


def decode_jwt_claims(token: str) -> tuple[dict[str, object], dict[str, object]] | None:
    """(header, payload) of a compact JWT, without verifying it; None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None
    return header, payload


class Printer:
    """Prints exchanges as a person reads them; tokens are decoded, long values cut."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def title(self, text: str) -> None:
        print(f"\n=== {text} ===", file=self.out)

    def note(self, text: str) -> None:
        print(f"  · {text}", file=self.out)

    def _headers(self, prefix: str, headers: Iterable[tuple[str, str]]) -> None:
        for name, value in headers:
            if name.lower() in _SHOWN:
                print(f"{prefix}{name}: {_shorten(value)}", file=self.out)

    def request(self, request: httpx.Request) -> None:
        print(f"→ {request.method} {request.url}", file=self.out)
        self._headers("    ", request.headers.items())

    def response(self, response: httpx.Response) -> None:
        print(f"← {response.status_code} {response.reason_phrase}", file=self.out)
        self._headers("    ", response.headers.items())

    def exchange(self, response: httpx.Response) -> None:
        self.request(response.request)
        self.response(response)

    def token(self, label: str, token: str) -> None:
        decoded = decode_jwt_claims(token)
        if decoded is None:
            print(f"  {label}: (not a JWT)", file=self.out)
            return
        header, payload = decoded
        print(f"  {label} header: {json.dumps(header)}", file=self.out)
        for line in json.dumps(payload, indent=2).splitlines():
            print(f"    {line}", file=self.out)
