"""AG-04, AG-10 (what the agent covers), RS-14, RS-15 (what the resource refuses) over HTTP.

``Authorization: AAuth`` credentials are sent to the example resource in-process; every
refusal is checked for its status and its error code.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from aauth_signing import (
    HttpRequest,
    Hwk,
    InvalidSignature,
    Jwt,
    SignatureKeyHeader,
    VerificationPolicy,
    parse_signature_input,
    sign_request,
    verify_request,
)

from aauth.agent import AgentSigner
from aauth.headers import parse_signature_error
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.server.config import ResourceServerConfig
from aauth.server.resource_server import create_resource_server
from aauth.tokens import issue_agent_token

AP = "https://ap.example"
PS = "https://ps.example"
API = "https://api.example"
AGENT = "aauth:bot@ap.example"
WHOAMI = f"{API}/whoami"
CREDENTIAL = "AAuth c2Vzcy0xMjM0"


@pytest.fixture
def signer() -> AgentSigner:
    return AgentSigner(generate_key(), None)


@pytest.fixture
def resource(asgi_client: Callable[..., httpx.Client]) -> tuple[httpx.Client, AgentSigner]:
    ap = KeySet.generate()
    key = generate_key()
    token = issue_agent_token(ap, iss=AP, sub=AGENT, cnf_jwk=key.public_key(), ps=PS)
    config = ResourceServerConfig(identifier=API, trusted_issuers=(PS,))
    app = create_resource_server(config, key_source=StaticKeySource({AP: ap.jwks()}))
    return asgi_client(app, API), AgentSigner(key, token)


def covered(headers: dict[str, str]) -> list[str]:
    ((_, (params, _)),) = parse_signature_input(headers["Signature-Input"]).items()
    return [c.name for c in params.components]


def test_ag04_an_authorization_header_is_always_covered(
    resource: tuple[httpx.Client, AgentSigner],
) -> None:
    client, agent = resource
    headers = {"Authorization": CREDENTIAL}
    headers.update(agent.sign("GET", WHOAMI, headers))
    assert "authorization" in covered(headers)
    assert client.get(WHOAMI, headers=headers).status_code == 200


def test_rs14_an_uncovered_authorization_is_refused_with_required_input(
    resource: tuple[httpx.Client, AgentSigner],
) -> None:
    client, agent = resource
    headers = agent.sign("GET", WHOAMI)  # signed without it, then the credential added
    headers["Authorization"] = CREDENTIAL
    response = client.get(WHOAMI, headers=headers)
    assert response.status_code == 401
    info = parse_signature_error(response.headers["signature-error"])
    assert info.error == "invalid_input"
    assert "authorization" in info.required_input


def test_rs14_a_credential_without_any_signature_is_refused(
    resource: tuple[httpx.Client, AgentSigner],
) -> None:
    client, _ = resource
    response = client.get(WHOAMI, headers={"Authorization": CREDENTIAL})
    assert response.status_code == 401
    assert parse_signature_error(response.headers["signature-error"]).error == "invalid_request"


@pytest.mark.parametrize(
    "lines",
    [
        ["AAuth"],
        ["AAuth   "],
        ["AAuth a\tb"],
        ["AAuth c2Vz\x01"],
        ["AAuth abc, AAuth def"],
        ["AAuth abc", "AAuth def"],
    ],
    ids=["empty", "whitespace", "tab-inside", "control", "comma-joined", "two-lines"],
)
def test_rs15_empty_control_or_multiple_credentials_are_refused_over_http(
    resource: tuple[httpx.Client, AgentSigner], lines: list[str]
) -> None:
    client, agent = resource
    fields = [("Authorization", line) for line in lines]
    request = HttpRequest("GET", WHOAMI, fields)
    member = Jwt(agent.agent_token or "")
    signed = sign_request(request, agent.key, member)
    response = client.get(WHOAMI, headers=[*fields, *signed.items()])
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "signature-error" not in response.headers


def test_ag10_with_two_signatures_the_whole_signature_key_exists_first_and_both_cover_it(
    signer: AgentSigner,
) -> None:
    second = generate_key("ES256")
    members = {
        "sig": Hwk.from_public_key(signer.key.public_key()),
        "sig2": Hwk.from_public_key(second.public_key()),
    }
    header = SignatureKeyHeader.serialize(members)
    request = HttpRequest("GET", WHOAMI, {"Signature-Key": header})
    request = request.with_headers(sign_request(request, signer.key, None, label="sig"))
    request = request.with_headers(sign_request(request, second, None, label="sig2"))
    for label in ("sig", "sig2"):
        policy = VerificationPolicy.aauth(accepted_schemes=("hwk",), label=label)
        verified = verify_request(request, policy)
        assert "signature-key" in verified.covered
    # A Signature-Key member added after the first signature breaks that signature.
    late = request.with_headers({"Signature-Key": header + ', sig3=hwk;kty="OKP"'})
    with pytest.raises(InvalidSignature):
        verify_request(late, VerificationPolicy.aauth(accepted_schemes=("hwk",), label="sig"))
