"""The person server's metadata and token endpoint: phase 3 grants and every refusal (§F.3)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from aauth.headers import MissionRef
from aauth.keys import KeySet
from aauth.keysource import StaticKeySource
from aauth.metadata import PersonServerMetadata
from aauth.server.person_server import create_person_server
from aauth.store import SQLiteStore
from aauth.tokens import (
    AGENT_TOKEN,
    AuthTokenClaims,
    TokenVerifier,
    decode_unverified,
    issue_agent_token,
)
from aauth.tokens.wire import PERSON_DWK

from .conftest import (
    AGENT,
    ALICE,
    AP,
    OTHER_RESOURCE,
    PS,
    RESOURCE,
    Agent,
    World,
    auto,
    client,
    request_token,
    signed,
    token_body,
)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def problem(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """V-41: a problem+json body with a string ``error``, and no signature headers on 403."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert isinstance(body["detail"], str)
    if status in (400, 403):
        assert "signature-error" not in response.headers
    return body


async def ask(world: World, agent: Agent, resource_token: str, **config: Any) -> httpx.Response:
    async with client(world.app(**config)) as http:
        return await request_token(http, agent, resource_token)


def verify_at_resource(
    jwks: dict[str, Any], token: str, agent: Agent, resource: str = RESOURCE
) -> AuthTokenClaims:
    verifier = TokenVerifier(StaticKeySource({PS: jwks}))
    return verifier.verify_auth_token(
        token, audience=resource, agent=agent.sub, request_jkt=agent.signer.thumbprint
    )


# -- metadata (PS-01) ---------------------------------------------------------------------------


def test_ps01_metadata_at_both_paths_and_jwks(world: World) -> None:
    async def scenario() -> None:
        async with client(world.app(name="Home PS")) as http:
            for path in ("/.well-known/aauth-person.json", "/.well-known/aauth-person"):
                response = await http.get(path)
                assert response.status_code == 200
                document = PersonServerMetadata.from_json(response.json(), PS)
                assert document.token_endpoint == f"{PS}/token"
                assert document.jwks_uri == f"{PS}/.well-known/jwks.json"
                assert document.name == "Home PS"
                assert document.scopes_supported == ("openid", "profile")
                assert document.claims_supported == ("sub", "name")
                # The agent-facing relay (§F.6), not the person's /interact page.
                assert document.interaction_endpoint == f"{PS}/interaction"
                assert document.mission_endpoint == f"{PS}/mission"
            jwks = (await http.get("/.well-known/jwks.json")).json()
            assert [set(key) >= {"kid", "alg"} for key in jwks["keys"]] == [True]

    run(scenario())


# -- phase 3: autonomous authorization ----------------------------------------------------------


def test_phase3_auto_approval_grants_an_auth_token_the_resource_accepts(world: World) -> None:
    agent = world.agent()

    async def scenario() -> None:
        async with client(world.app(auto_approve=(auto(),))) as http:
            jwks = (await http.get("/.well-known/jwks.json")).json()
            response = await request_token(http, agent, world.resource_token(agent))
            assert response.status_code == 200, response.text
            body = response.json()
            assert response.headers["cache-control"] == "no-store"
            assert set(body) == {"auth_token", "expires_in"}
            claims = verify_at_resource(jwks, body["auth_token"], agent)
            assert claims.iss == PS
            assert claims.dwk == PERSON_DWK  # PS-09
            assert claims.aud == RESOURCE
            assert claims.agent == AGENT
            assert claims.jkt == agent.signer.thumbprint
            assert claims.scope == ("docs.read",)  # PS-11
            assert claims.sub is None  # nobody's agent: a rule granted, no person involved
            assert claims.exp - claims.iat <= 3600  # PS-10
            assert 3590 <= body["expires_in"] <= 3600

    run(scenario())


