"""Real servers on 127.0.0.1: agent provider, a small Person Server stand-in and the resource,
with every key found by discovery over HTTP (development egress policy)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aauth_signing import SigningKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth.agent.enrollment import request_agent_token
from aauth.agent.signer import AgentSigner
from aauth.headers import AuthTokenRequirement, parse_requirement
from aauth.keys import KeySet, generate_key, thumbprint
from aauth.server.agent_provider import AgentProviderConfig, create_agent_provider
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.server.running import RunningServer
from aauth.tokens import decode_unverified, issue_auth_token
from aauth.tokens.verifier import AGENT_TOKEN, RESOURCE_TOKEN


def person_server(keys: KeySet) -> Starlette:
    """Just enough of a PS for a resource to verify its auth tokens: metadata and JWKS."""

    async def metadata(request: Request) -> Response:
        issuer = str(request.base_url).rstrip("/")
        return JSONResponse(
            {"issuer": issuer, "jwks_uri": f"{issuer}/jwks", "token_endpoint": f"{issuer}/token"}
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(keys.jwks())

    return Starlette(
        routes=[Route("/.well-known/aauth-person.json", metadata), Route("/jwks", jwks)]
    )


@dataclass
class Deployment:
    ap: str
    ps: str
    api: str
    ps_keys: KeySet
    enrolled: SigningKey


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    enrolled = generate_key()
    ps_keys = KeySet.generate()
    with RunningServer(person_server(ps_keys)) as ps:
        ap_config = {
            "allow_loopback_http": True,
            "agents": {"planner": {"enrollment_jkt": thumbprint(enrolled), "ps": ps.url}},
        }
        ap_server = RunningServer.with_own_url(
            lambda url: create_agent_provider(
                AgentProviderConfig.load({"identifier": url, **ap_config})
            )
        )
        api_server = RunningServer.with_own_url(
            lambda url: create_resource_server(
                ResourceServerConfig(
                    identifier=url, trusted_issuers=(ps.url,), allow_loopback_http=True
                )
            )
        )
        with ap_server as ap, api_server as api:
            yield Deployment(ap.url, ps.url, api.url, ps_keys, enrolled)


def test_full_discovery_chain_over_http(deployment: Deployment) -> None:
    """Phases 2 and 3 end to end: enrol, identify, get challenged, present an auth token."""
    instance = generate_key()
    with httpx.Client() as client:
        agent_token = request_agent_token(
            deployment.ap,
            deployment.enrolled,
            instance,
            client,
            allow_loopback_http=True,
        )
        signer = AgentSigner(instance, agent_token)

        def get(path: str, token: str | None = None) -> httpx.Response:
            url = deployment.api + path
            return client.get(url, headers=signer.sign("GET", url, token=token))

        whoami = get("/whoami")  # the resource discovers the AP's keys
        assert whoami.status_code == 200
        agent = whoami.json()["agent"]
        assert agent == f"aauth:planner@{deployment.ap.removeprefix('http://')}"
        assert whoami.json()["ps"] == deployment.ps

        challenge = get("/data")
        assert challenge.status_code == 401
        requirement = parse_requirement(challenge.headers["aauth-requirement"])
        assert isinstance(requirement, AuthTokenRequirement)
        claims = decode_unverified(
            RESOURCE_TOKEN, requirement.resource_token, allow_loopback_http=True
        )
        assert (claims.iss, claims.aud, claims.agent) == (deployment.api, deployment.ps, agent)

        auth_token = issue_auth_token(
            deployment.ps_keys,
            iss=deployment.ps,
            dwk="aauth-person.json",
            aud=claims.iss,
            agent=agent,
            cnf_jwk=instance.public_key(),
            agent_exp=time.time() + 3600,
            resource_scope=claims.scope,
            scope=claims.scope,
            sub="person-1",
            allow_loopback_http=True,
        )
        data = get("/data", auth_token)  # the resource discovers the PS's keys
        assert data.status_code == 200
        answer = data.json()
        assert (answer["items"], answer["subject"], answer["scope"], answer["act"]) == (
            [],
            "person-1",
            ["data.read"],
            [],
        )


def test_untrusted_ps_is_refused_over_http(deployment: Deployment) -> None:
    rogue_keys = KeySet.generate()
    instance = generate_key()
    with RunningServer(person_server(rogue_keys)) as rogue, httpx.Client() as client:
        agent_token = request_agent_token(
            deployment.ap,
            deployment.enrolled,
            instance,
            client,
            allow_loopback_http=True,
        )
        agent = decode_unverified(AGENT_TOKEN, agent_token, allow_loopback_http=True).sub
        token = issue_auth_token(
            rogue_keys,
            iss=rogue.url,
            dwk="aauth-person.json",
            aud=deployment.api,
            agent=agent,
            cnf_jwk=instance.public_key(),
            agent_exp=time.time() + 3600,
            resource_scope="data.read",
            scope="data.read",
            allow_loopback_http=True,
        )
        url = f"{deployment.api}/data"
        signer = AgentSigner(instance, agent_token)
        response = client.get(url, headers=signer.sign("GET", url, token=token))
    assert response.status_code == 401
    assert response.headers["signature-error"] == "error=invalid_jwt"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("module", "document", "extra"),
    [
        ("aauth.server.resource_server", "aauth-resource.json", {}),
        ("aauth.server.agent_provider", "aauth-agent.json", {"agents": {}}),
    ],
)
def test_module_entry_points_serve(
    tmp_path: Path, module: str, document: str, extra: dict[str, object]
) -> None:
    port = _free_port()
    identifier = f"http://127.0.0.1:{port}"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"identifier": identifier, "allow_loopback_http": True, **extra}))
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"{identifier}/.well-known/{document}")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        assert response.json()["issuer"] == identifier
    finally:
        process.terminate()
        process.wait(10)


def test_module_entry_point_reports_configuration_errors(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text('{"identifier": "https://api.example", "typo": 1}')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "aauth.server.resource_server",
            "--config",
            str(config),
            "--port",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown configuration members ['typo']" in result.stderr
    assert "Traceback" not in result.stderr
