"""Missions at the resource: ``AAuth-Mission`` counts only under the signature and is copied
verbatim into resource tokens (RS-08); a token of another mission is challenged again; the
revocation endpoint takes revocations from a token's own, trusted issuer (V-44, V-45)."""

from __future__ import annotations

import json

import pytest
from aauth_signing import JwksUri

from aauth.agent.signer import AgentSigner
from aauth.headers import MissionRef, build_mission, parse_signature_error
from aauth.keys import KeySet
from aauth.tokens import decode_unverified
from aauth.tokens.verifier import AUTH_TOKEN

from .conftest import AP, API, PS, Api
from .test_resource_server import resource_token_from

MISSION = MissionRef(PS, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
OTHER = MissionRef(PS, "_RALkiy8GSiBPx7QuQMmAEoDKq8rBgYBWTJQCc6E5xQ")


def under(api: Api, mission: MissionRef, path: str = "/data", token: str | None = None) -> object:
    """A request under ``mission``, with ``aauth-mission`` covered by the signature."""
    headers = {"AAuth-Mission": build_mission(mission)}
    headers.update(api.signer.sign("GET", API + path, headers, token=token))
    assert '"aauth-mission"' in headers["Signature-Input"]  # the signer covers it when sent
    return api.client.get(path, headers=headers)


def test_rs08_the_mission_is_copied_verbatim_into_the_resource_token(api: Api) -> None:
    response = under(api, MISSION)
    assert response.status_code == 401
    assert resource_token_from(response.headers["aauth-requirement"]).mission == MISSION


def test_an_unsigned_aauth_mission_is_refused_with_required_input(api: Api) -> None:
    headers = api.signer.sign("GET", f"{API}/data")
    headers["AAuth-Mission"] = build_mission(MISSION)  # added after signing
    response = api.client.get("/data", headers=headers)
    assert response.status_code == 401
    error = parse_signature_error(response.headers["signature-error"])
    assert error.error == "invalid_input"
    assert "aauth-mission" in error.required_input


def test_a_token_of_the_same_mission_is_accepted(api: Api) -> None:
    token = api.auth_token(mission=MISSION)
    assert under(api, MISSION, token=token).status_code == 200
    assert api.request("GET", "/data", token=token).status_code == 200  # carried by the token


@pytest.mark.parametrize("held", [OTHER, None])
def test_a_token_of_another_or_no_mission_is_challenged_for_this_one(
    api: Api, held: MissionRef | None
) -> None:
    response = under(api, MISSION, token=api.auth_token(mission=held))
    assert response.status_code == 401
    assert resource_token_from(response.headers["aauth-requirement"]).mission == MISSION


def ps_signer(keys: KeySet, issuer: str = PS) -> AgentSigner:
    identity = JwksUri(issuer, "aauth-person.json", keys.current_kid)
    return AgentSigner(keys.current, identity=identity)


def revoke(api: Api, signer: AgentSigner, body: dict[str, object]) -> object:
    raw = json.dumps(body).encode()
    url = f"{API}/revoke"
    headers = {"content-type": "application/json"}
    headers.update(signer.sign("POST", url, headers, raw, scheme="jwks_uri"))
    return api.client.post("/revoke", content=raw, headers=headers)


def test_v44_v45_the_issuer_revokes_and_the_token_counts_as_absent(api: Api) -> None:
    token = api.auth_token()
    assert api.request("GET", "/data", token=token).status_code == 200
    jti = decode_unverified(AUTH_TOKEN, token).jti
    response = revoke(api, ps_signer(api.ps), {"iss": PS, "jti": jti})
    assert response.status_code == 200, response.text
    refused = api.request("GET", "/data", token=token)
    assert refused.status_code == 401
    assert refused.headers["aauth-requirement"] == "requirement=agent-token"
    assert api.request("GET", "/data", token=api.auth_token()).status_code == 200  # others live


def test_v44_only_the_tokens_own_trusted_issuer_may_revoke(api: Api) -> None:
    token = api.auth_token()
    jti = decode_unverified(AUTH_TOKEN, token).jti
    as_agent_provider = ps_signer(api.ap, AP)
    assert revoke(api, as_agent_provider, {"iss": PS, "jti": jti}).status_code == 403
    assert revoke(api, as_agent_provider, {"iss": AP, "jti": jti}).status_code == 403
    assert api.request("GET", "/data", token=token).status_code == 200


@pytest.mark.parametrize(
    "body", [{"iss": PS}, {"jti": "x"}, {"iss": PS, "jti": 7}, {"iss": "", "jti": "x"}]
)
def test_v45_a_revocation_needs_iss_and_jti(api: Api, body: dict[str, object]) -> None:
    response = revoke(api, ps_signer(api.ps), body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_v44_revocation_must_be_signed_by_an_issuer_not_an_agent(api: Api) -> None:
    raw = json.dumps({"iss": PS, "jti": "x"}).encode()
    url = f"{API}/revoke"
    headers = {"content-type": "application/json"}
    headers.update(api.signer.sign("POST", url, headers, raw))
    response = api.client.post("/revoke", content=raw, headers=headers)
    assert response.status_code == 401
    assert api.client.post("/revoke", content=raw).status_code == 401
