"""Phases 7 and 11 end to end: agent, agent provider, person servers, a resource that chose an
access server, and that access server, all real servers on loopback ports.

The positive path runs every AS step (402 payment, AS interaction, clarification, claims);
the negative side covers an untrusted PS, a PS signature that does not verify, a resource
token for another AS, an ``agent_jkt`` that does not match, the person denying at the AS,
a 402 never paid and an interaction code used twice.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from aauth_signing import JwksUri, RequestSigner

from aauth.agent.auth import AgentAuth
from aauth.agent.enrollment import request_subagent_token
from aauth.agent.poller import Clarification, DeferredCallbacks, InteractionPrompt, PollSettings
from aauth.agent.signer import AgentSigner
from aauth.demo.consent import PERSON
from aauth.demo.federation import FederatedWorld, federated_world
from aauth.demo.person import Person
from aauth.errors import AAuthError
from aauth.keys import KeySet, generate_key, thumbprint
from aauth.metadata import well_known_url
from aauth.tokens import decode_unverified, issue_resource_token
from aauth.tokens.verifier import AUTH_TOKEN
from aauth.tokens.wire import ACCESS_DWK, PERSON_DWK

from .conftest import People, fetch, quiet

ALL_STEPS = {
    "payment": "0.10 USD",
    "interaction": True,
    "clarification": "Which report?",
    "required_claims": ["sub", "name"],
}


def _ps_port(ps: str) -> str:
    return ps.rsplit(":", 1)[1]


class AsCaller:
    """Calls the AS token endpoint directly, signed as a PS of the world (its key file)."""

    def __init__(self, world: FederatedWorld, ps: str) -> None:
        self.world, self.ps = world, ps
        self.keys = KeySet.load(world.directory / f"ps-{_ps_port(ps)}-keys.json")
        self.resource_keys = KeySet.load(world.directory / "resource-keys.json")

    def resource_token(self, **changes: Any) -> str:
        agent = self.world.agents[self.ps]
        claims = decode_unverified_agent(agent.agent_token or "")
        values: dict[str, Any] = {
            "iss": self.world.resource,
            "aud": self.world.access_server,
            "agent": claims["sub"],
            "agent_jkt": agent.thumbprint,
            "scope": "data.read",
            "allow_loopback_http": True,
        }
        values.update(changes)
        return issue_resource_token(self.resource_keys, **values)

    def post(self, body: dict[str, Any], key: Any = None) -> httpx.Response:
        url = f"{self.world.access_server}/token"
        content = json.dumps(body).encode()
        member = JwksUri(self.ps, PERSON_DWK, self.keys.current_kid)
        headers = {"content-type": "application/json"}
        signing = key if key is not None else self.keys.current
        headers.update(RequestSigner(signing, member).sign("POST", url, headers, content))
        return httpx.post(url, content=content, headers=headers)


def _relayed(people: People, access_server: str) -> list[str]:
    """The AS pages the PS sent the person to (with its code and the PS's callback)."""
    links = (u for u in people.visited if u.startswith(f"{access_server}/") and "?code=" in u)
    return list(dict.fromkeys(u for u in links if "&callback=" in u))


def decode_unverified_agent(token: str) -> dict[str, Any]:
    from aauth import jwt

    return jwt.peek(token)[1]


@pytest.fixture
def steps_world() -> Iterator[FederatedWorld]:
    with federated_world(quiet(), steps=ALL_STEPS) as world:
        yield world


@pytest.fixture
def plain_world() -> Iterator[FederatedWorld]:
    """Two PSes (the first trusted), both pre-approving; the AS asks for nothing more."""
    with federated_world(quiet(), person_servers=2, trusted=1, auto_approve=True) as world:
        yield world


def test_as01_metadata_and_ps08_discovery(plain_world: FederatedWorld) -> None:
    """AS-01: aauth-access.json names issuer, token_endpoint and jwks_uri."""
    document = httpx.get(well_known_url(plain_world.access_server, ACCESS_DWK)).json()
    assert document["issuer"] == plain_world.access_server
    assert document["token_endpoint"] == f"{plain_world.access_server}/token"
    assert httpx.get(document["jwks_uri"]).json()["keys"]


def test_phase7_every_step_then_an_as_token(steps_world: FederatedWorld) -> None:
    """AS-05, AS-06, AS-07, PS-08, PS-12, PS-15, PS-30: 402 → interaction → clarification →
    claims → 200, each carried by the PS; the token is the AS's own. The agent shows its
    person one page only, the PS's: after approving there, the PS relays the AS's payment
    and interaction pages (-10 "Interaction Chaining"), each with the PS's per-flow
    callback, and the AS's URLs and codes never reach the agent."""
    people = People(steps_world)
    response, auth = fetch(steps_world, steps_world.trusted_ps, people.callbacks())
    people.done()
    assert response.status_code == 200, response.text
    pages = [prompt.url for prompt in people.prompts]
    ps, as_ = steps_world.trusted_ps, steps_world.access_server
    assert pages == [f"{ps}/interact"]
    relayed = _relayed(people, as_)
    assert [url.split("?")[0] for url in relayed] == [f"{as_}/pay", f"{as_}/interact"]
    assert all(f"callback={quote(ps, safe='')}" in url for url in relayed)
    returns = [url for url in people.visited if url.startswith(ps) and "/callback" in url]
    assert len(returns) == 2
    token = auth.cache.get(steps_world.resource)
    assert token is not None
    claims = decode_unverified(AUTH_TOKEN, token, allow_loopback_http=True)
    assert (claims.iss, claims.raw["dwk"], claims.aud) == (as_, ACCESS_DWK, steps_world.resource)
    assert claims.sub is not None
    assert claims.raw["name"] == "Alice"
    assert claims.exp - claims.iat <= 3600
    assert response.json()["subject"] == claims.sub


def test_phase11_trusted_ps_is_granted_untrusted_refused(plain_world: FederatedWorld) -> None:
    trusted, untrusted = plain_world.person_servers
    response, _ = fetch(plain_world, trusted, None)
    assert response.status_code == 200
    with pytest.raises(AAuthError) as refused:
        fetch(plain_world, untrusted, None)
    assert refused.value.code == "insufficient_trust"
    assert untrusted in refused.value.description


def test_as02_ps_signature_that_does_not_verify(plain_world: FederatedWorld) -> None:
    caller = AsCaller(plain_world, plain_world.trusted_ps)
    agent = plain_world.agents[caller.ps]
    body = {"resource_token": caller.resource_token(), "agent_token": agent.agent_token}
    forged = caller.post(body, key=generate_key())
    assert forged.status_code == 401
    assert "signature-error" in forged.headers
    assert caller.post(body).status_code == 200


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"aud": "https://other-as.example"}, "is not"),
        ({"agent_jkt": thumbprint(generate_key())}, "agent_jkt"),
    ],
)
def test_as03_resource_token_for_this_as_and_the_agent_key(
    plain_world: FederatedWorld, change: dict[str, Any], words: str
) -> None:
    """AS-03: ``aud`` is this AS, ``agent_jkt`` the agent token's key."""
    caller = AsCaller(plain_world, plain_world.trusted_ps)
    agent = plain_world.agents[caller.ps]
    body = {"resource_token": caller.resource_token(**change), "agent_token": agent.agent_token}
    refused = caller.post(body)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_resource_token"
    assert words in refused.json()["detail"]


