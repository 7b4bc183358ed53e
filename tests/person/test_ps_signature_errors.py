"""K.0 at the person server: signature failures on ``POST /token`` over HTTP, each with its
status and ``Signature-Error`` code (V-02, V-04, V-16), and the token request hints the
PS refuses (AG-35, AG-36 from the receiving side)."""

from __future__ import annotations

import asyncio

import pytest
from aauth_signing import HttpRequest, Jwt, sign_request

from aauth.headers import parse_signature_error

from .conftest import PS, World, client, token_body

TOKEN = f"{PS}/token"


@pytest.mark.parametrize("left_out", ["@authority", "content-digest"])
def test_v02_v04_v16_an_uncovered_component_is_401_invalid_input_with_required_input(
    world: World, left_out: str
) -> None:
    agent = world.agent()
    body = token_body(world.resource_token(agent))
    request = HttpRequest("POST", TOKEN, {"content-type": "application/json"}, body)
    components = [
        c
        for c in (
            "@method",
            "@authority",
            "@path",
            "content-type",
            "content-digest",
            "signature-key",
        )
        if c != left_out
    ]
    headers = {"content-type": "application/json"}
    headers.update(sign_request(request, agent.key, Jwt(agent.token), components=components))

    async def send() -> None:
        async with client(world.app()) as http:
            response = await http.post(TOKEN, content=body, headers=headers)
            assert response.status_code == 401
            info = parse_signature_error(response.headers["signature-error"])
            assert info.error == "invalid_input"
            assert left_out in info.required_input
            assert {"@method", "@authority", "@path", "signature-key"} <= set(info.required_input)

    asyncio.run(send())


@pytest.mark.parametrize(
    "members",
    [{"platform": "toaster"}, {"device": "x" * 65}, {"device": "laptop\x07"}],
    ids=["unregistered-platform", "long-device", "control-in-device"],
)
def test_ag35_ag36_bad_device_or_platform_is_400_invalid_request(
    world: World, members: dict[str, str]
) -> None:
    agent = world.agent()
    body = token_body(world.resource_token(agent), capabilities=["interaction"], **members)

    async def send() -> None:
        async with client(world.app()) as http:
            headers = agent.headers("POST", TOKEN, body)
            response = await http.post(TOKEN, content=body, headers=headers)
            assert response.status_code == 400
            assert response.json()["error"] == "invalid_request"

    asyncio.run(send())
