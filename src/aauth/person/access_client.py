"""Signed requests from a person server to access servers (protocol-10 §F.7, PS-30).

The PS signs as itself with the ``jwks_uri`` scheme (``id`` = its identifier, ``dwk`` =
``aauth-person.json``, §I.5); every request passes egress admission, answers are read under a
size cap and a hard deadline, and an access server's error answer is turned into the error
it stands for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx
from aauth_signing import JwksUri, RequestSigner

from ..discovery import Discovery
from ..egress import AsyncEgressClient, EgressPolicy
from ..errors import (
    AAuthError,
    ExpiredAgentToken,
    ExpiredResourceToken,
    Forbidden,
    InsufficientTrust,
    InvalidAgentToken,
    InvalidCode,
    InvalidRequest,
    InvalidResourceToken,
    PendingAbandoned,
    PendingDenied,
    PendingExpired,
    ServerError,
)
from ..json_body import parse_json_object
from ..keys import KeySet
from ..metadata import AccessServerMetadata
from ..tokens.wire import PERSON_DWK

__all__ = [
    "ERRORS",
    "MAX_RESPONSE",
    "AccessServerClient",
    "AccessServerUnavailable",
    "failure",
    "json_body",
]

MAX_RESPONSE = 256 * 1024
ERRORS: dict[str, type[AAuthError]] = {
    cls.code: cls
    for cls in (
        PendingDenied,
        PendingAbandoned,
        PendingExpired,
        InvalidCode,
        InsufficientTrust,
        InvalidAgentToken,
        ExpiredAgentToken,
        InvalidResourceToken,
        ExpiredResourceToken,
        InvalidRequest,
        Forbidden,
    )
}


class AccessServerUnavailable(ServerError):
    """The access server could not be reached; its state is durable, so try again later."""

    code, status = "temporarily_unavailable", 503


class AccessServerClient:
    """Signed requests from this person server to access servers, under egress rules."""

    def __init__(
        self,
        identifier: str,
        keys: KeySet,
        discovery: Discovery,
        *,
        max_wait: int = 20,
        allow_loopback_http: bool = False,
    ) -> None:
        self._identifier = identifier
        self._keys = keys
        self._discovery = discovery
        self.max_wait = max_wait
        timeout = float(max_wait + 10)
        self._policy = EgressPolicy(
            allow_loopback_http=allow_loopback_http,
            read_timeout=timeout,
            total_timeout=timeout,
            max_bytes=MAX_RESPONSE,
        )

    async def token_endpoint(self, access_server: str) -> str:
        """The AS's ``token_endpoint``, from its verified metadata (PS-08)."""
        metadata = await self._discovery.aget_document(access_server, AccessServerMetadata)
        return metadata.token_endpoint

    async def send(
        self, method: str, url: str, body: Mapping[str, Any] | None = None, wait: int = 0
    ) -> httpx.Response:
        """``method url`` signed as this PS (``jwks_uri`` scheme, PS-30), read whole."""
        member = JwksUri(self._identifier, PERSON_DWK, self._keys.current_kid)
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"content-type": "application/json"} if content is not None else {}
        if wait > 0:
            headers["prefer"] = f"wait={min(wait, self.max_wait)}"
        headers.update(
            RequestSigner(self._keys.current, member).sign(method, url, headers, content)
        )
        request = httpx.Request(method, url, headers=headers, content=content)
        try:
            async with asyncio.timeout(self._policy.total_timeout):
                async with AsyncEgressClient(self._policy) as client:
                    response = await client.send(request, stream=True)
                    received = bytearray()
                    async for chunk in response.aiter_bytes():
                        received += chunk
                        if len(received) > MAX_RESPONSE:
                            await response.aclose()
                            raise ServerError("the access server's answer is too large")
                    await response.aclose()
        except (httpx.HTTPError, TimeoutError) as exc:
            raise AccessServerUnavailable(
                f"the access server could not be reached ({type(exc).__name__})"
            ) from None
        return httpx.Response(
            response.status_code, headers=response.headers, content=bytes(received), request=request
        )


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The access server's answer as a strict JSON object (:mod:`aauth.json_body`), else
    ``{}``: what is passed on to the agent must be writable again (no ``NaN``, no lone
    surrogate), and a duplicated member must not be read differently here and there."""
    try:
        return parse_json_object(response.content or b"{}", max_bytes=MAX_RESPONSE)
    except InvalidRequest:
        return {}


def failure(response: httpx.Response) -> AAuthError:
    """The error an AS answer that is neither 200, 202 nor 402 stands for."""
    body = json_body(response)
    code, detail = str(body.get("error", "")), str(body.get("detail") or body.get("error", ""))
    if response.status_code == 401 and "signature-error" in response.headers:
        return ServerError(
            f"the access server refused this PS's signature: {response.headers['signature-error']}"
        )
    error = ERRORS.get(code)
    if error is None:
        return ServerError(f"the access server answered HTTP {response.status_code}: {detail}")
    return error(f"access server: {detail}")
