"""K.0 verifier requirements over HTTP: bad signatures sent to the example resource in-process,
each answered with the exact status and ``Signature-Error`` code the checklist names.

The resource trusts a PS and any agent provider whose keys it knows (statically, no network);
every request here goes through its ASGI app, middleware and error rendering.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aauth_signing import HttpRequest, Jwt, SigningKey, VerificationPolicy, sign, sign_request

from aauth import jwt
from aauth.agent.signer import AgentSigner
from aauth.headers import parse_signature_error
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.tokens import issue_agent_token

AP = "https://ap.example"
PS = "https://ps.example"
API = "https://api.example"
AGENT = "aauth:bot@ap.example"
WHOAMI = f"{API}/whoami"


class World:
    def __init__(self, client: httpx.Client, ap: KeySet) -> None:
        self.client = client
        self.ap = ap
        self.key = generate_key()
        self.token = issue_agent_token(ap, iss=AP, sub=AGENT, cnf_jwk=self.key.public_key(), ps=PS)
        self.signer = AgentSigner(self.key, self.token)

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> httpx.Response:
        return self.client.request(method, url, headers=headers, content=body)

    def signed(self, method: str = "GET", url: str = WHOAMI, **kw: Any) -> httpx.Response:
        body = kw.pop("body", None)
        headers = dict(kw.pop("headers", {}))
        headers.update(self.signer.sign(method, url, headers, body, **kw))
        return self.send(method, url, headers, body)

    def agent_token_with(self, cnf_jwk: dict[str, Any], **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": AP,
            "dwk": "aauth-agent.json",
            "sub": AGENT,
            "jti": f"j{now}{len(str(cnf_jwk))}",
            "cnf": {"jwk": cnf_jwk},
            "ps": PS,
            "iat": now,
            "exp": now + 600,
            **claims,
        }
        return jwt.encode(payload, self.ap.current, typ="aa-agent+jwt", kid=self.ap.current_kid)


@pytest.fixture
def world(asgi_client: Callable[..., httpx.Client]) -> World:
    ap, ps = KeySet.generate(), KeySet.generate()
    keys = StaticKeySource({AP: ap.jwks(), PS: ps.jwks()})
    config = ResourceServerConfig(identifier=API, trusted_issuers=(PS,))
    return World(asgi_client(create_resource_server(config, key_source=keys), API), ap)


def error_of(response: httpx.Response, code: str, status: int = 401) -> Any:
    assert response.status_code == status, response.text
    info = parse_signature_error(response.headers["signature-error"])
    assert info.error == code, response.headers["signature-error"]
    assert response.headers["content-type"].startswith("application/problem+json")
    return info


def signed_with(
    key: SigningKey, member_text: str, components: list[str], url: str = WHOAMI, **params: Any
) -> dict[str, str]:
    headers = {"Signature-Key": f"sig={member_text}"}
    request = HttpRequest("GET", url, headers)
    headers.update(sign(request, key, components, **params))
    return headers


FOUR = ["@method", "@authority", "@path", "signature-key"]


def test_v01_v16_missing_signature_headers_are_invalid_request(world: World) -> None:
    for drop in ("Signature", "Signature-Input", "Signature-Key"):
        headers = world.signer.sign("GET", WHOAMI)
        del headers[drop]
        error_of(world.send("GET", WHOAMI, headers), "invalid_request")


@pytest.mark.parametrize("left_out", ["@method", "@authority", "@path"])
def test_v02_an_uncovered_base_component_is_invalid_input_with_required_input(
    world: World, left_out: str
) -> None:
    member = Jwt(world.token).serialize()
    components = [c for c in FOUR if c != left_out]
    info = error_of(
        world.send("GET", WHOAMI, signed_with(world.key, member, components)), "invalid_input"
    )
    assert set(FOUR) <= set(info.required_input)


def test_v02_v03_uncovered_signature_key_is_invalid_input_with_required_input(world: World) -> None:
    member = Jwt(world.token).serialize()
    headers = signed_with(world.key, member, FOUR[:3])
    info = error_of(world.send("GET", WHOAMI, headers), "invalid_input")
    assert "signature-key" in info.required_input


def test_v04_an_uncovered_query_is_invalid_input_naming_it(world: World) -> None:
    url = WHOAMI + "?verbose=1"
    member = Jwt(world.token).serialize()
    info = error_of(
        world.send("GET", url, signed_with(world.key, member, FOUR, url)), "invalid_input"
    )
    assert "@query" in info.required_input


def test_v04_v47_an_uncovered_body_digest_is_invalid_input_naming_it(world: World) -> None:
    url, body = f"{API}/public/hello", b'{"a":1}'
    request = HttpRequest("POST", url, {"Content-Type": "application/json"}, body)
    headers = {"Content-Type": "application/json"}
    headers.update(sign_request(request, world.key, Jwt(world.token), components=FOUR))
    headers.pop("Content-Digest", None)
    info = error_of(world.send("POST", url, headers, body), "invalid_input")
    assert "content-digest" in info.required_input


def test_v47_a_digest_over_another_body_is_invalid_signature(world: World) -> None:
    url = f"{API}/public/hello"
    headers = {"Content-Type": "application/json"}
    headers.update(world.signer.sign("POST", url, headers, b'{"a":1}'))
    error_of(world.send("POST", url, headers, b'{"a":2}'), "invalid_signature")


@pytest.mark.parametrize(
    "params",
    [{"created": -1}, {"created": int(time.time()) - 600}, {"created": int(time.time()) + 600}],
    ids=["absent", "too-old", "future"],
)
def test_v05_created_absent_or_outside_the_window_is_invalid_signature(
    world: World, params: dict[str, int]
) -> None:
    headers = signed_with(world.key, Jwt(world.token).serialize(), FOUR, **params)
    error_of(world.send("GET", WHOAMI, headers), "invalid_signature")


def test_v06_an_expired_signature_is_invalid_signature(world: World) -> None:
    now = int(time.time())
    headers = signed_with(
        world.key, Jwt(world.token).serialize(), FOUR, created=now - 5, expires=now - 1
    )
    error_of(world.send("GET", WHOAMI, headers), "invalid_signature")


def test_v09_v19_an_unknown_selected_scheme_is_unsupported_scheme(world: World) -> None:
    headers = signed_with(world.key, 'telepathy;x="1"', FOUR)
    response = world.send("GET", WHOAMI, headers)
    error_of(response, "unsupported_scheme")
    assert {s.strip() for s in response.headers["accept-signature-scheme"].split(",")} == {
        "jwt",
        "hwk",
    }


def _hwk(jwk: dict[str, str]) -> str:
    return "hwk;" + ";".join(f'{k}="{v}"' for k, v in jwk.items())


def test_v11_hwk_key_whose_curve_disagrees_with_alg_is_invalid_key(world: World) -> None:
    jwk = {**world.signer.jwk, "crv": "X25519"}
    error_of(
        world.send(
            "GET",
            f"{API}/public/hello",
            signed_with(world.key, _hwk(jwk), FOUR, f"{API}/public/hello"),
        ),
        "invalid_key",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"alg": None},
        {"alg": "EdDSA"},
        {"alg": "none"},
        {"alg": "HS256"},
        {"kty": "oct", "k": "AAAA"},
    ],
    ids=["absent", "polymorphic", "none", "HS256", "oct"],
)
def test_v12_v13_v18_hwk_key_without_a_usable_alg_is_unsupported_algorithm(
    world: World, change: dict[str, str | None]
) -> None:
    jwk = {k: v for k, v in {**world.signer.jwk, **change}.items() if v is not None}
    url = f"{API}/public/hello"
    response = world.send("GET", url, signed_with(world.key, _hwk(jwk), FOUR, url))
    error_of(response, "unsupported_algorithm")
    accepted = {a.strip() for a in response.headers["accept-signature-alg"].split(",")}
    assert accepted == {"Ed25519", "ES256"}  # V-18: exactly the accepted ones, none symmetric


def test_v49_jwt_cnf_jwk_whose_curve_disagrees_with_alg_is_invalid_key(world: World) -> None:
    token = world.agent_token_with({**world.signer.jwk, "crv": "X25519"})
    response = world.signed(token=token)
    error_of(response, "invalid_key")


@pytest.mark.parametrize("alg", [None, "EdDSA", "RS1"], ids=["absent", "polymorphic", "unknown"])
def test_v49_jwt_cnf_jwk_without_a_usable_alg_is_unsupported_algorithm(
    world: World, alg: str | None
) -> None:
    jwk = {k: v for k, v in world.signer.jwk.items() if k != "alg"}
    if alg is not None:
        jwk["alg"] = alg
    response = world.signed(token=world.agent_token_with(jwk))
    error_of(response, "unsupported_algorithm")
    assert {a.strip() for a in response.headers["accept-signature-alg"].split(",")} == {
        "Ed25519",
        "ES256",
    }


@pytest.mark.parametrize("token", ["not-a-jwt", "e30.e30.AAAA"], ids=["garbage", "unsigned"])
def test_v14_an_unparseable_or_unverifiable_assertion_is_invalid_jwt(
    world: World, token: str
) -> None:
    headers = signed_with(world.key, Jwt(token).serialize(), FOUR)
    error_of(world.send("GET", WHOAMI, headers), "invalid_jwt")


def test_v14_an_expired_agent_token_is_expired_jwt(world: World) -> None:
    token = world.agent_token_with(
        world.signer.jwk, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600
    )
    error_of(world.signed(token=token), "expired_jwt")


def test_v15_a_signature_that_does_not_verify_is_invalid_signature(world: World) -> None:
    headers = world.signer.sign("GET", WHOAMI)
    raw = bytearray(base64.b64decode(headers["Signature"].split(":")[1]))
    raw[0] ^= 1
    headers["Signature"] = "sig=:" + base64.b64encode(bytes(raw)).decode() + ":"
    error_of(world.send("GET", WHOAMI, headers), "invalid_signature")


def test_v48_a_signature_made_for_another_authority_is_refused(world: World) -> None:
    headers = world.signer.sign("GET", "https://other.example/whoami")
    error_of(world.send("GET", WHOAMI, headers), "invalid_signature")


@pytest.mark.parametrize("algorithms", [("Ed25519", "none"), ("ES256", "HS256"), ("EdDSA",)])
def test_v18_a_policy_refuses_none_unknown_and_symmetric_algorithms(
    algorithms: tuple[str, ...],
) -> None:
    with pytest.raises(ValueError, match="accepted_algorithms"):
        VerificationPolicy.aauth(accepted_algorithms=algorithms)
    with pytest.raises(ValueError, match="accepted_algorithms"):
        VerificationPolicy.generic(accepted_algorithms=algorithms)


def test_v18_plain_verification_without_signature_key_may_use_a_shared_secret() -> None:
    """The one place a symmetric algorithm stays: :func:`aauth_signing.verify` with a key the
    caller already holds, where no ``Accept-Signature-Alg`` is ever sent."""
    policy = VerificationPolicy.generic(accepted_schemes=(), accepted_algorithms=("HS256",))
    assert policy.accepted_algorithms == ("HS256",)
