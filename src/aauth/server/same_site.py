"""Refusing form POSTs another site made a browser send (CSRF), before they are read.

One check for every server's pages (the person server's and the access server's): a forged
cross-site POST is answered 403 ``forbidden`` and changes nothing, whatever its fields.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from ..errors import Forbidden

__all__ = ["cross_site", "origin", "same_site"]

_Handler = Callable[[Request], Awaitable[Response]]


def origin(url: str) -> str:
    """The ``scheme://host[:port]`` of ``url``, as a browser's ``Origin`` header spells it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def cross_site(request: Request, own_origin: str) -> bool:
    """Whether a form POST comes from another site (or one we cannot tell is ours).

    ``Sec-Fetch-Site`` decides when the browser sends it; ``Origin`` otherwise. With the
    pages' ``Referrer-Policy: no-referrer`` a browser sends ``Origin: null`` even on our own
    forms, so ``null`` is accepted only alongside ``Sec-Fetch-Site: same-origin``. A request
    with neither header is not from a browser that could be forged into sending it.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    sender = request.headers.get("origin")
    if sender is None:
        return False
    if sender == "null":
        return site is None
    return sender != own_origin


def same_site(handler: _Handler, own_origin: str) -> _Handler:
    """``handler``, refusing (Forbidden) a POST another site sent before reading it."""

    async def run(request: Request) -> Response:
        if cross_site(request, own_origin):
            raise Forbidden("this form was sent from another site")
        return await handler(request)

    return run
