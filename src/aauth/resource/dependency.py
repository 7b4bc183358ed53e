"""Using the verified caller from Starlette (and FastAPI) route code.

:func:`verified_caller` and :func:`require_scopes` are plain callables taking a Starlette
``Request``, so they serve as FastAPI dependencies (``Depends(verified_caller)``) and can be
called directly in Starlette endpoints. They raise :class:`AAuthHTTPException`, an
``HTTPException`` that keeps the protocol's status and headers even under a framework's default
handler; register :data:`EXCEPTION_HANDLERS` to send the exact problem+json body.

:class:`AAuthRequest` is for applications that verify by hand instead of using the middleware.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aauth_signing import HttpRequest, SignatureError
from aauth_signing import InvalidRequest as NotVerified
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..asgi import request_from_scope
from ..errors import (
    AAuthError,
    InsufficientScope,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    ServerError,
    error_response,
)
from ..json_body import parse_json_object
from .caller import VerifiedCaller
from .middleware import caller_from_scope

__all__ = [
    "EXCEPTION_HANDLERS",
    "AAuthHTTPException",
    "AAuthRequest",
    "handle_aauth_error",
    "handle_http_error",
    "handle_unexpected_error",
    "read_json_object",
    "require_scopes",
    "verified_caller",
]


class AAuthHTTPException(HTTPException):
    """An AAuth error raised from route code, carrying the full response to send.

    Without a registered handler, Starlette and FastAPI still answer with its status and
    protocol headers (``Signature-Error``, ``AAuth-Requirement``); :func:`handle_aauth_error`
    adds the problem+json body.
    """

    def __init__(self, error: AAuthError | SignatureError) -> None:
        self.error = error
        self.response = error_response(error)
        headers = {k: v for k, v in self.response.headers.items() if k != "Content-Type"}
        super().__init__(self.response.status, error.description, headers)


async def handle_aauth_error(request: Request, exc: Exception) -> Response:
    """Starlette/FastAPI exception handler: the protocol response for any AAuth error."""
    if isinstance(exc, AAuthHTTPException):
        rendered = exc.response
    else:
        assert isinstance(exc, AAuthError | SignatureError), "registered for AAuth errors only"
        rendered = error_response(exc)
    return Response(rendered.body, rendered.status, headers=rendered.headers)


_log = logging.getLogger(__name__)


def _framework_error(status: int, method: str) -> AAuthError:
    if status == 404:
        return NotFound("there is nothing here")
    if status == 405:
        return MethodNotAllowed(f"{method} is not allowed here")
    if status < 500:
        return InvalidRequest(f"the request was refused (HTTP {status})")
    return ServerError(f"the server could not answer (HTTP {status})")


def handle_http_error(request: Request, exc: Exception) -> Response:
    """The framework's own errors (no such route: 404, wrong method: 405, …) as problem+json
    with an error code, like every other error (V-41), keeping their status and ``Allow``."""
    assert isinstance(exc, HTTPException), "registered for HTTPException only"
    error = _framework_error(exc.status_code, request.method)
    rendered = replace(error_response(error), status=exc.status_code)
    headers = {**rendered.headers, **(exc.headers or {})}
    return Response(rendered.body, rendered.status, headers=headers)


def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback, answered 500 ``server_error`` without one."""
    _log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    rendered = error_response(ServerError("the server failed to answer this request"))
    return Response(rendered.body, rendered.status, headers=rendered.headers)


EXCEPTION_HANDLERS: Mapping[Any, Callable[..., Any]] = {
    AAuthHTTPException: handle_aauth_error,
    AAuthError: handle_aauth_error,
    SignatureError: handle_aauth_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
"""``Starlette(..., exception_handlers=EXCEPTION_HANDLERS)``: every error, the framework's
404/405 and unexpected failures included, answers problem+json. FastAPI: add each pair."""


def verified_caller(request: Request) -> VerifiedCaller:
    """The caller :class:`~aauth.resource.middleware.AAuthMiddleware` verified.

    A route the middleware left unprotected (or an app without it) has none: 401
    ``invalid_request``, never an anonymous pass.
    """
    caller = caller_from_scope(request.scope)
    if caller is None:
        raise AAuthHTTPException(NotVerified("this route requires a verified signed request"))
    return caller


def require_scopes(*scopes: str) -> Callable[[Request], VerifiedCaller]:
    """A dependency that returns the caller when its auth token grants every scope in
    ``scopes``, else 403 ``insufficient_scope`` (no signature headers, V-17).

    >>> @app.get("/data")  # doctest: +SKIP
    ... def data(caller: VerifiedCaller = Depends(require_scopes("data.read"))): ...
    """
    required = frozenset(scopes)

    def dependency(request: Request) -> VerifiedCaller:
        caller = verified_caller(request)
        missing = required - caller.scopes
        if missing:
            raise AAuthHTTPException(
                InsufficientScope(f"the auth token lacks scope {' '.join(sorted(missing))}")
            )
        return caller

    return dependency


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a strict JSON object (:mod:`aauth.json_body`); 400
    ``invalid_request`` for anything else, before route code sees any of it."""
    try:
        return parse_json_object(await request.body())
    except AAuthError as exc:
        raise AAuthHTTPException(exc) from None


@dataclass(frozen=True)
class AAuthRequest:
    """A Starlette request as the signature layer sees it, for verifying by hand.

    >>> message = (await AAuthRequest.from_starlette(request)).to_http_request()  # doctest: +SKIP
    >>> caller = await verifier.averify(message, policy)  # doctest: +SKIP
    """

    method: str
    target_uri: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __new__(cls, *args: Any, **kwargs: Any) -> AAuthRequest:
        """aauth 0.3's ``AAuthRequest(method, authority, path, query, headers, body)`` builds
        its 0.3 form (:class:`aauth.compat.http.LegacyAAuthRequest`)."""
        from ..compat.http import LegacyAAuthRequest, is_legacy_request_call

        if cls is AAuthRequest and is_legacy_request_call(args, kwargs):
            return object.__new__(LegacyAAuthRequest)
        return object.__new__(cls)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AAuthRequest:
        """aauth 0.3: a request from ``{"method", "authority", "path", …}``."""
        from ..compat.http import LegacyAAuthRequest

        return LegacyAAuthRequest.from_dict(data)

    @classmethod
    def from_fastapi_request(cls, request: Request) -> AAuthRequest:
        """aauth 0.3: a request from a FastAPI request (prefer :meth:`from_starlette`, which
        also reads the body)."""
        from ..compat.http import LegacyAAuthRequest

        return LegacyAAuthRequest.from_fastapi_request(request)

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """The header ``name`` (any case), or ``default``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return default

    @classmethod
    async def from_starlette(
        cls, request: Request, *, public_origin: str | None = None
    ) -> AAuthRequest:
        """Read the body and rebuild the target URI exactly as sent (see ``aauth.asgi``)."""
        body = await request.body()
        message = request_from_scope(request.scope, body, public_origin)
        return cls(message.method, message.target_uri, tuple(message.headers.items()), body)

    def to_http_request(self) -> HttpRequest:
        return HttpRequest(self.method, self.target_uri, self.headers, self.body)