def test_as02_body_needs_both_tokens(plain_world: FederatedWorld) -> None:
    caller = AsCaller(plain_world, plain_world.trusted_ps)
    refused = caller.post({"resource_token": caller.resource_token()})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    wrong = caller.post({"resource_token": caller.resource_token(), "agent_token": "x.y.z"})
    assert wrong.json()["error"] == "invalid_agent_token"


def test_ps26_person_denying_at_the_as_is_denied_at_the_ps() -> None:
    """PS-26: a pre-approved request whose AS needs the person: the agent shows the PS's
    code; the PS sends the person to the AS, which sends them back with
    ``?error=access_denied``; the PS's request ends ``denied``."""
    with federated_world(quiet(), steps={"interaction": True}, auto_approve=True) as world:
        people = People(world, as_decision="deny")
        with pytest.raises(AAuthError) as denied:
            fetch(world, world.trusted_ps, people.callbacks())
        people.done()
    assert [prompt.url for prompt in people.prompts] == [f"{world.trusted_ps}/interact"]
    assert any("/callback?error=access_denied" in url for url in people.visited)
    assert denied.value.code == "denied"


def test_as06_a_402_never_paid_expires() -> None:
    steps = {"payment": "1.00 USD", "pending_lifetime": 2}
    with federated_world(quiet(), steps=steps, auto_approve=True) as world:
        prompts: list[str] = []
        callbacks = People(world).callbacks()
        callbacks.on_interaction = lambda prompt: prompts.append(prompt.url)
        with pytest.raises(AAuthError) as expired:
            fetch(world, world.trusted_ps, callbacks)
    assert prompts == [f"{world.trusted_ps}/interact"]
    assert expired.value.code == "expired"


