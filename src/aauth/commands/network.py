"""What the command line says when a server cannot be reached: which server (its role and
URL) and what happened, so the user knows which process to start or which URL to fix."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

__all__ = ["connection_failure", "origin"]


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def connection_failure(exc: httpx.TransportError, roles: Mapping[str, str]) -> str:
    """One line for a transport error; ``roles`` maps origins to what the server there is
    (``{"http://127.0.0.1:8003": "person server"}``)."""
    try:
        url = str(exc.request.url)
    except RuntimeError:  # an error raised before any request was made
        return f"cannot connect: {exc}"
    where = origin(url)
    role = next((name for key, name in roles.items() if origin(key) == where), "server")
    if isinstance(exc, httpx.ConnectTimeout):
        happened = "did not answer the connection in time"
    elif isinstance(exc, httpx.ConnectError):
        reason = str(exc)
        refused = "refused" in reason.lower() or "errno 111" in reason.lower()
        happened = "refused the connection" if refused else f"could not be reached ({reason})"
    elif isinstance(exc, httpx.TimeoutException):
        happened = "did not answer in time (see --timeout)"
    else:
        happened = f"failed: {exc}"
    return f"{role} at {where} {happened}"
