"""Where a person may be sent after an interaction (protocol-10 §F.5, §H.5).

An interaction endpoint redirects to the ``callback`` its caller named only when that URL is
the agent's published ``callback_endpoint`` (any query: callbacks are per flow) or a loopback
URL its provider allows; anything else would be an open redirect. Errors travel as
``?error=`` on the callback (RS-18).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from .errors import InvalidRequest
from .pending import PendingState

__all__ = [
    "CALLBACK_ERRORS",
    "MAX_CALLBACK",
    "callback_error",
    "check_callback",
    "ended_callback",
    "ended_with",
    "interaction_link",
    "with_error",
]

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
_ENDED_WITH = {
    "access_denied": PendingState.DENIED,
    "user_abandoned": PendingState.ABANDONED,
    "interaction_expired": PendingState.EXPIRED,
}


def check_callback(
    callback: str | None,
    *,
    endpoint: str | None,
    localhost_allowed: bool,
    any_path: bool = False,
) -> str | None:
    """``callback`` when it is ``endpoint`` (same scheme, host and path; any query; with
    ``any_path`` any path on that origin) or an allowed loopback URL; None when there is
    none; InvalidRequest otherwise."""
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
    if endpoint is not None:
        size = 2 if any_path else 3
        if (parts.scheme, parts.netloc, parts.path)[:size] == urlsplit(endpoint)[:size]:
            return callback
    if localhost_allowed and parts.hostname in _LOOPBACK and port is not None:
        return callback
    raise InvalidRequest("the callback is not the agent's registered callback endpoint")


def with_error(callback: str | None, error: str) -> str | None:
    """``callback`` carrying ``error`` (one of :data:`CALLBACK_ERRORS`) in its query."""
    if callback is None:
        return None
    return f"{callback}{'&' if urlsplit(callback).query else '?'}error={error}"


def ended_with(error: str) -> PendingState:
    """The state a pending request ends in when an interaction it waits on came back with
    ``?error=error`` (PS-26): ``denied``, ``abandoned``, ``expired``, else ``server_error``."""
    return _ENDED_WITH.get(error, PendingState.FAILED)


def callback_error(state: PendingState) -> str:
    """The ``error`` a callback carries for a request that ended in ``state`` (the inverse
    of :func:`ended_with`)."""
    for error, ended in _ENDED_WITH.items():
        if ended is state:
            return error
    return "server_error"


def ended_callback(callback: str | None, state: PendingState) -> str | None:
    """Where the person goes once the request has ended in ``state``: ``callback``, carrying
    the matching ``error`` unless the request succeeded."""
    if state.succeeded:
        return callback
    return with_error(callback, callback_error(state))


def interaction_link(url: str, code: str, callback: str | None = None) -> str:
    """``{url}?code={code}`` (and ``&callback=…``): where a person completes an interaction
    another server asked for, and where they are sent back to when it ends (§F.5)."""
    query = {"code": code} if callback is None else {"code": code, "callback": callback}
    return f"{url}?{urlencode(query)}"
