"""Negative matrix, tokens (§D): forged, confused, stale and misbound agent, resource and auth
tokens, first at ``TokenVerifier`` (``invalid_token`` family) and then as a resource meets them
inside ``Signature-Key`` (the ``Signature-Error`` codes, §C.6 step 5-6).

Each forged token is signed with the real issuer key unless the row is about the signature,
so the only thing wrong with it is the thing the row names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from aauth_signing import (
    ExpiredJWT,
    HttpRequest,
    InvalidJWT,
    InvalidKey,
    InvalidSignature,
    SigningKey,
    UnknownKey,
    UnsupportedAlgorithm,
    b64url_decode,
    jwk_from_public_key,
    jwk_thumbprint,
)

from aauth.agent.signer import AgentSigner
from aauth.errors import InvalidAuthToken, InvalidToken, TokenExpired, UntrustedIssuer
from aauth.keys import KeySet
from aauth.keysource import StaticKeySource
from aauth.resource import RequestVerifier, ResourcePolicy
from aauth.tokens import (
    TokenVerifier,
    issue_agent_token,
    issue_auth_token,
    issue_resource_token,
)

from .attacks import forge_jwt
from .matrix import Case, assert_refused, cases

NOW = 1_767_225_600
AP, PS, RESOURCE = "https://ap.example", "https://ps.example", "https://docs.example"
ROGUE = "https://rogue.example"
AGENT = "aauth:bot@ap.example"
AP_KEYS, PS_KEYS, RESOURCE_KEYS, ROGUE_KEYS = (KeySet.generate() for _ in range(4))
AGENT_KEY, OTHER_KEY = SigningKey.generate("Ed25519"), SigningKey.generate("Ed25519")
JKT = jwk_thumbprint(jwk_from_public_key(AGENT_KEY.public_key()))
ISSUER_KEYS = {AP: AP_KEYS, PS: PS_KEYS, RESOURCE: RESOURCE_KEYS, ROGUE: ROGUE_KEYS}
SOURCE = StaticKeySource({issuer: keys.jwks() for issuer, keys in ISSUER_KEYS.items()})
VERIFIER = TokenVerifier(SOURCE, trusted_issuers=(PS,), clock=lambda: NOW, cache_size=0)
BAD_TOKEN = (InvalidToken, "invalid_token", 401)
BAD_JWT = (InvalidJWT, "invalid_jwt", 401)

AGENT_TOKEN = issue_agent_token(
    AP_KEYS, iss=AP, sub=AGENT, cnf_jwk=AGENT_KEY.public_key(), ps=PS, now=NOW
)
AUTH_TOKEN = issue_auth_token(
    PS_KEYS, iss=PS, dwk="aauth-person.json", aud=RESOURCE, agent=AGENT,
    cnf_jwk=AGENT_KEY.public_key(), agent_exp=NOW + 3600, resource_scope="docs.read",
    scope="docs.read", sub="person-1", now=NOW,
)  # fmt: skip
RESOURCE_TOKEN = issue_resource_token(
    RESOURCE_KEYS, iss=RESOURCE, aud=PS, agent=AGENT, agent_jkt=JKT, scope="docs.read", now=NOW
)


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body))


def reissue(
    token: str,
    *,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    drop_header: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    key: SigningKey | None = None,
) -> str:
    """``token`` with header members and claims changed or dropped, re-signed by its issuer's
    real key (or ``key``), so only the change is wrong with it."""
    head, body = parts(token)
    head = {k: v for k, v in {**head, **(header or {})}.items() if k not in drop_header}
    body = {k: v for k, v in {**body, **(claims or {})}.items() if k not in drop}
    signer = key or ISSUER_KEYS[parts(token)[1]["iss"]].current
    return forge_jwt(signer, head, body)


def raw(token: str, *, header: bytes | None = None, claims: bytes | None = None) -> str:
    """``token`` with a segment replaced by exactly these bytes, validly signed."""
    head, body = parts(token)
    signer = ISSUER_KEYS[body["iss"]].current
    header = header or json.dumps(head).encode()
    return forge_jwt(signer, header, claims or json.dumps(body).encode())


def agent(token: Callable[[], str] | str, expected_jkt: str | None = JKT) -> Callable[[], object]:
    return lambda: VERIFIER.verify_agent_token(
        token() if callable(token) else token, expected_jkt=expected_jkt
    )


def auth(token: Callable[[], str] | str, **binding: Any) -> Callable[[], object]:
    options = {"audience": RESOURCE, "agent": AGENT, "request_jkt": JKT, **binding}
    return lambda: VERIFIER.verify_auth_token(token() if callable(token) else token, **options)


def resource_token(token: Callable[[], str] | str, **binding: Any) -> Callable[[], object]:
    options = {"audience": PS, "agent": AGENT, "agent_jkt": JKT, "approver": None, **binding}
    return lambda: VERIFIER.verify_resource_token(token() if callable(token) else token, **options)


def unsigned_none(token: str) -> str:
    """``token`` claiming ``alg: none``, with an empty signature."""
    head, body = parts(token)
    return forge_jwt(None, {**head, "alg": "none"}, body)


def hs256_with_public_key(token: str) -> str:
    """The classic confusion: HS256, keyed with the issuer's public key bytes."""
    head, body = parts(token)
    head["alg"] = "HS256"
    unsigned = forge_jwt(None, head, body).rsplit(".", 1)[0]
    secret = json.dumps(AP_KEYS.jwks()["keys"][0]).encode()
    mac = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
    return forge_jwt(None, head, body, signature=mac)


