"""The 0.3-era convenience API, kept so existing code keeps working.

Each name here is a thin wrapper over the typed API (:mod:`aauth.resource`,
:mod:`aauth.tokens`, :mod:`aauth_signing`) with the parameter names earlier releases used.
They emit only the protocol-10 forms. Two functions keep their historical boolean or dict
results, as documented on each; everything else raises on failure like the rest of aauth.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aauth_signing import (
    HttpRequest,
    Hwk,
    JwksUri,
    Jwt,
    SignatureError,
    SignatureKeyMember,
    SigningKey,
    VerificationPolicy,
    VerifyingKey,
    jwk_from_public_key,
    jwk_thumbprint,
)
from aauth_signing import (
    sign_request as _sign_request,
)
from aauth_signing import (
    verify_request as _verify_request,
)
from cryptography.hazmat.primitives.asymmetric import ed25519

from . import jwt
from .errors import AAuthError, InvalidToken
from .headers import (
    AgentTokenRequirement,
    AuthTokenRequirement,
    HeaderError,
    InteractionRequirement,
    build_requirement,
    parse_challenge,
)
from .keysource import JwksFetcher, KeySource, as_key_source
from .token_keys import TokenKeyResolver
from .tokens import TokenVerifier, issue_auth_token, issue_resource_token
from .tokens.wire import ACCESS_DWK, AGENT_DWK

__all__ = [
    "AgentRequestSigner",
    "build_agent_auth_challenge",
    "calculate_jwk_thumbprint",
    "create_auth_token",
    "create_resource_token",
    "generate_ed25519_keypair",
    "parse_agent_auth_header",
    "parse_token_claims",
    "public_key_to_jwk",
    "sign_request",
    "verify_agent_token",
    "verify_signature",
]

PublicKeyLike = ed25519.Ed25519PublicKey | VerifyingKey
PrivateKeyLike = ed25519.Ed25519PrivateKey | SigningKey


def _signing_key(private_key: PrivateKeyLike) -> SigningKey:
    return (
        private_key if isinstance(private_key, SigningKey) else SigningKey(private_key, "Ed25519")
    )


def _verifying_key(public_key: PublicKeyLike) -> VerifyingKey:
    if isinstance(public_key, VerifyingKey):
        return public_key
    return VerifyingKey(public_key, "Ed25519")


# -- keys ---------------------------------------------------------------------------------------


def generate_ed25519_keypair() -> tuple[ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey]:
    """A fresh Ed25519 key pair as ``cryptography`` objects."""
    private = ed25519.Ed25519PrivateKey.generate()
    return private, private.public_key()


def public_key_to_jwk(public_key: PublicKeyLike, kid: str | None = None) -> dict[str, str]:
    """The public JWK (with ``alg`` ``Ed25519``) of an Ed25519 public key."""
    return jwk_from_public_key(_verifying_key(public_key), kid=kid)


def calculate_jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url."""
    return jwk_thumbprint(jwk)


# -- signing ------------------------------------------------------------------------------------


def _member(
    private_key: SigningKey, sig_scheme: str, options: Mapping[str, Any]
) -> SignatureKeyMember:
    if sig_scheme == "hwk":
        return Hwk.from_public_key(private_key.public_key())
    if sig_scheme in ("jwks", "jwks_uri"):
        return JwksUri(str(options["id"]), str(options.get("dwk", AGENT_DWK)), str(options["kid"]))
    if sig_scheme == "jwt":
        return Jwt(str(options["jwt"]))
    raise ValueError(f"unknown sig_scheme {sig_scheme!r}; use 'hwk', 'jwks' or 'jwt'")


def sign_request(
    method: str,
    target_uri: str,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    private_key: PrivateKeyLike,
    sig_scheme: str = "hwk",
    **options: Any,
) -> dict[str, str]:
    """The headers to send with a signed request; ``headers`` is not modified.

    ``sig_scheme``: ``"hwk"`` (inline key), ``"jwks"`` (the ``jwks_uri`` scheme; pass
    ``id`` and ``kid``, optionally ``dwk``), or ``"jwt"`` (pass ``jwt``).
    """
    key = _signing_key(private_key)
    request = HttpRequest(method, target_uri, dict(headers or {}), body)
    return _sign_request(request, key, _member(key, sig_scheme, options))


def verify_signature(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    body: bytes | None,
    signature_input_header: str,
    signature_header: str,
    signature_key_header: str,
    jwks_fetcher: JwksFetcher | KeySource | None = None,
) -> bool:
    """True when the signature verifies; False otherwise (this wrapper keeps the old bool).

    Use :func:`aauth_signing.verify_request` or :class:`RequestVerifier` to learn *why* a
    signature failed: they raise errors carrying the ``Signature-Error`` code.
    """
    message = HttpRequest(method, target_uri, dict(headers), body).with_headers(
        {
            "Signature-Input": signature_input_header,
            "Signature": signature_header,
            "Signature-Key": signature_key_header,
        }
    )
    policy = VerificationPolicy.generic(accepted_schemes=("hwk", "jwks_uri", "jwt"))
    keys = as_key_source(jwks_fetcher)
    resolver = TokenKeyResolver(
        keys,
        TokenVerifier(keys, trusted_issuers=None),
        audience=None,
        accepted=policy.accepted_schemes,
    )
    try:
        _verify_request(message, policy, resolver)
    except (SignatureError, AAuthError):
        return False
    return True


