"""Typed ASGI aliases and the adapter from an ASGI request to a signable message.

The target URI is rebuilt from the raw path and query exactly as they arrived (RFC 9421
``@path`` is the path *as sent*, not percent-decoded), with the scheme and authority either
taken from the request or pinned to a configured public origin when a proxy sits in front.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aauth_signing import Fields, HttpRequest

from .errors import AAuthError

__all__ = [
    "MAX_BODY",
    "ASGIApp",
    "BodyTooLarge",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "read_body",
    "request_from_scope",
    "scope_fields",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Bodies above this size are refused before verification (the digest needs all of it).
MAX_BODY = 1024 * 1024


class BodyTooLarge(AAuthError):
    """The request body exceeds the configured limit (refused before any verification)."""

    code, status = "content_too_large", 413


def scope_fields(scope: Scope) -> Fields:
    """The scope's header field lines, in order, decoded as ISO-8859-1 (byte for byte)."""
    return Fields.from_latin1(scope["headers"])


def request_from_scope(
    scope: Scope,
    body: bytes | None,
    public_origin: str | None = None,
    *,
    headers: Fields | None = None,
) -> HttpRequest:
    """The HttpRequest for an ASGI ``http`` scope.

    ``public_origin`` (``https://api.example``) replaces scheme and authority when the app
    runs behind a proxy; otherwise they come from the scope and the ``Host`` header.
    ``headers`` is :func:`scope_fields` when the caller has already built it.
    """
    if headers is None:
        headers = scope_fields(scope)
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    if public_origin is None:
        hosts = headers.get_all("host")
        host = hosts[0] if hosts else None
        if host is None:
            server = scope.get("server") or ("localhost", None)
            host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
        origin = f"{scope.get('scheme', 'http')}://{host}"
    else:
        origin = public_origin.rstrip("/")
    target = origin + raw_path.decode("latin-1")
    if query:
        target += "?" + query.decode("latin-1")
    return HttpRequest(scope["method"], target, headers, body)


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes:
    """The whole request body, refusing more than ``limit`` bytes.

    A body that arrives in one message (every GET, most small requests) is returned as is,
    without copying it.
    """
    message = await receive()
    body: bytes = message.get("body", b"")  # an http.disconnect has none
    if len(body) > limit:
        raise BodyTooLarge(f"request body exceeds {limit} bytes")
    if not message.get("more_body", False) or message["type"] != "http.request":
        return body
    chunks, size = [body], len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
