"""Where a person may be sent after an interaction (protocol-10 §F.5, §H.5).

An interaction endpoint redirects to the ``callback`` its caller named only when that URL is
the agent's published ``callback_endpoint`` (any query: callbacks are per flow) or a loopback
URL its provider allows; anything else would be an open redirect. Errors travel as
``?error=`` on the callback (RS-18).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import InvalidRequest

__all__ = ["CALLBACK_ERRORS", "MAX_CALLBACK", "check_callback", "with_error"]

MAX_CALLBACK = 2048
CALLBACK_ERRORS = frozenset(
    {
        "access_denied",
        "user_abandoned",
        "server_error",
        "temporarily_unavailable",
        "interaction_expired",
    }
)
"""The five ``error`` values a callback may carry (RS-18)."""

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def check_callback(
    callback: str | None, *, endpoint: str | None, localhost_allowed: bool
) -> str | None:
    """``callback`` when it is ``endpoint`` (same scheme, host and path; any query) or an
    allowed loopback URL; None when there is none; InvalidRequest otherwise."""
    if not callback:
        return None
    if len(callback) > MAX_CALLBACK or not (callback.isascii() and callback.isprintable()):
        raise InvalidRequest("the callback is not a usable URL")
    try:
        parts = urlsplit(callback)
        port = parts.port
    except ValueError:
        raise InvalidRequest("the callback is not a usable URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
        raise InvalidRequest("the callback is not a usable URL")
    if parts.username is not None or " " in callback:
        raise InvalidRequest("the callback is not a usable URL")
    if endpoint is not None and (parts.scheme, parts.netloc, parts.path) == urlsplit(endpoint)[:3]:
        return callback
    if localhost_allowed and parts.hostname in _LOOPBACK and port is not None:
        return callback
    raise InvalidRequest("the callback is not the agent's registered callback endpoint")


def with_error(callback: str | None, error: str) -> str | None:
    """``callback`` carrying ``error`` (one of :data:`CALLBACK_ERRORS`) in its query."""
    if callback is None:
        return None
    return f"{callback}{'&' if urlsplit(callback).query else '?'}error={error}"
