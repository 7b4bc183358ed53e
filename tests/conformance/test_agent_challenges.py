"""AG-13, AG-14, AG-38: how the agent reads a resource's 401s.

A real :class:`AgentAuth` against the example resource and person server in-process
(``conftest.World``); faults are responses a test puts in the resource's place.
"""

from __future__ import annotations

import json

import httpx

from aauth.agent import AgentAuth

from .conftest import API, DATA, PS, Fault, World


def only_data(status: int, headers: dict[str, str], body: dict[str, object]) -> Fault:
    def fault(request: httpx.Request) -> httpx.Response | None:
        if str(request.url) == DATA:
            return httpx.Response(status, headers=headers, json=body)
        return None

    return fault


def test_ag13_a_step_up_challenge_while_holding_a_valid_auth_token_is_answered(
    world: World,
) -> None:
    auth = AgentAuth(world.agent())
    assert world.get(auth).status_code == 200  # data.read token obtained and cached
    read_token = auth.cache.get(API)
    assert read_token is not None
    request = httpx.Request("POST", DATA, json={"note": "Q3"})
    written = world.send(auth, request)
    assert written.status_code == 201, written.text
    posts = [t for t in world.trail if t[0] == "POST" and t[1] == DATA]
    assert posts == [("POST", DATA, 401), ("POST", DATA, 201)]
    assert world.token_requests() == 2
    assert auth.cache.get(API) not in (None, read_token)


def test_ag14_an_unrecognised_requirement_is_not_treated_as_satisfiable(world: World) -> None:
    world.faults.append(only_data(401, {"AAuth-Requirement": "requirement=telepathy; level=9"}, {}))
    response = world.get(AgentAuth(world.agent()))
    assert response.status_code == 401
    assert [t for t in world.trail if t[1] == DATA] == [("GET", DATA, 401)]  # no retry
    assert not any(url.startswith(PS) for _, url, _ in world.trail)  # no token request


def test_ag38_signature_errors_are_read_from_the_header_not_the_body(world: World) -> None:
    """A body claiming ``invalid_input`` with ``required_input`` is not acted on; the same
    request answered with the header is retried once with the component covered."""
    body = {"error": "invalid_input", "required_input": ["@target-uri"]}
    world.faults.append(only_data(401, {}, body))
    response = world.get(AgentAuth(world.agent()))
    assert response.status_code == 401
    assert [t for t in world.trail if t[1] == DATA] == [("GET", DATA, 401)]

    seen: list[str] = []

    def header_says_so(request: httpx.Request) -> httpx.Response | None:
        if str(request.url) != DATA:
            return None
        seen.append(request.headers["signature-input"])
        if '"@target-uri"' in request.headers["signature-input"]:
            return httpx.Response(200, json={"ok": True})
        names = '"@method" "@authority" "@path" "@target-uri" "signature-key"'
        header = f"error=invalid_input, required_input=({names})"
        return httpx.Response(401, headers={"Signature-Error": header}, json={"error": "nope"})

    world.faults[:] = [header_says_so]
    assert world.get(AgentAuth(world.agent())).status_code == 200
    assert len(seen) == 2
    assert '"@target-uri"' in seen[1]


def test_ag35_ag36_the_token_request_carries_no_device_or_platform(world: World) -> None:
    """The agent sends neither hint, so it can send neither an unregistered ``platform`` nor
    a ``device`` with more than the person chose (the PS refuses bad ones: PS tests)."""
    bodies: list[dict[str, object]] = []

    def record(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and str(request.url) == f"{PS}/token":
            bodies.append(json.loads(request.content))
        return None

    world.faults.append(record)
    assert world.get(AgentAuth(world.agent(), justification="Q3 report")).status_code == 200
    (body,) = bodies
    assert set(body) == {"resource_token", "justification"}