def test_v37_an_interaction_code_used_twice(steps_world: FederatedWorld) -> None:
    people = People(steps_world)
    response, _ = fetch(steps_world, steps_world.trusted_ps, people.callbacks())
    people.done()
    assert response.status_code == 200
    relayed = _relayed(people, steps_world.access_server)  # the AS's two codes
    assert len(relayed) == 2
    for link in relayed:
        with httpx.Client() as browser:
            page = browser.get(link, follow_redirects=True)
            if "name=password" in page.text:
                form = {"username": "alice", "password": steps_world.password}
                browser.post(f"{steps_world.access_server}/login", data=form)
                page = browser.get(link, follow_redirects=True)
        assert page.status_code == 410, page.text
        assert "already been used" in page.text


def test_config_refuses_unknown_claims(tmp_path: Path) -> None:
    from aauth.access import AccessServerConfig
    from aauth.person import ConfigError

    with pytest.raises(ConfigError, match="required_claims"):
        AccessServerConfig.from_json(
            {
                "identifier": "https://as.example",
                "resources": ["https://r.example"],
                "required_claims": ["iss"],
            }
        )
    with pytest.raises(ConfigError, match="resources"):
        AccessServerConfig.from_json({"identifier": "https://as.example"})


def test_phase7_with_phase8_the_ps_person_asks_before_federating() -> None:
    """The PS's person asks the agent a question on the consent page (phase 8), reads the
    answer and approves; only then does the PS federate, and the AS's own question follows."""
    steps = {"clarification": "Which report?"}
    with federated_world(quiet(), steps=steps) as world:
        asked: list[str] = []

        def answer(question: Clarification) -> str:
            asked.append(question.question)
            return "The Q3 report."  # twice the same answer: each POST has its own nonce

        def converse(prompt: InteractionPrompt) -> None:
            def act() -> None:
                with httpx.Client(timeout=30) as browser:
                    Person(PERSON, world.password, browser).converse(prompt, ("Why?",))

            threading.Thread(target=act, daemon=True).start()

        callbacks = DeferredCallbacks(on_interaction=converse, on_clarification=answer)
        response, _ = fetch(world, world.trusted_ps, callbacks)
    assert response.status_code == 200, response.text
    assert asked == ["Why?", "Which report?"]


def test_as04_a_sub_agent_through_its_parent_and_both_servers(plain_world: FederatedWorld) -> None:
    """AS-04 end to end: the parent asks its PS for its sub-agent (``subagent_token``), the PS
    forwards it to the AS, and the sub-agent reads with a token naming the parent in ``act``."""
    parent = plain_world.agents[plain_world.trusted_ps]
    child_key = generate_key()
    with httpx.Client() as client:
        child_token = request_subagent_token(
            plain_world.agent_provider,
            parent.key,
            child_key,
            "search1",
            client,
            allow_loopback_http=True,
        )
    auth = AgentAuth(
        AgentSigner(child_key, child_token),
        parent=parent,
        poll=PollSettings(allow_loopback_http=True, deadline=60),
        allow_loopback_http=True,
    )
    with httpx.Client(auth=auth, timeout=60) as agent:
        response = agent.get(f"{plain_world.resource}/data")
    assert response.status_code == 200, response.text
    token = auth.cache.get(plain_world.resource)
    assert token is not None
    claims = decode_unverified(AUTH_TOKEN, token, allow_loopback_http=True)
    parent_id = decode_unverified_agent(parent.agent_token or "")["sub"]
    assert claims.iss == plain_world.access_server
    assert claims.agent == parent_id.replace("@", "+search1@")
    assert claims.act is not None
    assert claims.act.agent == parent_id


@pytest.mark.parametrize(
    "raw",
    [
        b'{"action": "clarification_response", "clarification_response": "\\ud800"}',
        b'{"action": "clarification_response", "clarification_response": "Q3",'
        b' "clarification_response": "all of them"}',
    ],
)
def test_v34_an_answer_for_the_access_server_is_strict_json(raw: bytes) -> None:
    """The agent's answer to the AS's question is read strictly by the PS before it is
    forwarded: 400 ``invalid_request`` for a lone surrogate or a duplicated answer (which the
    PS would otherwise read one way and the agent mean another), and the request goes on."""
    steps = {"clarification": "Which report?"}
    with federated_world(quiet(), steps=steps, auto_approve=True) as world:
        signer = world.agents[world.trusted_ps]
        refusals: list[httpx.Response] = []

        def answer(question: Clarification) -> str:
            headers = {"content-type": "application/json"}
            headers.update(signer.sign("POST", question.pending_url, headers, raw))
            refusals.append(httpx.post(question.pending_url, content=raw, headers=headers))
            return "The Q3 report."

        response, _ = fetch(world, world.trusted_ps, DeferredCallbacks(on_clarification=answer))
    assert response.status_code == 200, response.text
    [refused] = refusals
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")