def test_ps10_auth_token_never_outlives_the_agent_token(world: World) -> None:
    agent = world.agent(lifetime=600)

    async def scenario() -> None:
        async with client(world.app(auto_approve=(auto(),))) as http:
            jwks = (await http.get("/.well-known/jwks.json")).json()
            response = await request_token(http, agent, world.resource_token(agent))
            claims = verify_at_resource(jwks, response.json()["auth_token"], agent)
            assert claims.exp <= decode_unverified(AGENT_TOKEN, agent.token).exp
            assert response.json()["expires_in"] <= 600

    run(scenario())


def test_bound_agent_gets_a_stable_pairwise_subject_per_resource(world: World) -> None:
    agent = world.agent()
    rules = (
        auto("docs.read profile", resource=RESOURCE),
        auto("docs.read", resource=OTHER_RESOURCE),
    )

    async def scenario() -> None:
        store = SQLiteStore()
        async with client(world.app(store, auto_approve=rules, bindings={AGENT: "alice"})) as http:
            jwks = (await http.get("/.well-known/jwks.json")).json()
            subs = []
            for resource, scope in ((RESOURCE, "docs.read profile"), (OTHER_RESOURCE, "docs.read")):
                for _ in range(2):
                    token = world.resource_token(agent, scope, resource=resource)
                    response = await request_token(http, agent, token)
                    claims = verify_at_resource(
                        jwks, response.json()["auth_token"], agent, resource
                    )
                    subs.append(claims.sub)
                    if resource == RESOURCE:
                        assert claims.raw["name"] == "Alice"  # the profile scope
                    else:
                        assert "name" not in claims.raw
            assert subs[0] == subs[1]  # stable
            assert subs[2] == subs[3]
            assert subs[0] != subs[2]  # directed: unlinkable across resources
            assert ALICE.id not in (subs[0] or "")

    run(scenario())


def test_identity_scopes_are_never_granted_without_a_person(world: World) -> None:
    agent = world.agent()
    response = run(
        ask(
            world,
            agent,
            world.resource_token(agent, "docs.read openid"),
            auto_approve=(auto("docs.read openid"),),
        )
    )
    assert response.status_code == 202


def test_prompt_consent_asks_even_when_a_rule_would_grant(world: World) -> None:
    agent = world.agent()

    async def scenario() -> httpx.Response:
        async with client(world.app(auto_approve=(auto(),))) as http:
            body = token_body(
                world.resource_token(agent), prompt="consent", capabilities=["interaction"]
            )
            url = f"{PS}/token"
            return await http.post(url, content=body, headers=agent.headers("POST", url, body))

    assert run(scenario()).status_code == 202


def test_token_endpoint_answers_at_once_even_when_asked_to_wait(world: World) -> None:
    """The 202 carries the code the person needs: holding it back would only delay consent."""
    agent = world.agent()

    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            body = token_body(world.resource_token(agent), capabilities=["interaction"])
            url = f"{PS}/token"
            headers = agent.headers("POST", url, body, prefer="wait=30")
            return await http.post(url, content=body, headers=headers)

    started = time.monotonic()
    response = run(scenario())
    assert response.status_code == 202
    assert time.monotonic() - started < 5
    assert "preference-applied" not in response.headers


# -- refusals: signature and agent token (V-01, PS-02, PS-06) ------------------------------------


def test_v01_unsigned_request_is_a_signature_error(world: World) -> None:
    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            return await http.post("/token", content=b"{}")

    response = run(scenario())
    assert response.status_code == 401
    assert response.headers["signature-error"].startswith("error=invalid_request")


def test_tampered_body_is_a_signature_error(world: World) -> None:
    agent = world.agent()

    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            body = token_body(world.resource_token(agent))
            headers = agent.headers("POST", f"{PS}/token", body)
            return await http.post("/token", content=body.replace(b"{", b"{ ", 1), headers=headers)

    response = run(scenario())
    assert response.status_code == 401
    assert response.headers["signature-error"] == "error=invalid_signature"


def test_signature_for_another_authority_is_refused(world: World) -> None:
    agent = world.agent()

    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            body = token_body(world.resource_token(agent))
            headers = agent.headers("POST", "https://evil.example/token", body)
            headers["host"] = "evil.example"
            return await http.post("/token", content=body, headers=headers)

    assert run(scenario()).status_code == 401