class AgentRequestSigner:
    """Signs an agent's requests (``jwt`` with its agent token by default)."""

    def __init__(
        self,
        private_key: PrivateKeyLike,
        agent_id: str | None = None,
        agent_token: str | None = None,
        *,
        kid: str | None = None,
    ) -> None:
        self.key = _signing_key(private_key)
        self.agent_id = agent_id
        self.agent_token = agent_token
        self.kid = kid

    def sign_request(
        self,
        method: str,
        target_uri: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        sig_scheme: str | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, str]:
        """Headers to add. ``sig_scheme`` defaults to ``jwt`` when a token is at hand."""
        presented = token or self.agent_token
        scheme = sig_scheme or ("jwt" if presented else "hwk")
        options = {"jwt": presented, "id": self.agent_id, "kid": self.kid}
        return sign_request(method, target_uri, headers, body, self.key, scheme, **options)


# -- tokens -------------------------------------------------------------------------------------


def create_resource_token(
    iss: str,
    aud: str,
    agent: str,
    agent_jkt: str,
    scope: str,
    private_key: PrivateKeyLike,
    kid: str,
    **options: Any,
) -> str:
    """An ``aa-resource+jwt`` (protocol-10 §D.2) signed with ``private_key``."""
    return issue_resource_token(
        _signing_key(private_key),
        iss=iss,
        aud=aud,
        agent=agent,
        agent_jkt=agent_jkt,
        scope=scope,
        kid=kid,
        **options,
    )


def create_auth_token(
    iss: str,
    aud: str,
    agent: str,
    cnf_jwk: Mapping[str, Any],
    scope: str,
    private_key: PrivateKeyLike,
    kid: str,
    *,
    dwk: str = ACCESS_DWK,
    agent_exp: float | None = None,
    **options: Any,
) -> str:
    """An ``aa-auth+jwt`` (protocol-10 §D.3). ``dwk`` defaults to ``aauth-access.json`` as
    before; a Person Server issuing 3-party tokens passes ``aauth-person.json``."""
    return issue_auth_token(
        _signing_key(private_key),
        iss=iss,
        dwk=dwk,
        aud=aud,
        agent=agent,
        cnf_jwk=cnf_jwk,
        agent_exp=agent_exp if agent_exp is not None else time.time() + 3600,
        resource_scope=scope,
        scope=scope,
        kid=kid,
        **options,
    )


def verify_agent_token(
    token: str,
    jwks_fetcher: JwksFetcher | KeySource,
    expected_aud: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The verified claims of an agent token; raises InvalidToken when it does not verify.

    ``expected_aud`` is checked only against tokens that carry ``aud`` (an extension some
    agent providers add; protocol-10 agent tokens have none).
    """
    claims = TokenVerifier(as_key_source(jwks_fetcher), **options).verify_agent_token(
        token, expected_jkt=None
    )
    aud = claims.raw.get("aud")
    if expected_aud is not None and aud is not None:
        audiences = aud if isinstance(aud, list) else [aud]
        if expected_aud not in audiences:
            raise InvalidToken(f"agent token 'aud' does not include {expected_aud!r}")
    return dict(claims.raw)


def parse_token_claims(token: str) -> dict[str, Any]:
    """The claims of any AAuth token, UNVERIFIED (for display and routing only)."""
    return jwt.peek(token)[1]


# -- challenges ---------------------------------------------------------------------------------


def parse_agent_auth_header(value: str) -> dict[str, Any]:
    """A challenge header (today's ``AAuth-Requirement`` or a legacy form) as a dict with
    ``requirement``, ``identity``, ``auth_token``, ``resource_token``, ``auth_server``,
    ``url`` and ``code``; raises HeaderError when it is not a challenge."""
    requirement = parse_challenge(value)
    result: dict[str, Any] = {
        "httpsig": True,
        "requirement": requirement.name,
        "require": requirement.name,
        "identity": isinstance(requirement, AgentTokenRequirement),
        "auth_token": isinstance(requirement, AuthTokenRequirement),
        "resource_token": None,
        "auth_server": None,
        "url": None,
        "code": None,
    }
    if isinstance(requirement, AuthTokenRequirement):
        result["resource_token"] = requirement.resource_token
        result["auth_server"] = requirement.auth_server
    if isinstance(requirement, InteractionRequirement):
        result["url"], result["code"] = requirement.url, requirement.code
    return result


def build_agent_auth_challenge(
    require_signature: bool = True,
    require_identity: bool = False,
    require_auth_token: bool = False,
    resource_token: str | None = None,
    auth_server: str | None = None,
) -> str:
    """The ``AAuth-Requirement`` value for a 401.

    ``auth_server`` is accepted and ignored: since protocol-01 the agent finds the server
    from the resource token's ``aud``. A signature-only requirement has no
    ``AAuth-Requirement`` form any more; send ``Accept-Signature-Scheme: hwk`` instead.
    """
    del auth_server
    if require_auth_token:
        if not resource_token:
            raise ValueError("an auth-token challenge needs the resource_token")
        return build_requirement(AuthTokenRequirement(resource_token))
    if require_identity:
        return build_requirement(AgentTokenRequirement())
    if not require_signature:
        raise ValueError("a challenge must require at least a signature")
    raise HeaderError(
        "signature-only access is signalled with 'Accept-Signature-Scheme: hwk', "
        "not AAuth-Requirement"
    )
