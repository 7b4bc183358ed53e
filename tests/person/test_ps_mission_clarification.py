"""Clarification during a mission review (phase 12: proposal → clarification → approval), in
process: the person asks on the proposal page, the proposal's pending URL answers
``requirement=clarification``, the agent answers with a signed POST or withdraws; the same
caps as consent (PS-29), V-32, V-34, and agent text shown escaped (V-42)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from aauth.headers import parse_mission

from .conftest import (
    ALICE_PASSWORD,
    PS,
    Agent,
    World,
    client,
    decide,
    interaction_of,
    open_consent,
    sign_in,
    signed,
)
from .test_ps_clarification import answer_body, ask, clarification_of
from .test_ps_missions import PROPOSAL, poll, propose, under_review
from .test_ps_token_endpoint import run

CAN_ANSWER = {**PROPOSAL, "capabilities": ["interaction", "clarification"]}
QUESTION = "Why do you need *mail.send*?"
ANSWER = "To mail <b>you</b> the report."


async def asked_about(
    http: httpx.AsyncClient, alice: httpx.AsyncClient, agent: Agent
) -> tuple[str, str, str]:
    """A proposal from an agent that can answer, which Alice opened and asked ``QUESTION``
    about: ``(pending URL, interaction url, code)``."""
    proposed = await propose(http, agent, CAN_ANSWER)
    assert proposed.status_code == 202, proposed.text
    url, code = interaction_of(proposed)
    await sign_in(alice, "alice", ALICE_PASSWORD)
    page = await open_consent(alice, url, code)
    assert "id=ask" in page.text
    after = await ask(alice, page, QUESTION)
    assert after.status_code == 200, after.text
    assert "id=waiting" in after.text
    return proposed.headers["location"], url, code


def test_phase12_person_asks_about_a_proposal_agent_answers_then_approval(world: World) -> None:
    """PS-29, V-34, V-42: the question on the pending URL, the escaped answer on the page,
    then the approved mission."""
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location, url, code = await asked_about(http, alice, agent)
            question = clarification_of(await poll(http, agent, location))
            assert question["clarification"] == QUESTION
            assert question["timeout"] > 0
            answered = await signed(http, agent, "POST", location, answer_body(ANSWER))
            assert answered.status_code == 202, answered.text
            assert "clarification" not in answered.json()
            page = await open_consent(alice, url, code)
            assert "To mail &lt;b&gt;you&lt;/b&gt; the report." in page.text
            assert "<b>you</b>" not in page.text
            assert "Why do you need *mail.send*?" in page.text
            assert "id=waiting" not in page.text
            assert (await decide(alice, page)).status_code == 200
            approval = await poll(http, agent, location)
            assert approval.status_code == 200, approval.text
            ref = parse_mission(approval.headers["aauth-mission"])
            assert ref.approver == PS

    run(scenario())


def test_an_agent_that_cannot_answer_is_not_asked_about_its_proposal(world: World) -> None:
    """No ``clarification`` capability: no Ask box, and a forged ask is refused."""
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            proposed, page, _ = await under_review(http, alice, agent)
            assert "id=ask" not in page.text
            refused = await ask(alice, page, QUESTION)
            assert refused.status_code == 400
            assert "cannot answer questions" in refused.text
            assert (await poll(http, agent, proposed.headers["location"])).status_code == 202

    run(scenario())


def test_v32_an_answer_about_a_proposal_from_another_agent_is_404(world: World) -> None:
    agent, other, app = world.agent(), world.agent("other"), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location, url, code = await asked_about(http, alice, agent)
            stranger = await signed(http, other, "POST", location, answer_body("me!"))
            assert stranger.status_code == 404
            assert (await signed(http, other, "DELETE", location)).status_code == 404
            still = clarification_of(await poll(http, agent, location))
            assert still["clarification"] == QUESTION
            assert "me!" not in (await open_consent(alice, url, code)).text

    run(scenario())


def test_ps29_too_many_rounds_about_a_proposal(world: World) -> None:
    agent, app = world.agent(), world.app(clarification_rounds=1)

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location, url, code = await asked_about(http, alice, agent)
            await signed(http, agent, "POST", location, answer_body(ANSWER))
            page = await open_consent(alice, url, code)
            assert "id=ask" not in page.text
            refused = await ask(alice, page, "and another?")
            assert refused.status_code == 400
            assert "at most 1 questions" in refused.text
            extra = await signed(http, agent, "POST", location, answer_body("unasked"))
            assert extra.status_code == 400

    run(scenario())


def test_proposal_answers_oversized_or_updated_request_are_400(world: World) -> None:
    """PS-29 size cap; an ``updated_request`` has no meaning for a proposal (V-34)."""
    agent, app = world.agent(), world.app(clarification_max_length=50)

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location, _, _ = await asked_about(http, alice, agent)
            long = await signed(http, agent, "POST", location, answer_body("x" * 51))
            assert long.status_code == 400
            body: dict[str, Any] = {"action": "updated_request", "resource_token": "x.y.z"}
            updated = await signed(http, agent, "POST", location, json.dumps(body).encode())
            assert updated.status_code == 400
            assert "clarification_response" in updated.json()["detail"]
            assert clarification_of(await poll(http, agent, location))["clarification"]

    run(scenario())


def test_the_agent_withdraws_its_proposal_instead_of_answering(world: World) -> None:
    agent, app = world.agent(), world.app()

    async def scenario() -> None:
        async with client(app) as http, client(app) as alice:
            location, url, code = await asked_about(http, alice, agent)
            assert (await signed(http, agent, "DELETE", location)).status_code in (200, 204)
            assert (await poll(http, agent, location)).status_code == 410
            page = await open_consent(alice, url, code)
            assert "id=approve" not in page.text

    run(scenario())
