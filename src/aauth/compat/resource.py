"""aauth 0.3's resource side: ``RequestVerifier`` with dict results, ``ResourceTokenIssuer``
and ``ChallengeBuilder``.

``aauth.RequestVerifier(canonical_authorities, …)`` and
``aauth.ResourceTokenIssuer(resource_id, resource_private_key, resource_kid, auth_server)``
build the classes here, subclasses of the typed ones. Auth tokens are accepted only from
``trusted_auth_servers`` (none without it: RS-09, §H.4). This verifier reads 0.3's forms
(``EdDSA``, alg-less JWKs, URL-form agent identifiers): its legacy switch is on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aauth_signing import HttpRequest, SignatureError

from ..errors import AAuthError
from ..headers import ACCEPT_SIGNATURE_SCHEME_HEADER, REQUIREMENT_HEADER
from ..keys import KeySet
from ..keysource import FetcherKeySource, StaticKeySource
from ..resource.challenge import ResourceTokenIssuer
from ..resource.policy import ResourcePolicy
from ..resource.verifier import RequestVerifier
from . import warn_legacy_call
from .errors import ChallengeError, TokenError
from .headers import (
    build_auth_token_requirement,
    build_identity_requirement,
    build_pseudonym_requirement,
)
from .keys import calculate_jwk_thumbprint, public_key_to_jwk, signing_key
from .tokens import create_resource_token

__all__ = ["ChallengeBuilder", "LegacyRequestVerifier", "LegacyResourceTokenIssuer"]


def _authority(value: str) -> str:
    """``host:443`` is ``host`` on the wire's ``@authority`` for https."""
    value = value.lower()
    return value[: -len(":443")] if value.endswith(":443") else value


class LegacyRequestVerifier(RequestVerifier):
    """0.3's verifier: every scheme, identity optional, results as plain dicts (B22–B24)."""

    def __init__(
        self,
        canonical_authorities: list[str],
        jwks_fetcher: Callable[..., Any] | None = None,
        trusted_auth_servers: list[str] | None = None,
    ) -> None:
        warn_legacy_call("RequestVerifier")
        authorities = tuple(_authority(a) for a in canonical_authorities)
        if not authorities:
            raise ValueError("canonical_authorities must name at least one authority")
        policy = ResourcePolicy(
            resource=f"https://{authorities[0]}",
            canonical_authorities=authorities,
            accepted_schemes=("jwt", "hwk", "jwks_uri", "jkt-jwt"),
            require_identity=False,
            trusted_issuers=tuple(trusted_auth_servers or ()),
            allow_loopback_http=True,
            allow_legacy=True,
        )
        keys = (
            StaticKeySource({})
            if jwks_fetcher is None
            else FetcherKeySource(jwks_fetcher, allow_legacy=True)
        )
        super().__init__(policy, keys)
        self.canonical_authorities = list(canonical_authorities)
        self.jwks_fetcher = jwks_fetcher
        self.trusted_auth_servers = list(trusted_auth_servers or [])

    def verify_request(
        self,
        method: str,
        target_uri: str,
        headers: dict[str, str],
        body: bytes | None,
        require_identity: bool = False,
        require_auth_token: bool = False,
    ) -> dict[str, Any]:
        """``{"valid": True, "agent_id", "act", "user_sub", "scopes"}``, or
        ``{"valid": False, "error", "error_code"}``; never raises for a bad request."""
        policy = self.policy.with_(require_auth_token=require_auth_token)
        try:
            request = HttpRequest(method, target_uri, dict(headers or {}), body)
            caller = self.verify(request, policy)
        except (SignatureError, AAuthError) as exc:
            return {"valid": False, "error": exc.description, "error_code": exc.code}
        agent_id = caller.agent_id
        if agent_id is None and caller.scheme == "jwks_uri":
            agent_id = (
                caller.signature.signature_key.signer if caller.signature.signature_key else None
            )
        if require_identity and agent_id is None:
            return {
                "valid": False,
                "error": "Agent identity required but not present",
                "error_code": "agent_token_required",
            }
        auth = caller.auth_token
        return {
            "valid": True,
            "agent_id": agent_id,
            "act": dict(auth.raw["act"]) if auth is not None and "act" in auth.raw else None,
            "user_sub": caller.subject,
            "scopes": list(auth.scope) if auth is not None else None,
        }


class LegacyResourceTokenIssuer(ResourceTokenIssuer):
    """0.3's issuer: a key, its ``kid``, and the auth server every token is for."""

    def __init__(
        self, resource_id: str, resource_private_key: Any, resource_kid: str, auth_server: str
    ) -> None:
        warn_legacy_call("ResourceTokenIssuer")
        keys = KeySet({resource_kid: signing_key(resource_private_key)}, resource_kid)
        super().__init__(resource_id, keys, access_server=auth_server, allow_loopback_http=True)
        self.resource_id = resource_id
        self.resource_private_key = resource_private_key
        self.resource_kid = resource_kid
        self.auth_server = auth_server

    def issue_token(
        self, agent_id: str, agent_public_key: Any, scope: str, exp: int | None = None
    ) -> str:
        """A resource token for ``agent_id``'s key; TokenError when it cannot be made."""
        try:
            jkt = calculate_jwk_thumbprint(public_key_to_jwk(agent_public_key))
        except (TypeError, ValueError) as exc:
            raise TokenError(f"Failed to issue resource token: {exc}") from exc
        return create_resource_token(
            self.resource_id,
            self.auth_server,
            agent_id,
            jkt,
            scope,
            self.resource_private_key,
            self.resource_kid,
            exp=exp,
        )


class ChallengeBuilder:
    """Builds the challenge a resource sends: ``(header name, value)``."""

    def __init__(
        self, resource_id: str, resource_private_key: Any, resource_kid: str, auth_server: str
    ) -> None:
        self.resource_id = resource_id
        self.resource_private_key = resource_private_key
        self.resource_kid = resource_kid
        self.auth_server = auth_server
        self._issuer = LegacyResourceTokenIssuer(
            resource_id, resource_private_key, resource_kid, auth_server
        )

    def build_challenge(
        self,
        require_signature: bool = True,
        require_identity: bool = False,
        require_auth_token: bool = False,
        agent_id: str | None = None,
        agent_public_key: Any = None,
        scope: str | None = None,
        components: list[str] | None = None,
        algs: list[str] | None = None,
    ) -> tuple[str, str]:
        """``AAuth-Requirement`` with a fresh resource token, or ``requirement=agent-token``;
        ``Accept-Signature-Scheme: hwk`` for pseudonymous access."""
        del require_signature, components, algs
        if require_auth_token:
            if not agent_id or agent_public_key is None or not scope:
                raise ChallengeError(
                    "agent_id, agent_public_key, and scope required for auth-token challenge"
                )
            token = self._issuer.issue_token(agent_id, agent_public_key, scope)
            return REQUIREMENT_HEADER, build_auth_token_requirement(token)
        if require_identity:
            return REQUIREMENT_HEADER, build_identity_requirement()
        return ACCEPT_SIGNATURE_SCHEME_HEADER, build_pseudonym_requirement()
