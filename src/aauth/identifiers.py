"""Server and agent identifiers (protocol-10 §B.2), compared by exact string equality.

A server identifier is ``https://`` plus a lowercase host: no port, path, query, fragment or
trailing slash. For development on one machine, ``allow_loopback_http`` also admits
``http://localhost``, ``http://127.0.0.1`` and ``http://[::1]`` with a port; it is off unless
a caller turns it on explicitly.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = [
    "agent_identifier",
    "agent_provider_of",
    "is_agent_identifier",
    "is_endpoint_url",
    "is_server_identifier",
    "is_loopback_http",
    "is_subagent_of",
    "not_an_identifier",
    "server_host",
]

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_LOOPBACK_AUTHORITY = re.compile(r"(localhost|127\.0\.0\.1|\[::1\])(?::([0-9]{1,5}))?")
_VISIBLE = re.compile(r"[!-~]{1,2048}")
_AGENT = re.compile(r"aauth:([a-z0-9\-_+.]{1,255})@(.+)")
_LONGEST = len("aauth:") + 255 + len("@") + 253
"""No identifier of either kind is longer, so longer values are refused before the memo (which
then holds at most 1024 short strings, whatever an unverified token claims)."""


def _is_loopback_authority(authority: str) -> bool:
    match = _LOOPBACK_AUTHORITY.fullmatch(authority)
    return match is not None and (match.group(2) is None or 0 < int(match.group(2)) < 65536)


def _is_domain(domain: str, allow_loopback_http: bool) -> bool:
    if _HOST.fullmatch(domain) is not None and len(domain) <= 253:
        return True
    return allow_loopback_http and _is_loopback_authority(domain)


def is_server_identifier(value: object, *, allow_loopback_http: bool = False) -> bool:
    """True for ``https://host`` exactly (lowercase, A-labels, nothing after the host)."""
    return (
        isinstance(value, str)
        and len(value) <= _LONGEST
        and _server_identifier(value, allow_loopback_http)
    )


@lru_cache(maxsize=1024)  # pure, and every token names the same few issuers and agents
def _server_identifier(value: str, allow_loopback_http: bool) -> bool:
    if value.startswith("https://"):
        host = value[len("https://") :]
        return _HOST.fullmatch(host) is not None and len(host) <= 253
    if allow_loopback_http and value.startswith("http://"):
        return _is_loopback_authority(value[len("http://") :])
    return False


def is_loopback_http(value: object) -> bool:
    """Whether ``value`` is a plain ``http`` URL on a loopback host: admitted only where the
    loopback switch is on, so an error about it should name that switch."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    host = parts.hostname
    return parts.scheme == "http" and host is not None and host in ("localhost", "127.0.0.1", "::1")


def not_an_identifier(name: str, value: object, switch: str) -> str:
    """The message for a value that is not a server identifier; for ``http`` on loopback it
    names ``switch``, the setting that admits it (e.g. ``--allow-loopback``)."""
    message = f"{name} {value!r} is not a server identifier (https://host)"
    if is_loopback_http(value):
        message += f"; plain http on loopback needs {switch} (development only)"
    return message


def server_host(identifier: str) -> str:
    """The host (with port, for loopback development identifiers) of a server identifier."""
    return identifier.split("://", 1)[1]


def is_agent_identifier(value: object, *, allow_loopback_http: bool = False) -> bool:
    """True for ``aauth:local@domain`` with ``local`` in ``[a-z0-9-_+.]``, 1 to 255 chars."""
    return (
        isinstance(value, str)
        and len(value) <= _LONGEST
        and _agent_identifier(value, allow_loopback_http)
    )


@lru_cache(maxsize=1024)
def _agent_identifier(value: str, allow_loopback_http: bool) -> bool:
    match = _AGENT.fullmatch(value)
    return match is not None and _is_domain(match.group(2), allow_loopback_http)


def agent_identifier(local: str, server_identifier: str) -> str:
    """The agent identifier for ``local`` at the agent provider ``server_identifier``."""
    value = f"aauth:{local}@{server_host(server_identifier)}"
    if not is_agent_identifier(value, allow_loopback_http=True):
        raise ValueError(f"{value!r} is not a valid agent identifier")
    return value


def agent_provider_of(agent: str, *, allow_loopback_http: bool = False) -> str:
    """The identifier of the agent provider that names ``agent``: its domain (§B.2), over
    https, or http for a loopback domain when ``allow_loopback_http`` (development)."""
    domain = agent.rpartition("@")[2]
    loopback = allow_loopback_http and _is_loopback_authority(domain)
    return f"{'http' if loopback else 'https'}://{domain}"


def is_subagent_of(subagent: str, parent: str) -> bool:
    """Whether ``subagent`` is ``parent``'s local part + ``+`` + a discriminator, same domain.

    Only for issuing sub-agent identifiers: decisions use the ``parent_agent`` claim, never
    this parse (protocol-10 §B.2).
    """
    sub, par = _AGENT.fullmatch(subagent), _AGENT.fullmatch(parent)
    if sub is None or par is None or sub.group(2) != par.group(2) or "+" in par.group(1):
        return False
    prefix = par.group(1) + "+"
    return sub.group(1).startswith(prefix) and len(sub.group(1)) > len(prefix)


def is_endpoint_url(value: object, *, allow_loopback_http: bool = False) -> bool:
    """An endpoint URL: https (or loopback http when allowed), no query, no fragment."""
    if not isinstance(value, str) or _VISIBLE.fullmatch(value) is None:
        return False
    if "#" in value or "?" in value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return (
        allow_loopback_http
        and parts.scheme == "http"
        and parts.hostname is not None
        and (parts.hostname in _LOOPBACK_HOSTS or f"[{parts.hostname}]" in _LOOPBACK_HOSTS)
    )
