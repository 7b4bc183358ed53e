"""Phase 3 over real HTTP: challenge → token request → retry, with no person involved, on a
blocking and on an async client; a write needs a step-up that this policy does not allow
alone, so the person is asked."""

from __future__ import annotations

from aauth.demo.world import World
from aauth.headers import AuthTokenRequirement, parse_requirement
from aauth.metadata import well_known_url
from aauth.tokens import decode_unverified
from aauth.tokens.verifier import AUTH_TOKEN, RESOURCE_TOKEN
from aauth.tokens.wire import PERSON_DWK, RESOURCE_DWK

from .conftest import AgentFactory, PersonAtHand, assert_long_polls, recorder


def scopes_of(token: str | None) -> tuple[str, ...]:
    assert token is not None
    return decode_unverified(AUTH_TOKEN, token, allow_loopback_http=True).scope


def test_challenge_token_retry_then_the_cached_token_is_reused(
    autonomous: World, open_agent: AgentFactory
) -> None:
    world, log = autonomous, recorder(autonomous)
    data, ps = f"{autonomous.resource}/data", autonomous.person_server
    with open_agent(world, None) as agent:
        first = agent.request("GET", data)
        assert first.status_code == 200, first.text
        assert first.json()["scope"] == ["data.read"]
        resource = autonomous.resource
        assert log.trail() == [
            ("GET", well_known_url(resource, RESOURCE_DWK), 200),  # AG-05: what to cover
            ("GET", data, 401),
            ("GET", f"{resource}/.well-known/jwks.json", 200),  # AG-11: verify the challenge
            ("GET", well_known_url(ps, PERSON_DWK), 200),
            ("POST", f"{ps}/token", 200),
            ("GET", data, 200),
        ]
        challenge = parse_requirement(
            log.responses[1].headers["aauth-requirement"], allow_loopback_http=True
        )
        assert isinstance(challenge, AuthTokenRequirement)
        resource_token = decode_unverified(
            RESOURCE_TOKEN, challenge.resource_token, allow_loopback_http=True
        )
        assert (resource_token.aud, resource_token.scope) == (ps, ("data.read",))
        token = agent.auth.cache.get(world.resource)
        assert scopes_of(token) == ("data.read",)

        mark = len(log.responses)
        second = agent.request("GET", data)
        assert second.status_code == 200
        assert log.trail(mark) == [("GET", data, 200)]  # no challenge, no token request
        assert agent.auth.cache.get(world.resource) == token
        assert log.responses[-1].request.headers["signature-key"] == f'sig=jwt;jwt="{token}"'


def test_a_write_steps_up_and_the_person_is_asked(
    autonomous: World, open_agent: AgentFactory
) -> None:
    world, log = autonomous, recorder(autonomous)
    data, ps = f"{autonomous.resource}/data", autonomous.person_server
    person = PersonAtHand(world)
    with open_agent(world, person.callbacks) as agent:
        assert agent.request("GET", data).status_code == 200
        read_token = agent.auth.cache.get(world.resource)
        mark = len(log.responses)
        written = agent.request("POST", data, json={"note": "Q3 summary"})
        person.done()
        assert written.status_code == 201, written.text
        assert written.json()["stored"] == {"note": "Q3 summary"}
        write_token = agent.auth.cache.get(world.resource)
        after = len(log.responses)
        assert agent.request("GET", data).status_code == 200
    # The new token carries both scopes, so reading again needs no new token.
    assert log.trail(after) == [("GET", data, 200)]
    trail = log.trail(mark)[: after - mark]
    # The data.read token is valid but not enough: a new challenge for data.write (§F.1 step-up).
    assert trail[:2] == [("POST", data, 401), ("POST", f"{ps}/token", 202)]
    challenge = parse_requirement(
        log.responses[mark].headers["aauth-requirement"], allow_loopback_http=True
    )
    assert isinstance(challenge, AuthTokenRequirement)
    assert decode_unverified(
        RESOURCE_TOKEN, challenge.resource_token, allow_loopback_http=True
    ).scope == ("data.write", "data.read")  # the step-up keeps the scope already held
    # data.write is not pre-approved: the PS defers to its person, who approves.
    [prompt] = person.prompts
    assert [answer.status_code for answer in person.answers] == [200]
    assert_long_polls(trail[2:-1], prompt.pending_url, 200)
    assert trail[-1] == ("POST", data, 201)  # the same body, signed again with the new token
    assert write_token != read_token
    assert scopes_of(write_token) == ("data.write", "data.read")
