"""RS-18 over real HTTP: when a flow that entered a resource's own interaction endpoint with
the caller's ``callback`` ends in a refusal, the resource sends the person to that callback
with ``error=`` set to one of the five defined codes (§F.5) — a code it does not know becomes
``server_error``, never an echo of what it was sent."""

from __future__ import annotations

import httpx
import pytest

from aauth.agent.poller import DeferredCallbacks, InteractionPrompt
from aauth.callbacks import CALLBACK_ERRORS
from aauth.demo.consent import PERSON
from aauth.demo.person import Person
from aauth.demo.world import World
from aauth.errors import PendingDenied

from .conftest import AgentFactory, PersonAtHand
from .test_e2e_phase9 import approved_at, chained, deferred_by_hand

__all__ = ["chained"]  # the fixture, shared with phase 9


def test_rs18_a_denial_downstream_ends_at_the_callers_callback(
    chained: World, open_agent: AgentFactory
) -> None:
    """The person denies at the person server; the resource's interaction flow ends at the
    agent's callback with ``error=access_denied``, and the agent's poll says denied."""
    world = chained
    [intermediary] = world.intermediaries
    person = PersonAtHand(world)
    callback = f"{world.agent_provider}/callback?session=7"
    landed: list[httpx.Response] = []

    def deny_with_callback(prompt: InteractionPrompt) -> None:
        with httpx.Client() as browser:
            alice = Person(PERSON, person.password, browser)
            landed.append(alice.decide(prompt, "deny", callback=callback))

    with open_agent(world, person.callbacks) as agent:
        approved_at(agent, person, intermediary)
        agent.auth.callbacks = DeferredCallbacks(on_interaction=deny_with_callback)
        with pytest.raises(PendingDenied):
            agent.request("GET", f"{intermediary}/chained")
    [page] = landed
    assert str(page.url) == f"{callback}&error=access_denied"


def test_rs18_every_ending_reaches_the_callback_as_one_of_the_five_codes(
    chained: World, open_agent: AgentFactory
) -> None:
    """Each code the person server may send back is passed on as itself; anything else as
    ``server_error`` (RS-18)."""
    world = chained
    [intermediary] = world.intermediaries
    chaining = world.apps[intermediary].state.chaining.chained
    callback = f"{world.agent_provider}/callback"
    token, _ = deferred_by_hand(world, open_agent, PersonAtHand(world))
    sent = [*sorted(CALLBACK_ERRORS), "not_a_defined_code"]
    for error in sent:
        url = f"{intermediary}/chained"
        headers = {"AAuth-Capabilities": "interaction"}
        headers.update(world.signer.sign("GET", url, headers, token=token))
        deferred = httpx.get(url, headers=headers)
        assert deferred.status_code == 202, deferred.text
        code = deferred.headers["aauth-requirement"].split('code="', 1)[1].split('"', 1)[0]
        with httpx.Client() as browser:
            entered = browser.get(
                f"{intermediary}/interact", params={"code": code, "callback": callback}
            )
            assert entered.status_code == 200, entered.text  # the interstitial page
            request_id = deferred.headers["location"].rsplit("/", 1)[1]
            pending = chaining.pending.get(request_id)
            assert pending is not None
            back = browser.get(
                f"{intermediary}/interact/callback",
                params={"flow": pending.interaction_id, "error": error},
            )
        assert back.status_code == 303
        expected = error if error in CALLBACK_ERRORS else "server_error"
        assert back.headers["location"] == f"{callback}?error={expected}"


def test_a_second_visit_to_the_resources_callback_changes_nothing(
    chained: World, open_agent: AgentFactory
) -> None:
    """CSRF audit of the resource's ``GET /interact/callback``: only the unguessable flow id
    reaches the request; the first end stands whatever a later visit says, and every visit
    is sent to the same checked callback (never a URL from the query). The ``error`` a later
    visit passes on is only a hint to the agent; its poll reports the first end."""
    world = chained
    [intermediary] = world.intermediaries
    chaining = world.apps[intermediary].state.chaining.chained
    callback = f"{world.agent_provider}/callback"
    token, _ = deferred_by_hand(world, open_agent, PersonAtHand(world))
    url = f"{intermediary}/chained"
    headers = {"AAuth-Capabilities": "interaction"}
    headers.update(world.signer.sign("GET", url, headers, token=token))
    deferred = httpx.get(url, headers=headers)
    code = deferred.headers["aauth-requirement"].split('code="', 1)[1].split('"', 1)[0]
    request_id = deferred.headers["location"].rsplit("/", 1)[1]
    with httpx.Client() as browser:
        browser.get(f"{intermediary}/interact", params={"code": code, "callback": callback})
        pending = chaining.pending.get(request_id)
        assert pending is not None
        flow = {"flow": pending.interaction_id}
        first = browser.get(
            f"{intermediary}/interact/callback", params={**flow, "error": "access_denied"}
        )
        ended = chaining.pending.get(request_id)
        again = [
            browser.get(f"{intermediary}/interact/callback", params=params)
            for params in ({**flow, "error": "user_abandoned"}, flow, {"flow": "x" * 22})
        ]
    assert first.headers["location"] == f"{callback}?error=access_denied"
    assert again[0].headers["location"] == f"{callback}?error=user_abandoned"
    assert again[1].headers["location"] == callback
    assert again[2].status_code == 404
    after = chaining.pending.get(request_id)
    assert ended is not None
    assert ended.state.terminal
    assert after is not None
    assert (after.state, after.result) == (ended.state, ended.result)
