"""aauth 0.3's agent side: the request signer, the challenge handler, polling a pending URL
and exchanging a resource token for an auth token at the person server.

The signer is :func:`~aauth.compat.signing.sign_request` with the agent's identity filled in;
it never sends the text ``None``: a scheme whose credential is missing raises
:class:`SignatureError` (B18, B20, B21).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aauth_signing import SignatureError

from ..egress import AsyncEgressClient
from ..errors import AAuthError
from ..tokens.wire import AGENT_DWK
from .errors import ChallengeError, TokenError
from .headers import (
    REQUIRE_AUTH_TOKEN,
    REQUIRE_IDENTITY,
    get_challenge_header_value,
    parse_aauth_header,
)
from .metadata import egress_policy, fetch_mm_metadata_async
from .signing import sign_request
from .tokens import parse_token_claims

__all__ = [
    "AgentRequestSigner",
    "ChallengeHandler",
    "PollingResult",
    "async_poll_pending_url",
    "exchange_resource_token",
    "extract_resource_token",
    "poll_pending_url",
]


class AgentRequestSigner:
    """Signs an agent's requests: ``hwk`` by default (B19), ``jwks_uri`` with ``agent_id``,
    ``kid`` and ``dwk``, ``jwt`` with ``agent_token``."""

    def __init__(
        self,
        private_key: Any,
        agent_id: str | None = None,
        agent_token: str | None = None,
        kid: str = "key-1",
        dwk: str = AGENT_DWK,
    ) -> None:
        self.private_key = private_key
        self.agent_id = agent_id
        self.agent_token = agent_token
        self.kid = kid
        self.dwk = dwk

    def sign_request(
        self,
        method: str,
        target_uri: str,
        headers: dict[str, str],
        body: bytes | None = None,
        sig_scheme: str = "hwk",
    ) -> dict[str, str]:
        """The signature headers to add (``headers`` is not modified)."""
        options: dict[str, Any] = {}
        if sig_scheme in ("jwks_uri", "jwks"):
            if not self.agent_id:
                raise SignatureError("agent_id required for jwks_uri scheme")
            options = {
                "id": self.agent_id,
                "dwk": self.dwk or AGENT_DWK,
                "kid": self.kid or "key-1",
            }
        elif sig_scheme == "jwt":
            if not self.agent_token:
                raise SignatureError("agent_token required for jwt scheme")
            options = {"jwt": self.agent_token}
        return sign_request(
            method, target_uri, headers, body, self.private_key, sig_scheme=sig_scheme, **options
        )


class ChallengeHandler:
    """Reads a challenge and picks the ``Signature-Key`` scheme that answers it."""

    def parse_challenge(self, aauth_header: str) -> dict[str, Any]:
        return parse_aauth_header(aauth_header)

    def determine_response_scheme(
        self, challenge: dict[str, Any], has_agent_token: bool = False, has_auth_token: bool = False
    ) -> str:
        """``jwt`` for an auth-token challenge (ChallengeError without an auth token) or an
        identity challenge with an agent token; ``jwks_uri`` for identity without one;
        ``hwk`` otherwise."""
        require = challenge.get("require") or challenge.get("requirement")
        if require == REQUIRE_AUTH_TOKEN:
            if has_auth_token:
                return "jwt"
            raise ChallengeError(
                "Challenge requires auth token but agent doesn't have one",
                challenge_type=REQUIRE_AUTH_TOKEN,
            )
        if require == REQUIRE_IDENTITY:
            return "jwt" if has_agent_token else "jwks_uri"
        return "hwk"


class PollingResult:
    """The outcome of polling a pending URL."""

    def __init__(
        self,
        success: bool,
        auth_token: str | None = None,
        response_body: dict[str, Any] | None = None,
        status_code: int = 0,
        error: str | None = None,
        error_description: str | None = None,
        require: str | None = None,
        code: str | None = None,
    ) -> None:
        self.success = success
        self.auth_token = auth_token
        self.response_body = response_body
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.require = require
        self.code = code

    def __repr__(self) -> str:
        return (
            f"PollingResult(success={self.success}, status_code={self.status_code}, "
            f"error={self.error!r})"
        )


_TERMINAL = {403: "denied", 408: "expired", 410: "invalid_code", 500: "server_error"}


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: Any, default: float) -> float:
    value = getattr(response, "headers", {}).get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else default
    except (TypeError, ValueError):
        return default


class _Step:
    """What one poll response means: a result, or how long to wait and what to tell."""

    def __init__(self, response: Any, attempt: int, default_wait: float) -> None:
        self.result: PollingResult | None = None
        self.wait = default_wait
        self.interaction: tuple[str, str] | None = None
        self.clarification: str | None = None
        status = response.status_code
        body = _json(response)
        if status == 200:
            self.result = PollingResult(True, body.get("auth_token"), body, 200)
        elif status in _TERMINAL:
            detail = body.get("detail", body.get("error_description"))
            error = body.get("error", _TERMINAL[status])
            self.result = PollingResult(False, None, body, status, error, detail)
        elif status in (202, 429, 503):
            self.wait = _retry_after(response, default_wait + (5 if status == 429 else 0))
            require = body.get("requirement") or body.get("require")
            code = body.get("code")
            header = get_challenge_header_value(getattr(response, "headers", None))
            if header:
                try:
                    parsed = parse_aauth_header(header)
                    require = require or parsed["requirement"]
                    code = code or parsed["code"]
                    if require == "interaction" and code and parsed["url"] and attempt == 0:
                        url = parsed["url"]
                        separator = "&" if "?" in url else "?"
                        self.interaction = (f"{url}{separator}code={code}", code)
                except ChallengeError:
                    pass
            if self.interaction is None and require == "interaction" and code and attempt == 0:
                self.interaction = (str(body.get("url") or ""), code)
            clarification = body.get("clarification")
            self.clarification = clarification if isinstance(clarification, str) else None
        else:
            self.result = PollingResult(
                False, None, body, status, "unexpected_status", f"Unexpected HTTP status {status}"
            )


def poll_pending_url(
    pending_url: str,
    sign_and_send_get: Callable[[str], Any],
    max_polls: int = 60,
    default_wait: int = 2,
    on_interaction: Callable[[str, str], None] | None = None,
    on_clarification: Callable[[str, str], str | None] | None = None,
    sign_and_send_post: Callable[[str, dict[str, Any]], Any] | None = None,
) -> PollingResult:
    """GET ``pending_url`` until a terminal answer, honouring ``Retry-After``."""
    for attempt in range(max_polls):
        try:
            response = sign_and_send_get(pending_url)
        except Exception as exc:  # the caller's transport: report, as 0.3 did
            return PollingResult(False, error="network_error", error_description=str(exc))
        step = _Step(response, attempt, default_wait)
        if step.result is not None:
            return step.result
        if step.interaction and on_interaction:
            on_interaction(*step.interaction)
        if step.clarification and on_clarification and sign_and_send_post:
            answer = on_clarification(pending_url, step.clarification)
            if answer:
                sign_and_send_post(pending_url, {"clarification_response": answer})
        if step.wait > 0:
            time.sleep(step.wait)
    return PollingResult(
        False,
        error="max_polls_exceeded",
        error_description=f"Exceeded maximum {max_polls} poll attempts",
    )


async def async_poll_pending_url(
    pending_url: str,
    sign_and_send_get: Callable[[str], Awaitable[Any]],
    max_polls: int = 60,
    default_wait: int = 2,
    on_interaction: Callable[[str, str], Awaitable[None]] | None = None,
    on_clarification: Callable[[str, str], Awaitable[str | None]] | None = None,
    sign_and_send_post: Callable[[str, dict[str, Any]], Awaitable[Any]] | None = None,
) -> PollingResult:
    """:func:`poll_pending_url` with awaited callbacks."""
    for attempt in range(max_polls):
        try:
            response = await sign_and_send_get(pending_url)
        except Exception as exc:
            return PollingResult(False, error="network_error", error_description=str(exc))
        step = _Step(response, attempt, default_wait)
        if step.result is not None:
            return step.result
        if step.interaction and on_interaction:
            await on_interaction(*step.interaction)
        if step.clarification and on_clarification and sign_and_send_post:
            answer = await on_clarification(pending_url, step.clarification)
            if answer:
                await sign_and_send_post(pending_url, {"clarification_response": answer})
        if step.wait > 0:
            await asyncio.sleep(step.wait)
    return PollingResult(
        False,
        error="max_polls_exceeded",
        error_description=f"Exceeded maximum {max_polls} poll attempts",
    )


def extract_resource_token(headers: Mapping[str, str]) -> str | None:
    """The resource token of an auth-token challenge among ``headers``, or None."""
    value = get_challenge_header_value(headers)
    if not value:
        return None
    try:
        token = parse_aauth_header(value).get("resource_token")
    except ChallengeError:
        return None
    return token if isinstance(token, str) else None


async def exchange_resource_token(
    resource_token: str,
    private_key: Any,
    agent_jwt: str,
    *,
    ps_discovery_timeout: float = 10.0,
    exchange_timeout: float = 30.0,
    on_interaction: Callable[[str, str], Awaitable[None]] | None = None,
    on_clarification: Callable[[str, str], Awaitable[str | None]] | None = None,
    max_polls: int = 60,
) -> str:
    """The auth token the resource token's person server (its ``aud``) issues, signing with
    the agent token; a 202 is polled. TokenError when none is obtained."""
    audience = parse_token_claims(resource_token)["payload"].get("aud")
    if not isinstance(audience, str) or not audience:
        raise TokenError("resource_token has no 'aud': cannot find the person server")
    try:
        metadata = await fetch_mm_metadata_async(audience, timeout=ps_discovery_timeout)
    except AAuthError as exc:
        raise TokenError(f"cannot discover the person server: {exc}") from exc
    endpoint = metadata.get("token_endpoint")
    if not isinstance(endpoint, str):
        raise TokenError("the person server's metadata has no token_endpoint")
    async with AsyncEgressClient(egress_policy(exchange_timeout)) as client:

        async def send(method: str, url: str, payload: dict[str, Any] | None) -> Any:
            body = None if payload is None else json.dumps(payload).encode()
            headers = {} if body is None else {"content-type": "application/json"}
            headers.update(
                sign_request(method, url, headers, body, private_key, "jwt", jwt=agent_jwt)
            )
            return await client.request(method, url, headers=headers, content=body)

        try:
            response = await send("POST", endpoint, {"resource_token": resource_token})
            if response.status_code == 202:
                location = response.headers.get("location")
                if not location:
                    raise TokenError("the person server answered 202 without a Location")
                pending = str(response.url.join(location))
                result = await async_poll_pending_url(
                    pending,
                    lambda url: send("GET", url, None),
                    max_polls=max_polls,
                    on_interaction=on_interaction,
                    on_clarification=on_clarification,
                    sign_and_send_post=lambda url, data: send("POST", url, data),
                )
                if not result.success or not result.auth_token:
                    raise TokenError(f"PS deferred exchange failed: {result.error}")
                return result.auth_token
        except AAuthError as exc:
            if isinstance(exc, TokenError):
                raise
            raise TokenError(f"PS token_endpoint request failed: {exc}") from exc
    token = _json(response).get("auth_token")
    if response.status_code != 200 or not isinstance(token, str):
        raise TokenError(f"PS token_endpoint returned HTTP {response.status_code}")
    return token
