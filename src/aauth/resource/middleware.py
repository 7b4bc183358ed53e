"""Pure ASGI middleware that verifies every request before the application sees it.

It reads the body itself (capped), so ``Content-Digest`` is checked against the exact bytes
that arrived, then replays those bytes to the application unchanged. Each route gets its own
:class:`~aauth.resource.ResourcePolicy` (or none, for public routes); a failure is answered
here with the protocol's response (401 ``Signature-Error``, 401 challenge, 403, 413) and the
application never runs. On success the :class:`~aauth.resource.VerifiedCaller` is in
``scope["state"]["aauth"]`` (Starlette: ``request.state.aauth``).

    app = AAuthMiddleware(app, verifier, rules=[
        RouteRule("/.well-known/*", None),
        RouteRule("/public/*", verifier.policy.with_(accepted_schemes=("hwk",),
                                                     require_identity=False)),
        RouteRule("/data", read_policy, methods=("GET",)),
    ])
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from aauth_signing import Fields, SignatureError

from ..asgi import (
    MAX_BODY,
    ASGIApp,
    BodyTooLarge,
    Message,
    Receive,
    Scope,
    Send,
    read_body,
    request_from_scope,
    scope_fields,
)
from ..errors import AAuthError, ErrorResponse, ServerError, error_response
from .caller import VerifiedCaller
from .policy import ResourcePolicy
from .verifier import RequestVerifier

__all__ = ["STATE_KEY", "AAuthMiddleware", "RouteRule", "caller_from_scope"]

STATE_KEY = "aauth"
"""Where the verified caller is stored in ``scope["state"]``."""

_log = logging.getLogger("aauth.resource")


@dataclass(frozen=True)
class RouteRule:
    """``policy`` for requests whose path matches ``path`` (and method is in ``methods``).

    ``path`` is exact (``/data``) or a prefix ending in ``/*`` (``/public/*`` matches
    ``/public`` and everything below it, not ``/publicity``). ``policy=None`` leaves the route
    unprotected. ``methods=None`` matches every method; listing ``GET`` also matches ``HEAD``.
    """

    path: str
    policy: ResourcePolicy | None
    methods: Collection[str] | None = None

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"route path {self.path!r} must start with '/'")
        if self.methods is not None:
            methods = {m.upper() for m in self.methods}
            if "GET" in methods:
                methods.add("HEAD")
            object.__setattr__(self, "methods", frozenset(methods))

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.path.endswith("/*"):
            base = self.path[:-2]
            return path == base or path.startswith(base + "/")
        return path == self.path


Rules = Sequence[RouteRule] | Mapping[str, ResourcePolicy | None]


def caller_from_scope(scope: Scope) -> VerifiedCaller | None:
    """The caller the middleware verified for this request, if it did."""
    caller = scope.get("state", {}).get(STATE_KEY)
    return caller if isinstance(caller, VerifiedCaller) else None


class AAuthMiddleware:
    """Verify requests with ``verifier`` under per-route policies; see the module docstring.

    ``rules`` are tried in order, first match wins; unmatched requests get
    ``verifier.policy``. ``public_origin`` (``https://api.example``) fixes the scheme and
    authority the signature must name when a proxy sits in front. Bodies over ``max_body``
    bytes are refused with 413 before verification. Lifespan and websocket scopes pass through.
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: RequestVerifier,
        *,
        rules: Rules = (),
        public_origin: str | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        if isinstance(rules, Mapping):
            rules = [RouteRule(path, policy) for path, policy in rules.items()]
        self.app = app
        self.verifier = verifier
        self.rules = tuple(rules)
        self.public_origin = public_origin
        self.max_body = max_body

    def policy_for(self, method: str, path: str) -> ResourcePolicy | None:
        """The policy for a request (None: unprotected)."""
        for rule in self.rules:
            if rule.matches(method, path):
                return rule.policy
        return self.verifier.policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy_for(scope["method"], scope["path"])
        if policy is None:
            await self.app(scope, receive, send)
            return
        try:
            headers = scope_fields(scope)
            body = await self._body(headers, receive)
            request = request_from_scope(scope, body, self.public_origin, headers=headers)
            caller = await self.verifier.averify(request, policy)
        except (AAuthError, SignatureError) as exc:
            await _send(scope, send, error_response(exc))
            return
        except Exception:  # a bug must not become a traceback on the wire
            _log.exception("AAuth verification failed unexpectedly")
            failure = ServerError("the request could not be verified")
            await _send(scope, send, error_response(failure))
            return
        scope.setdefault("state", {})[STATE_KEY] = caller
        await self.app(scope, _replay(body, receive), send)

    async def _body(self, headers: Fields, receive: Receive) -> bytes:
        # The declared length is checked before the first receive(): a server answers
        # ``Expect: 100-continue`` on that call, so a refused body is never sent at all.
        for length in headers.get_all("content-length"):
            if length.isascii() and length.isdigit() and int(length) > self.max_body:
                raise BodyTooLarge(f"request body exceeds {self.max_body} bytes")
        return await read_body(receive, self.max_body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then defers to the server (disconnects)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send(scope: Scope, send: Send, response: ErrorResponse) -> None:
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
    ]
    headers.append((b"content-length", str(len(response.body)).encode("ascii")))
    body = b"" if scope["method"] == "HEAD" else response.body
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