def test_replayed_token_request_is_refused(world: World) -> None:
    agent = world.agent()

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with client(world.app(auto_approve=(auto(),))) as http:
            body = token_body(world.resource_token(agent))
            headers = agent.headers("POST", f"{PS}/token", body)
            first = await http.post("/token", content=body, headers=headers)
            return first, await http.post("/token", content=body, headers=headers)

    first, second = run(scenario())
    assert first.status_code == 200
    assert second.status_code == 401


def test_ps02_expired_agent_token(world: World) -> None:
    agent = world.agent(lifetime=600, now=time.time() - 3600)
    body = problem(run(ask(world, agent, world.resource_token(agent))), 400, "expired_agent_token")
    assert "agent token" in body["detail"]


def test_ps02_agent_token_from_an_untrusted_agent_provider(world: World) -> None:
    agent = world.agent()
    response = run(
        ask(
            world,
            agent,
            world.resource_token(agent),
            trusted_agent_providers=("https://other-ap.example",),
        )
    )
    body = problem(response, 400, "invalid_agent_token")
    assert "not trusted" in body["detail"]


def test_ps02_agent_token_signed_by_an_unknown_key(world: World) -> None:
    forger = KeySet.generate()
    agent = world.agent()
    forged = issue_agent_token(forger, iss=AP, sub=AGENT, cnf_jwk=agent.key.public_key(), ps=PS)
    impostor = Agent(AGENT, AP, agent.key, forged, type(agent.signer)(agent.key, forged))
    problem(run(ask(world, impostor, world.resource_token(impostor))), 400, "invalid_agent_token")


@pytest.mark.parametrize("ps", ["https://other-ps.example", None])
def test_agent_token_must_name_this_ps(world: World, ps: str | None) -> None:
    agent = world.agent(ps=ps)
    body = problem(run(ask(world, agent, world.resource_token(agent))), 400, "invalid_agent_token")
    assert "person server" in body["detail"]


def test_ps06_sub_agents_cannot_ask_the_ps(world: World) -> None:
    child = world.agent("bot+search", parent=AGENT)
    body = problem(run(ask(world, child, world.resource_token(child))), 400, "invalid_request")
    assert "PS-06" in body["detail"]


# -- refusals: the resource token (PS-03, PS-04, PS-05) -----------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"aud": "https://as.example"}, "invalid_resource_token", "cannot federate"),
        ({"agent_id": "aauth:other@ap.example"}, "invalid_resource_token", "requester"),
        (
            {"agent_jkt": "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"},
            "invalid_resource_token",
            "thumbprint",
        ),
        ({"now": time.time() - 3600}, "expired_resource_token", "expired"),
        (
            {"mission": MissionRef("https://other-ps.example", "A" * 43)},
            "invalid_resource_token",
            "approver",
        ),
    ],
)
def test_ps03_ps04_resource_token_must_be_for_this_ps_agent_and_key(
    world: World, change: dict[str, Any], error: str, words: str
) -> None:
    agent = world.agent()
    response = run(ask(world, agent, world.resource_token(agent, **change)))
    assert words in problem(response, 400, error)["detail"]


def test_ps05_mission_this_ps_never_approved(world: World) -> None:
    agent = world.agent()
    token = world.resource_token(agent, mission=MissionRef(PS, "A" * 43))
    body = problem(run(ask(world, agent, token)), 403, "mission_terminated")
    assert body["mission_status"] == "terminated"


def test_resource_token_from_an_unknown_issuer_or_garbled(world: World) -> None:
    agent = world.agent()
    stranger = World(resources=("https://unknown.example",))
    stranger.resource_keys = KeySet.generate()
    foreign = stranger.resource_token(agent)
    problem(run(ask(world, agent, foreign)), 400, "invalid_resource_token")
    problem(run(ask(world, agent, "not-a-jwt")), 400, "invalid_resource_token")
    problem(run(ask(world, agent, agent.token)), 400, "invalid_resource_token")  # wrong typ


