"""The person server's side of federation when the access server misbehaves or asks for what
the PS cannot give: the agent gets a clear error, never a token the PS did not check (PS-12).

A scripted access server (real keys, real metadata, real HTTP) stands in for a faulty peer;
the person server, resource, agent provider and agent are the real ones.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth import jwt
from aauth.demo.federation import FederatedWorld, _agents, _person_server, federated_world
from aauth.errors import AAuthError
from aauth.keys import KeySet
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.server.running import RunningServer
from aauth.tokens import issue_auth_token
from aauth.tokens.wire import ACCESS_DWK

from ..person.test_ps_restart import free_port
from .conftest import fetch, quiet

Answer = Callable[[str, dict[str, Any]], Response]


def scripted_access_server(url: str, keys: KeySet, answer: Answer) -> Starlette:
    """An AS whose token endpoint answers ``answer(url, body)``, without checking anything."""

    async def metadata(request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": url,
                "jwks_uri": f"{url}/.well-known/jwks.json",
                "token_endpoint": f"{url}/token",
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(keys.jwks())

    async def token(request: Request) -> Response:
        return answer(url, await request.json())

    return Starlette(
        routes=[
            Route(f"/.well-known/{ACCESS_DWK}", metadata),
            Route("/.well-known/jwks.json", jwks),
            Route("/token", token, methods=["POST"]),
        ]
    )


@contextlib.contextmanager
def world_with(answer: Answer, tmp_path: Path, keys: KeySet) -> Iterator[FederatedWorld]:
    """The real participants around a scripted AS signing with ``keys``."""
    with (
        RunningServer.with_own_url(lambda url: scripted_access_server(url, keys, answer)) as access,
        world_around(access.url, tmp_path) as world,
    ):
        yield world


@contextlib.contextmanager
def world_around(access_server: str, tmp_path: Path) -> Iterator[FederatedWorld]:
    """A PS that pre-approves, an agent, and a resource that chose ``access_server``."""
    world = FederatedWorld(quiet(), tmp_path, "pw-" + os.urandom(6).hex())
    world.access_server = access_server
    with contextlib.ExitStack() as stack:
        ps = stack.enter_context(
            RunningServer.with_own_url(
                lambda url: _person_server(url, world.password, tmp_path, True)
            )
        )
        world.person_servers.append(ps.url)
        resource = stack.enter_context(
            RunningServer.with_own_url(
                lambda url: create_resource_server(
                    ResourceServerConfig.load(
                        {
                            "identifier": url,
                            "access_server": access_server,
                            "allow_loopback_http": True,
                        }
                    )
                )
            )
        )
        world.resource = resource.url
        world.agent_provider = _agents(stack, world)
        yield world


def _token_for(keys: KeySet, url: str, body: dict[str, Any], **changes: Any) -> str:
    """An AS token for the request ``body``, as a correct AS would mint it, with ``changes``."""
    agent = jwt.peek(body["agent_token"])[1]
    resource = jwt.peek(body["resource_token"])[1]
    values: dict[str, Any] = {
        "iss": url,
        "dwk": ACCESS_DWK,
        "aud": resource["iss"],
        "agent": agent["sub"],
        "cnf_jwk": agent["cnf"]["jwk"],
        "agent_exp": agent["exp"],
        "resource_scope": resource["scope"],
        "scope": resource["scope"],
        "allow_loopback_http": True,
    }
    values.update(changes)
    return issue_auth_token(keys, **values)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"aud": "http://127.0.0.1:9"}, "'aud'"),
        ({"agent": "aauth:someone@127.0.0.1"}, "'agent'"),
        ({"resource_scope": "data.read data.write", "scope": "data.read data.write"}, "exceed"),
    ],
)
def test_ps12_an_as_token_that_does_not_fit_never_reaches_the_agent(
    tmp_path: Path, changes: dict[str, Any], words: str
) -> None:
    keys = KeySet.generate()

    def answer(url: str, body: dict[str, Any]) -> Response:
        token = _token_for(keys, url, body, **changes)
        return JSONResponse({"auth_token": token, "expires_in": 60})

    with world_with(answer, tmp_path, keys) as world, pytest.raises(AAuthError) as refused:
        fetch(world, world.trusted_ps, None)
    assert refused.value.code == "server_error"
    assert "not acceptable" in refused.value.description
    assert words in refused.value.description


def test_ps12_an_as_token_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    def answer(url: str, body: dict[str, Any]) -> Response:
        return JSONResponse({"auth_token": _token_for(KeySet.generate(), url, body)})

    keys = KeySet.generate()
    with world_with(answer, tmp_path, keys) as world, pytest.raises(AAuthError) as refused:
        fetch(world, world.trusted_ps, None)
    assert "not acceptable" in refused.value.description


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (403, {"error": "insufficient_trust", "detail": "who are you"}, "insufficient_trust"),
        (400, {"error": "invalid_resource_token", "detail": "bad"}, "invalid_resource_token"),
        (403, {"error": "forbidden", "detail": "chain too deep"}, "forbidden"),  # AS-08
        (500, {"error": "something_else"}, "server_error"),
        (202, {"status": "pending"}, "server_error"),  # no Location
    ],
)
def test_as_refusals_reach_the_agent_with_their_code(
    tmp_path: Path, status: int, body: dict[str, Any], code: str
) -> None:
    def answer(url: str, request_body: dict[str, Any]) -> Response:
        return JSONResponse(body, status)

    keys = KeySet.generate()
    with world_with(answer, tmp_path, keys) as world, pytest.raises(AAuthError) as refused:
        fetch(world, world.trusted_ps, None)
    assert refused.value.code == code


def test_ps15_claims_need_a_person_who_approved(tmp_path: Path) -> None:
    """Pre-approved by a rule with nobody bound: the PS has no person to vouch for."""
    steps = {"required_claims": ["sub"]}
    world_of = federated_world(quiet(), steps=steps, auto_approve=True)
    with world_of as world, pytest.raises(AAuthError) as denied:
        fetch(world, world.trusted_ps, None)
    assert denied.value.code == "denied"
    assert "claims" in denied.value.description


def test_an_access_server_that_cannot_be_reached(tmp_path: Path) -> None:
    """PS-08: the AS's metadata cannot be fetched: the agent is told, the PS does not hang."""
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with world_around(nowhere, tmp_path) as world, pytest.raises(AAuthError) as refused:
        fetch(world, world.trusted_ps, None)
    assert refused.value.code == "server_error"
    assert nowhere in refused.value.description


@pytest.mark.parametrize(
    "raw",
    [
        b'{"status": "pending", "clarification": "\\ud800"}',
        b'{"status": "pending", "clarification": NaN}',
        b'{"status": "pending", "clarification": "a", "clarification": "b"}',
    ],
)
def test_v41_an_access_server_answer_that_is_not_strict_json_is_not_passed_on(
    tmp_path: Path, raw: bytes
) -> None:
    """A value the PS could not write back (a lone surrogate, ``NaN``), or read two ways (a
    duplicate member), is never relayed to the agent: the PS treats the body as empty, and
    what the agent hears is about the access server, never the PS's own 500."""

    def answer(url: str, request_body: dict[str, Any]) -> Response:
        headers = {"Location": f"{url}/pending/x", "AAuth-Requirement": "requirement=clarification"}
        return Response(raw, 202, media_type="application/json", headers=headers)

    with (
        world_with(answer, tmp_path, KeySet.generate()) as world,
        pytest.raises(AAuthError) as refused,
    ):
        fetch(world, world.trusted_ps, None)
    assert refused.value.code == "server_error"
    assert "access server" in refused.value.description
