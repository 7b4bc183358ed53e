"""Getting an agent token from the agent provider, as a freshly started agent instance.

The instance proves it runs on behalf of an enrolled agent: the agent's long-term
(enrollment) key signs a ``jkt-jwt`` delegating to the instance's new request key, and the
request carrying it is signed with that instance key (SIGNATURE-KEY.md §2.2). The agent
provider answers with an agent token bound to the instance key.

    token = request_agent_token("https://ap.example", enrolled_key, instance_key, client)
    signer = AgentSigner(instance_key, token)

A named instance (``instance="laptop"``) gets the identifier ``aauth:<agent>.laptop@…``,
which it keeps when it enrolls again with a new key. A running instance obtains tokens for
its sub-agents with :func:`request_subagent_token`: the proof is then signed by the
instance's own (current) key and names the sub-agent's discriminator (§D.1).
"""

from __future__ import annotations

import secrets
import time

import httpx
from aauth_signing import JktJwt, RequestSigner, SigningKey, VerifyingKey

from .. import jwt
from ..agent_provider import AGENT_TOKEN_PATH, JKT_S256_PREFIX, MAX_PROOF_LIFETIME
from ..delegates import is_delegate_name
from ..errors import AAuthError, InvalidRequest, InvalidToken
from ..json_body import parse_json_object
from ..keys import jwk_from_public_key, thumbprint
from ..tokens import decode_unverified
from ..tokens.verifier import AGENT_TOKEN
from .flow import Flow, run_async, run_sync

__all__ = [
    "JKT_S256_TYP",
    "AgentTokenRefused",
    "arequest_agent_token",
    "enrollment_proof",
    "request_agent_token",
    "request_subagent_token",
]

JKT_S256_TYP = "jkt-s256+jwt"


class AgentTokenRefused(AAuthError):
    """The agent provider did not issue an agent token; ``error`` is the code it gave."""

    code, status = "agent_token_refused", 502

    def __init__(self, description: str, *, upstream_status: int, error: str | None) -> None:
        super().__init__(description)
        self.upstream_status = upstream_status
        self.error = error


def enrollment_proof(
    enrollment_key: SigningKey,
    instance_key: VerifyingKey,
    *,
    lifetime: int = 60,
    now: float | None = None,
    instance: str | None = None,
    discriminator: str | None = None,
) -> str:
    """The ``jkt-s256+jwt`` in which ``enrollment_key`` delegates to ``instance_key``.

    ``instance`` names the instance; ``discriminator`` (with a parent instance's key as
    ``enrollment_key``) asks for a sub-agent.
    """
    if not 0 < lifetime <= MAX_PROOF_LIFETIME:
        raise ValueError(f"an enrollment proof lives 1..{MAX_PROOF_LIFETIME} seconds")
    enrolled = jwk_from_public_key(enrollment_key.public_key())
    jkt = thumbprint(enrolled)
    iat = int(time.time() if now is None else now)
    claims = {
        "iss": JKT_S256_PREFIX + jkt,
        "iat": iat,
        "exp": iat + lifetime,
        "jti": secrets.token_urlsafe(16),
        "cnf": {"jwk": jwk_from_public_key(instance_key)},
    }
    for name, value in (("instance", instance), ("discriminator", discriminator)):
        if value is not None:
            if not is_delegate_name(value):
                raise ValueError(f"{name} must be 1-64 characters of [a-z0-9_-]")
            claims[name] = value
    return jwt.encode(
        claims, enrollment_key, typ=JKT_S256_TYP, kid=jkt, extra_header={"jwk": enrolled}
    )


def _flow(
    ap_url: str,
    enrollment_key: SigningKey,
    instance_key: SigningKey,
    allow_loopback_http: bool,
    instance: str | None = None,
    discriminator: str | None = None,
) -> Flow[str]:
    url = ap_url.rstrip("/") + AGENT_TOKEN_PATH
    proof = enrollment_proof(
        enrollment_key, instance_key.public_key(), instance=instance, discriminator=discriminator
    )
    headers = RequestSigner(instance_key, JktJwt(proof)).sign("POST", url)
    response = yield httpx.Request("POST", url, headers=headers)
    assert response is not None
    try:
        body = parse_json_object(response.content)
    except InvalidRequest:
        body = {}
    if response.status_code != 200:
        error = body.get("error") if isinstance(body.get("error"), str) else None
        raise AgentTokenRefused(
            f"{url} answered {response.status_code}: {body.get('detail') or error or ''}",
            upstream_status=response.status_code,
            error=error,
        )
    token = body.get("agent_token")
    if not isinstance(token, str):
        raise InvalidToken("the agent provider's answer has no 'agent_token'")
    claims = decode_unverified(AGENT_TOKEN, token, allow_loopback_http=allow_loopback_http)
    if claims.iss != ap_url.rstrip("/"):
        raise InvalidToken(f"the agent token was issued by {claims.iss!r}, not {ap_url!r}")
    if claims.jkt != thumbprint(instance_key):
        raise InvalidToken("the agent token is not bound to this instance's key")
    if (claims.parent_agent is not None) != (discriminator is not None):
        raise InvalidToken("the agent token's 'parent_agent' is not what was asked for")
    return token


def request_agent_token(
    ap_url: str,
    enrollment_key: SigningKey,
    instance_key: SigningKey,
    client: httpx.Client,
    *,
    instance: str | None = None,
    allow_loopback_http: bool = False,
) -> str:
    """An agent token for ``instance_key`` from the agent provider ``ap_url`` (its
    identifier), proven with ``enrollment_key``; checked to name that provider and key.
    ``instance`` names this instance (its identifier then survives key changes).

    Raises AgentTokenRefused when the provider says no, InvalidToken for a bad answer.
    """
    flow = _flow(ap_url, enrollment_key, instance_key, allow_loopback_http, instance)
    return run_sync(flow, client)


def request_subagent_token(
    ap_url: str,
    parent_key: SigningKey,
    subagent_key: SigningKey,
    discriminator: str,
    client: httpx.Client,
    *,
    allow_loopback_http: bool = False,
) -> str:
    """An agent token for a sub-agent holding ``subagent_key``, asked for by the running
    agent whose current key is ``parent_key``; it names that agent in ``parent_agent``.

    Raises AgentTokenRefused when the provider says no (403 for a sub-agent's key, AP-06).
    """
    flow = _flow(ap_url, parent_key, subagent_key, allow_loopback_http, discriminator=discriminator)
    return run_sync(flow, client)


async def arequest_agent_token(
    ap_url: str,
    enrollment_key: SigningKey,
    instance_key: SigningKey,
    client: httpx.AsyncClient,
    *,
    instance: str | None = None,
    allow_loopback_http: bool = False,
) -> str:
    """The asynchronous form of :func:`request_agent_token`."""
    flow = _flow(ap_url, enrollment_key, instance_key, allow_loopback_http, instance)
    return await run_async(flow, client)