def cnf(**changes: Any) -> dict[str, Any]:
    jwk = {**jwk_from_public_key(AGENT_KEY.public_key()), **changes}
    return {"jwk": {k: v for k, v in jwk.items() if v is not None}}


def tampered(token: str) -> str:
    """A claim changed after signing: the signature no longer covers the payload."""
    signature = token.rsplit(".", 1)[1]
    forged = forge_jwt(None, parts(token)[0], {**parts(token)[1], "sub": "aauth:admin@ap.example"})
    return ".".join([*forged.split(".")[:2], signature])


TOKEN_ROWS = [
    # -- the JOSE header --
    Case("alg none, no signature", agent(lambda: unsigned_none(AGENT_TOKEN)), *BAD_TOKEN, "V-28"),
    Case("alg HS256 keyed with the issuer's public key", agent(lambda: hs256_with_public_key(
         AGENT_TOKEN)), *BAD_TOKEN, "V-28"),
    Case("alg EdDSA (polymorphic) without the legacy switch", agent(lambda: reissue(
         AGENT_TOKEN, header={"alg": "EdDSA"})), *BAD_TOKEN, "V-28"),
    Case("alg ES256 in the header of an Ed25519-signed token", agent(lambda: reissue(
         AGENT_TOKEN, header={"alg": "ES256"})), *BAD_TOKEN, "V-28"),
    Case("typ JWT instead of aa-agent+jwt", agent(lambda: reissue(
         AGENT_TOKEN, header={"typ": "JWT"})), *BAD_TOKEN, "V-26"),
    Case("auth token presented as an agent token", agent(AUTH_TOKEN), *BAD_TOKEN, "V-26"),
    Case("agent token presented as an auth token", auth(AGENT_TOKEN), *BAD_TOKEN, "RS-09"),
    Case("resource token presented as an auth token", auth(RESOURCE_TOKEN), *BAD_TOKEN, "RS-09"),
    Case("typ missing", agent(lambda: reissue(AGENT_TOKEN, drop_header=("typ",))), *BAD_TOKEN),
    Case("kid missing", agent(lambda: reissue(AGENT_TOKEN, drop_header=("kid",))), *BAD_TOKEN),
    Case("kid unknown to the issuer", agent(lambda: reissue(AGENT_TOKEN, header={"kid": "nope"})),
         UnknownKey, "unknown_key", 401, "V-26"),
    Case("crit header naming an extension", agent(lambda: reissue(
         AGENT_TOKEN, header={"crit": ["exp"]})), *BAD_TOKEN),
    Case("duplicate member in the header", agent(lambda: raw(AGENT_TOKEN, header=(
         b'{"alg": "Ed25519", "typ": "aa-agent+jwt", "typ": "JWT", "kid": "'
         + parts(AGENT_TOKEN)[0]["kid"].encode() + b'"}'))), *BAD_TOKEN),
    Case("header is not JSON", agent(lambda: raw(AGENT_TOKEN, header=b"{alg:")), *BAD_TOKEN),
    # -- the encoding --
    Case("payload is not base64url", agent(lambda: AGENT_TOKEN.split(".")[0] + ".$$$." +
         AGENT_TOKEN.split(".")[2]), *BAD_TOKEN),
    Case("signature is not base64url", agent(lambda: AGENT_TOKEN.rsplit(".", 1)[0] + ".***"),
         *BAD_TOKEN),
    Case("payload is a JSON array", agent(lambda: raw(AGENT_TOKEN, claims=b"[1, 2]")), *BAD_TOKEN),
    Case("payload with NaN", agent(lambda: raw(AGENT_TOKEN, claims=b'{"exp": NaN}')), *BAD_TOKEN),
    Case("payload with a duplicate claim", agent(lambda: raw(AGENT_TOKEN, claims=(
         json.dumps(parts(AGENT_TOKEN)[1])[:-1] + ', "sub": "aauth:admin@ap.example"}').encode())),
         *BAD_TOKEN),
    Case("four segments", agent(AGENT_TOKEN + ".x"), *BAD_TOKEN),
    Case("empty token", agent(""), *BAD_TOKEN),
    Case("token over 16 KiB", agent(lambda: reissue(AGENT_TOKEN, claims={"pad": "a" * 17000})),
         *BAD_TOKEN),
    Case("payload changed after signing", agent(lambda: tampered(AGENT_TOKEN)), *BAD_TOKEN, "V-26"),
    Case("signed by another issuer's key", agent(lambda: reissue(
         AGENT_TOKEN, key=ROGUE_KEYS.current)), *BAD_TOKEN, "V-26"),
    # -- times --
    Case("expired", agent(lambda: reissue(AGENT_TOKEN, claims={"exp": NOW - 61, "iat": NOW - 600})),
         TokenExpired, "invalid_token", 401, "V-26"),
    Case("nbf in the future", agent(lambda: reissue(AGENT_TOKEN, claims={"nbf": NOW + 3600})),
         *BAD_TOKEN, "V-26"),
    Case("iat in the future", agent(lambda: reissue(AGENT_TOKEN, claims={"iat": NOW + 3600})),
         *BAD_TOKEN, "V-26"),
    Case("exp missing", agent(lambda: reissue(AGENT_TOKEN, drop=("exp",))), *BAD_TOKEN, "V-26"),
    Case("exp is a string", agent(lambda: reissue(AGENT_TOKEN, claims={"exp": str(NOW + 60)})),
         *BAD_TOKEN, "V-26"),
    Case("exp is a boolean", agent(lambda: reissue(AGENT_TOKEN, claims={"exp": True})),
         *BAD_TOKEN, "V-26"),
    Case("auth token lifetime beyond the maximum", auth(lambda: reissue(
         AUTH_TOKEN, claims={"exp": NOW + 10 * 365 * 86400})), *BAD_TOKEN),
    # -- issuer and identifiers --
    Case("iss over plain http", agent(lambda: reissue(AGENT_TOKEN, claims={"iss": "http://ap.example"},
         key=AP_KEYS.current)), *BAD_TOKEN, "V-27", "V-30"),
    Case("iss of an issuer with no known keys", agent(lambda: reissue(
         AGENT_TOKEN, claims={"iss": "https://unknown.example", "sub": "aauth:bot@unknown.example"},
         key=AP_KEYS.current)), UnknownKey, "unknown_key", 401),
    Case("sub of another domain than iss", agent(lambda: reissue(
         AGENT_TOKEN, claims={"sub": "aauth:bot@evil.example"})), *BAD_TOKEN, "AP-04"),
    Case("sub not an agent identifier", agent(lambda: reissue(AGENT_TOKEN, claims={"sub": "bot"})),
         *BAD_TOKEN, "AP-04"),
    Case("dwk of another document", agent(lambda: reissue(
         AGENT_TOKEN, claims={"dwk": "aauth-person.json"})), *BAD_TOKEN, "V-26", "AP-03"),
    Case("jti missing", agent(lambda: reissue(AGENT_TOKEN, drop=("jti",))), *BAD_TOKEN, "AP-03"),
    # -- confirmation key (cnf) --
    Case("cnf missing", agent(lambda: reissue(AGENT_TOKEN, drop=("cnf",))), *BAD_TOKEN, "AP-03"),
    Case("cnf.jwk without alg", agent(lambda: reissue(AGENT_TOKEN, claims={"cnf": cnf(alg=None)})),
         *BAD_TOKEN, "AP-03"),
    Case("cnf.jwk is a symmetric key", agent(lambda: reissue(
         AGENT_TOKEN, claims={"cnf": {"jwk": {"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}}})),
         *BAD_TOKEN, "V-13"),
    Case("cnf binds another key than the request's", agent(AGENT_TOKEN, expected_jkt="other-jkt"),
         *BAD_TOKEN, "V-27"),
    # -- auth tokens at a resource --
    Case("auth token for another resource", auth(AUTH_TOKEN, audience="https://mail.example"),
         InvalidAuthToken, "invalid_token", 401, "RS-10"),
    Case("auth token from an untrusted issuer", auth(lambda: reissue(
         AUTH_TOKEN, claims={"iss": ROGUE}, key=ROGUE_KEYS.current)),
         UntrustedIssuer, "invalid_token", 401, "RS-09"),
    Case("auth token bound to another agent key", auth(AUTH_TOKEN, request_jkt="other-jkt"),
         InvalidAuthToken, "invalid_token", 401, "RS-12"),
    Case("auth token for another agent", auth(AUTH_TOKEN, agent="aauth:other@ap.example"),
         InvalidAuthToken, "invalid_token", 401, "RS-10"),
    Case("auth token scope is not a string", auth(lambda: reissue(
         AUTH_TOKEN, claims={"scope": ["docs.read"]})), *BAD_TOKEN),
    Case("auth token expired", auth(lambda: reissue(
         AUTH_TOKEN, claims={"exp": NOW - 3600, "iat": NOW - 7200})),
         TokenExpired, "invalid_token", 401, "RS-09"),
    Case("auth token aud is an array with another resource", auth(lambda: reissue(
         AUTH_TOKEN, claims={"aud": ["https://mail.example"]})), *BAD_TOKEN, "RS-10"),
    Case("auth token with neither sub nor scope", auth(lambda: reissue(
         AUTH_TOKEN, drop=("sub", "scope"))), *BAD_TOKEN, "RS-13"),
    Case("auth token act.agent not an agent identifier", auth(lambda: reissue(
         AUTH_TOKEN, claims={"act": {"agent": "not an agent"}})), *BAD_TOKEN, "RS-13"),
    # -- resource tokens at a PS --
    Case("resource token for another PS", resource_token(RESOURCE_TOKEN, audience=ROGUE),
         *BAD_TOKEN, "PS-03"),
    Case("resource token for another agent key", resource_token(
         RESOURCE_TOKEN, agent_jkt="other-jkt"), *BAD_TOKEN, "PS-03"),
    Case("resource token for another agent", resource_token(
         RESOURCE_TOKEN, agent="aauth:other@ap.example"), *BAD_TOKEN, "PS-03"),
    Case("resource token expired", resource_token(lambda: reissue(
         RESOURCE_TOKEN, claims={"exp": NOW - 3600, "iat": NOW - 3900})),
         TokenExpired, "invalid_token", 401, "PS-03"),
    Case("resource token scope missing", resource_token(lambda: reissue(
         RESOURCE_TOKEN, drop=("scope",))), *BAD_TOKEN),
]


# -- the same tokens as a resource meets them, inside Signature-Key (§C.6) ---------------------

def at_resource(
    token: str | Callable[[], str], key: SigningKey = AGENT_KEY, **policy: Any
) -> Callable[[], object]:
    """Sign a request to the resource with ``key``, presenting ``token`` (scheme jwt)."""

    def attack() -> object:
        presented = token() if callable(token) else token
        base = ResourcePolicy(
            resource=RESOURCE, trusted_issuers=(PS,), signature_window=10**10, **policy
        )
        verifier = RequestVerifier(base, SOURCE, clock=lambda: NOW)
        url = f"{RESOURCE}/notes"
        headers = AgentSigner(key, presented).sign("GET", url)
        return verifier.verify(HttpRequest("GET", url, headers))

    return attack


RESOURCE_ROWS = [
    Case("agent token expired", at_resource(lambda: reissue(
         AGENT_TOKEN, claims={"exp": NOW - 3600, "iat": NOW - 7200})),
         ExpiredJWT, "expired_jwt", 401, "V-14", "V-26"),
    Case("agent token with alg none", at_resource(lambda: unsigned_none(AGENT_TOKEN)),
         *BAD_JWT, "V-14", "V-28"),
    Case("agent token payload changed after signing", at_resource(lambda: tampered(AGENT_TOKEN)),
         *BAD_JWT, "V-14"),
    Case("resource token used to sign a request", at_resource(RESOURCE_TOKEN), *BAD_JWT, "V-14"),
    Case("auth token for another resource, in Signature-Key", at_resource(lambda: reissue(
         AUTH_TOKEN, claims={"aud": "https://mail.example"})), *BAD_JWT, "RS-10"),
    Case("auth token from an untrusted issuer, in Signature-Key", at_resource(lambda: reissue(
         AUTH_TOKEN, claims={"iss": ROGUE}, key=ROGUE_KEYS.current)), *BAD_JWT, "RS-09"),
    Case("request signed by another key than the token's cnf", at_resource(
         AGENT_TOKEN, key=OTHER_KEY), InvalidSignature, "invalid_signature", 401, "V-15", "V-27"),
    Case("cnf.jwk without alg, in Signature-Key", at_resource(lambda: reissue(
         AGENT_TOKEN, claims={"cnf": cnf(alg=None)})),
         UnsupportedAlgorithm, "unsupported_algorithm", 401, "V-49"),
    Case("cnf.jwk crv disagreeing with alg, in Signature-Key", at_resource(lambda: reissue(
         AGENT_TOKEN, claims={"cnf": cnf(crv="P-256")})), InvalidKey, "invalid_key", 401, "V-49"),
    Case("token kid unknown, in Signature-Key", at_resource(lambda: reissue(
         AGENT_TOKEN, header={"kid": "nope"})), UnknownKey, "unknown_key", 401, "V-26"),
    Case("token header not JSON, in Signature-Key", at_resource(lambda: raw(
         AGENT_TOKEN, header=b"[]")), *BAD_JWT, "V-14"),
]


@pytest.mark.parametrize("case", cases(TOKEN_ROWS))
def test_token_attack_is_refused(case: Case) -> None:
    assert_refused(case)


@pytest.mark.parametrize("case", cases(RESOURCE_ROWS))
def test_token_attack_is_refused_at_the_resource(case: Case) -> None:
    assert_refused(case)


def test_the_genuine_tokens_verify() -> None:
    """The control: the tokens every row starts from are good."""
    assert VERIFIER.verify_agent_token(AGENT_TOKEN, expected_jkt=JKT).sub == AGENT
    assert auth(AUTH_TOKEN)() is not None
    assert resource_token(RESOURCE_TOKEN)() is not None
    assert at_resource(AGENT_TOKEN)() is not None
    assert time.time() > NOW - 10**9
