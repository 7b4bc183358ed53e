"""Reading what the user put on the command line: key and token files, bodies, headers,
URLs and ports. Each mistake raises :class:`~.errors.UsageError` or
:class:`~.errors.CommandFailed` with a message that says how to fix it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from aauth_signing import SignatureError, SigningKey, signing_key_from_jwk

from ..identifiers import is_loopback_http
from .errors import CommandFailed, UsageError

__all__ = [
    "LOOPBACK_FLAG",
    "body",
    "check_url",
    "headers",
    "load_key",
    "port",
    "read_at_file",
    "token",
]

LOOPBACK_FLAG = "--allow-loopback"


def read_at_file(value: str, what: str) -> str:
    """``value`` itself, or the text of the file it names as ``@path``."""
    if not value.startswith("@"):
        return value
    path = value[1:]
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandFailed(f"{what} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandFailed(f"cannot read {what} file {path}: {exc}") from None


def token(value: str | None) -> str | None:
    """A token given inline or as ``@file`` (surrounding whitespace dropped)."""
    if value is None:
        return None
    text = read_at_file(value, "token").strip()
    if not text:
        raise CommandFailed(f"the token {value} is empty")
    return text


def body(data: str | None) -> bytes | None:
    """``-d``: the text itself, or ``@file``'s bytes."""
    if data is None:
        return None
    if not data.startswith("@"):
        return data.encode("utf-8")
    try:
        return Path(data[1:]).read_bytes()
    except OSError as exc:
        raise CommandFailed(f"cannot read body file {data[1:]}: {exc.strerror}") from None


def headers(values: Sequence[str]) -> dict[str, str]:
    """``-H 'Name: value'`` arguments as a dict."""
    parsed: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"header {value!r} is not 'Name: value'")
        parsed[name.strip()] = rest.strip()
    return parsed


def load_key(path: str) -> SigningKey:
    """A private key from a JWK (as ``aauth keygen`` writes) or PEM file."""
    from ..keys import load_private_pem

    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise CommandFailed(
            f"key file {path} does not exist (make one: aauth keygen --out {path})"
        ) from None
    except OSError as exc:
        raise CommandFailed(f"cannot read key file {path}: {exc.strerror}") from None
    try:
        if raw.lstrip().startswith(b"{"):
            try:
                jwk = json.loads(raw)
            except ValueError as exc:
                raise CommandFailed(f"key file {path} is not valid JSON: {exc}") from None
            if not isinstance(jwk, dict):
                raise CommandFailed(f"key file {path} must hold one JWK object")
            return signing_key_from_jwk(jwk)
        return load_private_pem(raw)
    except SignatureError as exc:
        raise CommandFailed(f"key file {path}: {exc.description}") from None


def check_url(url: str, *, allow_loopback: bool | None = None) -> str:
    """An absolute ``http(s)`` URL; with ``allow_loopback`` given, plain http is refused
    unless it is on loopback and the switch is on (the message names the switch)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UsageError(f"{url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{url!r} is not an absolute URL; write it with its scheme, e.g. https://{url}"
        )
    if allow_loopback is not None and parts.scheme == "http":
        if not is_loopback_http(url):
            raise UsageError(f"{url} is plain http; AAuth needs https (http only on loopback)")
        if not allow_loopback:
            raise UsageError(
                f"{url} is plain http on loopback; pass {LOOPBACK_FLAG} (development only)"
            )
    return url


def port(value: str) -> int:
    """argparse type for ``--port``."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port {value!r} is not a number") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port {number} is out of range (1-65535)")
    return number
