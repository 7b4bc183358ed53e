"""The example resource, in-process: metadata, each access level, /authorize, configuration."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from aauth_signing import public_key_from_jwk

from aauth import jwt
from aauth.headers import AuthTokenRequirement, parse_requirement
from aauth.keysource import StaticKeySource
from aauth.metadata import ResourceMetadata
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.tokens import ResourceTokenClaims, decode_unverified
from aauth.tokens.verifier import RESOURCE_TOKEN

from .conftest import AGENT, AP, API, PS, Api

AS = "https://as.example"


def resource_token_from(response_header: str) -> ResourceTokenClaims:
    requirement = parse_requirement(response_header)
    assert isinstance(requirement, AuthTokenRequirement)
    return decode_unverified(RESOURCE_TOKEN, requirement.resource_token)


# -- metadata ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/.well-known/aauth-resource.json", "/.well-known/aauth-resource"]
)
def test_rs21_metadata_document(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 200
    document = response.json()
    assert document == {
        "issuer": API,
        "jwks_uri": f"{API}/.well-known/jwks.json",
        "name": "Example data",
        "access_mode": "auth-token",
        "authorization_endpoint": f"{API}/authorize",
        "scope_descriptions": {"data.read": "Read your data", "data.write": "Add to your data"},
        "signature_window": 60,
        "revocation_endpoint": f"{API}/revoke",
        "additional_signature_components": ["@query", "content-digest"],  # V-46
    }
    assert ResourceMetadata.from_json(document, API).authorization_endpoint == f"{API}/authorize"


def test_rs03_resource_tokens_verify_with_the_published_jwks(api: Api) -> None:
    keys = api.client.get("/.well-known/jwks.json").json()["keys"]
    assert keys
    assert all(key["kid"] and key["alg"] == "Ed25519" for key in keys)
    challenge = api.request("GET", "/data")
    token = parse_requirement(challenge.headers["aauth-requirement"])
    assert isinstance(token, AuthTokenRequirement)
    header, _ = jwt.peek(token.resource_token)
    assert header["typ"] == "aa-resource+jwt"
    jwk = next(key for key in keys if key["kid"] == header["kid"])
    jwt.verify(token.resource_token, public_key_from_jwk(jwk), typ="aa-resource+jwt")


# -- phase 1: pseudonymous -----------------------------------------------------------------------


def test_public_hello_accepts_hwk_without_identity(api: Api) -> None:
    response = api.request("GET", "/public/hello", scheme="hwk")
    assert response.status_code == 200
    assert response.json() == {
        "message": "hello",
        "agent": None,
        "scheme": "hwk",
        "thumbprint": api.signer.thumbprint,
        "issuer": None,
    }


def test_v01_public_hello_still_needs_a_signature(api: Api) -> None:
    response = api.client.get("/public/hello")
    assert response.status_code == 401
    assert response.headers["signature-error"] == "error=invalid_request"


# -- phase 2: identity ----------------------------------------------------------------------------


def test_whoami_names_the_agent_from_its_agent_token(api: Api) -> None:
    response = api.request("GET", "/whoami")
    assert response.status_code == 200
    assert response.json()["agent"] == AGENT
    assert response.json()["ps"] == PS


def test_rs01_whoami_without_agent_token_is_an_agent_token_challenge(api: Api) -> None:
    response = api.request("GET", "/whoami", scheme="hwk")
    assert response.status_code == 401
    assert response.headers["aauth-requirement"] == "requirement=agent-token"
    assert "signature-error" not in response.headers


# -- phases 3/4: auth tokens ---------------------------------------------------------------------


def test_rs02_data_with_an_agent_token_is_an_auth_token_challenge(api: Api) -> None:
    response = api.request("GET", "/data")
    assert response.status_code == 401
    assert response.json()["error"] == "auth_token_required"
    claims = resource_token_from(response.headers["aauth-requirement"])
    assert (claims.iss, claims.aud, claims.agent) == (API, PS, AGENT)  # RS-05
    assert claims.agent_jkt == api.signer.thumbprint  # RS-06
    assert claims.scope == ("data.read",)  # RS-07


def test_data_with_an_auth_token(api: Api) -> None:
    response = api.request("GET", "/data", token=api.auth_token(sub="user-7"))
    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "subject": "user-7",
        "scope": ["data.read"],
        "agent": AGENT,
        "act": [],
    }


def test_post_data_needs_data_write_and_keeps_the_body(api: Api) -> None:
    body = json.dumps({"note": "hello"}).encode()
    step_up = api.request("POST", "/data", body, token=api.auth_token("data.read"))
    assert step_up.status_code == 401  # AG-13: a valid token, not enough scope
    scope = resource_token_from(step_up.headers["aauth-requirement"]).scope
    assert scope == ("data.write", "data.read")  # the step-up keeps what is held
    token = api.auth_token("data.read data.write")
    stored = api.request("POST", "/data", body, token=token)
    assert stored.status_code == 201
    assert stored.json() == {"stored": {"note": "hello"}, "agent": AGENT}
    assert api.request("GET", "/data", token=token).json()["items"] == [{"note": "hello"}]


def test_rs22_data_belongs_to_the_person_behind_the_token(api: Api) -> None:
    alice = api.auth_token("data.read data.write", sub="alice")
    bob = api.auth_token("data.read data.write", sub="bob")
    assert api.request("POST", "/data", b'{"n": 1}', token=alice).status_code == 201
    assert api.request("GET", "/data", token=alice).json()["items"] == [{"n": 1}]
    assert api.request("GET", "/data", token=bob).json()["items"] == []
    assert api.request("GET", "/data", token=api.auth_token()).json()["items"] == []


def test_post_data_with_a_tampered_body_is_refused(api: Api) -> None:
    token = api.auth_token("data.write")
    url = f"{API}/data"
    headers = api.signer.sign("POST", url, None, b'{"n": 1}', token=token)
    response = api.client.post("/data", headers=headers, content=b'{"n": 2}')
    assert response.status_code == 401
    assert response.headers["signature-error"] == "error=invalid_signature"


def test_post_data_requires_a_json_object(api: Api) -> None:
    response = api.request("POST", "/data", b"[1, 2]", token=api.auth_token("data.write"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "body",
    [
        b'{"n": NaN}',
        b'{"n": Infinity}',
        b'{"n": -Infinity}',
        b'{"n": 1e999}',
        b'{"s": "\\ud800"}',
        b'{"s": "\xff"}',
        b'{"n": 1, "n": 2}',
        b"[" * 40 + b"]" * 40,
        b'{"a": ' * 40 + b"1" + b"}" * 40,
        b'{"s": "' + b"x" * 70_000 + b'"}',
        b'{"n": 1',
        b'"text"',
    ],
)
def test_post_data_refuses_non_strict_json_and_stores_nothing(api: Api, body: bytes) -> None:
    """Issue 9 item 4: NaN, 1e999 or a lone surrogate were stored and broke every later read."""
    token = api.auth_token("data.read data.write")
    assert api.request("POST", "/data", b'{"n": 1}', token=token).status_code == 201
    response = api.request("POST", "/data", body, token=token)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "invalid_request"
    after = api.request("GET", "/data", token=token)
    assert after.status_code == 200
    assert after.json()["items"] == [{"n": 1}]


def test_rs10_auth_token_for_another_resource_is_refused(api: Api) -> None:
    token = api.auth_token(aud="https://other.example")
    response = api.request("GET", "/data", token=token)
    assert response.status_code == 401
    assert response.headers["signature-error"] == "error=invalid_jwt"


# -- phase 10: the authorization endpoint (§F.2) ------------------------------------------------


def test_authorize_issues_a_resource_token(api: Api) -> None:
    response = api.request("POST", "/authorize", b'{"scope": "data.read data.write"}')
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    claims = decode_unverified(RESOURCE_TOKEN, response.json()["resource_token"])
    assert (claims.iss, claims.aud, claims.agent) == (API, PS, AGENT)
    assert claims.agent_jkt == api.signer.thumbprint
    assert claims.scope == ("data.read", "data.write")


def test_authorize_copies_the_mission(api: Api) -> None:
    mission = f'approver="{PS}";s256="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"'
    response = api.request(
        "POST", "/authorize", b'{"scope": "data.read"}', headers={"AAuth-Mission": mission}
    )
    claims = decode_unverified(RESOURCE_TOKEN, response.json()["resource_token"])
    assert claims.mission is not None  # RS-08
    assert claims.mission.approver == PS


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{}", "invalid_request"),
        (b'{"scope": ""}', "invalid_request"),
        (b'{"scope": 7}', "invalid_request"),
        (b'{"scope": ["data.read"]}', "invalid_request"),
        (b'{"scope": {"data.read": true}}', "invalid_request"),
        (b'{"scope": true}', "invalid_request"),
        (b'{"scope": NaN}', "invalid_request"),
        (b'{"scope": "data.read", "scope": "data.write"}', "invalid_request"),
        (b'["scope"]', "invalid_request"),
        (b"not json", "invalid_request"),
        (b'{"scope": "data.delete"}', "invalid_scope"),
        (b'{"scope": "data.read  data.write"}', "invalid_scope"),
    ],
)
def test_rs16_authorize_rejects_bad_scope_requests(api: Api, body: bytes, error: str) -> None:
    response = api.request("POST", "/authorize", body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == error
    assert "signature-error" not in response.headers


def test_authorize_needs_an_agent_token(api: Api) -> None:
    response = api.request("POST", "/authorize", b'{"scope": "data.read"}', scheme="hwk")
    assert response.status_code == 401
    assert response.headers["aauth-requirement"] == "requirement=agent-token"
    with_auth = api.request("POST", "/authorize", b'{"scope": "data.read"}', token=api.auth_token())
    assert with_auth.headers["aauth-requirement"] == "requirement=agent-token"


# -- configuration -------------------------------------------------------------------------------


def test_config_loads_from_json_and_keeps_keys_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "resource.json"
    path.write_text(
        json.dumps(
            {
                "identifier": "http://127.0.0.1:8002",
                "key_file": str(tmp_path / "keys.json"),
                "trusted_issuers": [PS],
                "allow_loopback_http": True,
            }
        )
    )
    config = ResourceServerConfig.load(path)
    assert config.canonical_authorities == ("127.0.0.1:8002",)
    assert config.trusted_issuers == (PS,)
    create_resource_server(config)
    first = json.loads((tmp_path / "keys.json").read_text())["current"]
    create_resource_server(config)
    assert json.loads((tmp_path / "keys.json").read_text())["current"] == first


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"identifier": API, "trusted_issuer": [PS]},
        {"identifier": "https://API.example"},
        {"identifier": "http://127.0.0.1:8002"},
        {"identifier": API, "trusted_issuers": ["http://ps.example"]},
        {"identifier": API, "access_server": "https://as.example/x"},
        {"identifier": API, "scope_descriptions": {"data.read": "only read"}},
        {"identifier": API, "signature_window": 0},
        {"identifier": API, "signature_window": "60"},
        {"identifier": API, "allow_loopback_http": "yes"},
        {"identifier": API, "trusted_issuers": PS},
        {"identifier": API, "public_origin": "https://api.example/v1"},
        {"identifier": API, "public_origin": "api.example"},
        {"identifier": API, "scope_descriptions": {"data.read": "r", "data.write": 2}},
        {"identifier": API, "scope_descriptions": {"data read": "r", "data.write": "w"}},
        {"identifier": API, "name": ["x"], "unexpected": 1},
    ],
)
def test_bad_configuration_is_a_value_error(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ResourceServerConfig.load(data)


def test_rs05_access_server_is_trusted_and_is_the_audience(
    api: Api, asgi_client: Callable[..., httpx.Client]
) -> None:
    config = ResourceServerConfig(identifier=API, access_server=AS, trusted_issuers=(PS,))
    assert config.trusted == (PS, AS)
    keys = StaticKeySource({AP: api.ap.jwks()})
    api.client = asgi_client(create_resource_server(config, key_source=keys), API)
    challenge = api.request("GET", "/data")
    assert resource_token_from(challenge.headers["aauth-requirement"]).aud == AS


def test_v41_framework_errors_are_problem_json(api: Api) -> None:
    """Issue 9 item 12: no plain-text 404/405 from the resource."""
    wrong_method = api.client.post("/.well-known/jwks.json")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"
    assert wrong_method.json()["error"] == "method_not_allowed"
    missing = api.request("GET", "/nowhere", token=api.auth_token())
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["error"] == "not_found"
    delete = api.request("DELETE", "/data", token=api.auth_token())
    assert (delete.status_code, delete.json()["error"]) == (405, "method_not_allowed")