# -- refusals: the body and the person (PS-14) --------------------------------------------------


@pytest.mark.parametrize(
    "members",
    [
        {"platform": "toaster"},
        {"device": "x" * 65},
        {"device": "bell\x07"},
        {"prompt": "now"},
        {"prompt": "none consent"},
        {"justification": "x" * 5000},
        {"justification": 42},
        {"capabilities": "interaction"},
        {"upstream_token": "eyJ"},
        {"subagent_token": 7},
        {"login_hint": ""},
        # issue 9 item 5: every member with a wrong JSON type
        {"justification": ["x"]},
        {"prompt": ["login"]},
        {"prompt": 1},
        {"platform": {"web": True}},
        {"platform": 7},
        {"device": ["d"]},
        {"device": 1.5},
        {"capabilities": [1]},
        {"capabilities": [["interaction"]]},
        {"capabilities": {"interaction": True}},
        {"login_hint": ["a"]},
        {"tenant": 1},
        {"domain_hint": True},
        {"upstream_token": ["eyJ"]},
    ],
)
def test_invalid_body_members_are_400(world: World, members: dict[str, Any]) -> None:
    agent = world.agent()

    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            return await request_token(http, agent, world.resource_token(agent), **members)

    problem(run(scenario()), 400, "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"{",
        b"{}",
        b'{"resource_token": 7}',
        b'{"resource_token": ["eyJ"]}',
        b'{"resource_token": {"t": 1}}',
        b'{"resource_token": null}',
        b'{"resource_token": "eyJ", "resource_token": "eyK"}',
        b'{"resource_token": "eyJ", "n": NaN}',
        b'{"resource_token": "eyJ", "n": 1e999}',
        b'{"resource_token": "\\ud800"}',
        b'{"resource_token": "\xff"}',
    ],
)
def test_malformed_bodies_are_400(world: World, body: bytes) -> None:
    agent = world.agent()

    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            return await signed(http, agent, "POST", f"{PS}/token", body)

    problem(run(scenario()), 400, "invalid_request")


def test_oversized_body_is_refused(world: World) -> None:
    agent = world.agent()
    body = token_body(world.resource_token(agent), padding="x" * (1024 * 1024))

    async def scenario() -> httpx.Response:
        async with client(world.app()) as http:
            return await signed(http, agent, "POST", f"{PS}/token", body)

    problem(run(scenario()), 413, "content_too_large")


def test_ps14_user_unreachable_without_the_interaction_capability(world: World) -> None:
    agent = world.agent()

    async def scenario(**members: Any) -> httpx.Response:
        async with client(world.app()) as http:
            return await request_token(http, agent, world.resource_token(agent), **members)

    problem(run(scenario(capabilities=["clarification"])), 403, "user_unreachable")
    problem(run(scenario(prompt="none")), 403, "user_unreachable")


def test_ps14_user_unreachable_when_no_person_may_approve(world: World) -> None:
    agent = world.agent()
    response = run(ask(world, agent, world.resource_token(agent), bind_on_first_approval=False))
    problem(response, 403, "user_unreachable")


def test_wrong_methods_and_paths_are_problem_json(world: World) -> None:
    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with client(world.app()) as http:
            return await http.get("/token"), await http.get("/nothing")

    wrong_method, unknown = run(scenario())
    problem(wrong_method, 405, "method_not_allowed")
    assert "POST" in wrong_method.headers["allow"]
    problem(unknown, 404, "not_found")


def test_unexpected_failures_are_problem_json_not_tracebacks(world: World) -> None:
    class Broken(StaticKeySource):
        async def aget_key(self, issuer: str, dwk: str, kid: str) -> Any:
            raise RuntimeError("boom")

    agent = world.agent()
    app = create_person_server(world.config(), SQLiteStore(), key_source=Broken({}))

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=PS) as http:
            return await request_token(http, agent, world.resource_token(agent))

    body = problem(run(scenario()), 500, "server_error")
    assert "boom" not in json.dumps(body)
