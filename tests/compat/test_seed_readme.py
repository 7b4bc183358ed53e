"""Issue 10: the python examples of the aauth 0.3.4 README run verbatim against this aauth.

``seed_readme_0_3_4.md`` holds them exactly as published (its header names the source). The
blocks run in order in one namespace, as a reader following the README would; the names the
README leaves to the reader (``auth_token``, ``my_jwks_fetcher``, ``request`` …) are bound
beforehand to real objects of one small world. Where 0.3.4 itself raised, this API raises
the same way (see :data:`AS_IN_0_3_4`).
"""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import aauth

from .conftest import PS

README = (Path(__file__).parent / "seed_readme_0_3_4.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.DOTALL)

AS_IN_0_3_4 = {
    # The README's create_auth_token call omits ``act``, a required parameter of 0.3.4's
    # create_auth_token (B03): 0.3.4 raised this TypeError, and so does this API.
    "auth_token = aauth.create_auth_token(": TypeError,
}


def reader_world(agent_private: Any) -> dict[str, Any]:
    """What the README assumes its reader already has, for the reader's ``private_key``."""
    agent_public = agent_private.public_key()
    ap_private, ap_public = aauth.generate_ed25519_keypair()
    ps_private, ps_public = aauth.generate_ed25519_keypair()
    resource_private, _ = aauth.generate_ed25519_keypair()
    agent_jwk = aauth.public_key_to_jwk(agent_public)
    jwks = {
        "https://agent.example": aauth.generate_jwks([aauth.public_key_to_jwk(ap_public, "ap-1")]),
        PS: aauth.generate_jwks([aauth.public_key_to_jwk(ps_public, "ps-1")]),
    }
    agent = "aauth:assistant@agent.example"
    agent_token = aauth.create_agent_token(
        "https://agent.example", agent, agent_jwk, ap_private, "ap-1", ps=PS
    )
    auth_token = aauth.create_auth_token(
        PS,
        "https://resource.example",
        agent,
        agent_jwk,
        ps_private,
        "ps-1",
        {"agent": agent},
        scope="data.read",
        dwk="aauth-person.json",
    )
    target = "https://resource.example/api/data"
    request_headers = aauth.sign_request(
        "GET", target, {}, None, agent_private, "jwt", jwt=auth_token
    )
    return {
        "agent_token": agent_token,
        "auth_token": auth_token,
        "token": auth_token,
        "agent_jwk": agent_jwk,
        "agent_thumbprint": aauth.calculate_jwk_thumbprint(agent_jwk),
        "resource_private_key": resource_private,
        "auth_private_key": ps_private,
        "my_jwks_fetcher": lambda issuer: jwks.get(issuer),
        "request_headers": request_headers,
        "request_body": None,
    }


def run(block: str, namespace: dict[str, Any]) -> None:
    """Execute ``block`` statement by statement; the statements 0.3.4 itself failed on must
    fail the same way here, everything else must run."""
    for statement in ast.parse(block).body:
        source = ast.get_source_segment(block, statement) or ""
        code = compile(ast.Module([statement], []), "<seed README>", "exec")
        expected = next((e for s, e in AS_IN_0_3_4.items() if source.startswith(s)), None)
        if expected is None:
            exec(code, namespace)
        else:
            with pytest.raises(expected):
                exec(code, namespace)


def test_the_readme_has_the_eight_examples() -> None:
    assert len(BLOCKS) == 8


def test_readme_examples_run_in_order() -> None:
    namespace: dict[str, Any] = {}
    install, keys, signing, verification, tokens, agent_auth, high_level, _ = BLOCKS
    run(install, namespace)
    assert namespace["is_valid"] is True
    run(keys, namespace)  # a new private_key: the reader's tokens are for this one
    assert namespace["jwk"]["kid"] == "key-1"
    namespace.update(reader_world(namespace["private_key"]))
    run(signing, namespace)
    assert namespace["signed_headers"]["Signature-Key"].startswith("sig=jwt;")
    # The request the verification example reads: the one the signing example just signed.
    headers = dict(namespace["signed_headers"])
    namespace["request"] = SimpleNamespace(
        method="GET", url="https://resource.example/api/data", headers=headers
    )
    run(verification, namespace)
    assert namespace["is_valid"] is True
    run(tokens, namespace)
    payload = aauth.parse_token_claims(namespace["resource_token"])["payload"]
    assert payload["agent"] == "https://agent.example"  # URL-form, accepted in the 0.3 API
    assert namespace["claims"]["payload"]["scope"] == "data.read"
    run(agent_auth, namespace)
    assert namespace["challenge"]["auth_server"] == "https://auth.example"
    assert namespace["challenge_header"].startswith("requirement=auth-token;")
    run(high_level, namespace)
    # No trusted_auth_servers in the README's verifier: no auth-token issuer is trusted (RS-09).
    assert namespace["result"]["valid"] is False
    assert namespace["result"]["error_code"] == "invalid_jwt"


def test_readme_fastapi_example() -> None:
    """The Framework Integration example, served in-process and called with a signed GET."""
    namespace: dict[str, Any] = {}
    run(BLOCKS[-1], namespace)
    app = namespace["app"]
    private_key, _ = aauth.generate_ed25519_keypair()
    url = "https://api.example.com/protected"

    async def call(headers: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(url, headers=headers)

    signed = asyncio.run(call(aauth.sign_request("GET", url, {}, None, private_key)))
    assert signed.status_code == 200
    assert signed.json() == {"data": "protected resource", "agent": None}
    unsigned = asyncio.run(call({}))
    body = unsigned.json()  # the example returns a (dict, status) tuple: FastAPI sends a list
    assert body[1] == 401
    assert "error" in body[0]
