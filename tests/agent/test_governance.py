"""The agent's §F.9 flows against a person server that answers badly: anything but a clear
``granted`` is never taken for a grant (AG-32), a missing endpoint or a refused audit is a
clear error, and a tool the mission approved needs no call at all."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth.agent import PermissionDenied, PermissionGranted, audit_action, request_permission
from aauth.agent.flow import Flow, run_async
from aauth.agent.signer import AgentSigner
from aauth.errors import MissionTerminated, ServerError
from aauth.headers import MissionRef
from aauth.missions import ApprovedMission, mission_s256

from ..person.conftest import PS, World

BLOB = json.dumps(
    {
        "approver": PS,
        "agent": "aauth:bot@ap.example",
        "approved_at": "2026-01-01T00:00:00Z",
        "description": "d",
        "approved_tools": [{"name": "Read", "description": "read"}],
    }
).encode()
MISSION = ApprovedMission(MissionRef(PS, mission_s256(BLOB)), BLOB)


def signer() -> AgentSigner:
    return World().agent().signer


def person_server(answer: Response, *, endpoints: bool = True) -> tuple[Starlette, list[bytes]]:
    """A stand-in PS whose permission and audit endpoints give ``answer``; the bodies seen."""
    seen: list[bytes] = []

    async def metadata(request: Request) -> Response:
        document: dict[str, Any] = {
            "issuer": PS,
            "jwks_uri": f"{PS}/jwks",
            "token_endpoint": f"{PS}/token",
        }
        if endpoints:
            document.update(permission_endpoint=f"{PS}/permission", audit_endpoint=f"{PS}/audit")
        return JSONResponse(document)

    async def endpoint(request: Request) -> Response:
        seen.append(await request.body())
        return answer

    routes = [
        Route("/.well-known/aauth-person.json", metadata),
        Route("/permission", endpoint, methods=["POST"]),
        Route("/audit", endpoint, methods=["POST"]),
    ]
    return Starlette(routes=routes), seen


def drive(app: Starlette, flow: Flow[Any]) -> Any:
    async def go() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            return await run_async(flow, client)

    return asyncio.run(go())


@pytest.mark.parametrize(
    "answer",
    [
        JSONResponse({"permission": "maybe"}),
        JSONResponse({"permission": True}),
        JSONResponse({}),
        Response(b"granted", media_type="text/plain"),
        JSONResponse(["granted"]),
    ],
)
def test_ag32_nothing_but_granted_is_a_grant(answer: Response) -> None:
    app, _ = person_server(answer)
    with pytest.raises(ServerError):
        drive(app, request_permission(PS, "SendEmail", signer()))


def test_ag32_a_denial_raises_with_the_reason_and_a_grant_returns() -> None:
    denied, seen = person_server(JSONResponse({"permission": "denied", "reason": "*no*"}))
    with pytest.raises(PermissionDenied) as refused:
        drive(
            denied,
            request_permission(
                PS,
                "SendEmail",
                signer(),
                mission=MISSION,
                parameters={"to": "x"},
                description="why",
            ),
        )
    assert refused.value.reason == "*no*"
    assert json.loads(seen[0]) == {
        "action": "SendEmail",
        "description": "why",
        "parameters": {"to": "x"},
        "mission": {"approver": PS, "s256": MISSION.ref.s256},
    }
    granted, _ = person_server(JSONResponse({"permission": "granted"}))
    assert drive(granted, request_permission(PS, "Run", signer())) == PermissionGranted("Run")


def test_an_approved_tool_is_granted_without_asking() -> None:
    app, seen = person_server(JSONResponse({"permission": "denied"}))
    flow = request_permission(PS, "Read", signer(), mission=MISSION)
    assert drive(app, flow) == PermissionGranted("Read", asked=False)
    assert seen == []


def test_a_ps_without_the_endpoints_is_a_clear_error() -> None:
    app, _ = person_server(JSONResponse({}), endpoints=False)
    with pytest.raises(ServerError, match="no permission_endpoint"):
        drive(app, request_permission(PS, "Run", signer()))
    with pytest.raises(ServerError, match="no audit_endpoint"):
        drive(app, audit_action(MISSION, "Run", signer()))


def test_ps22_audit_expects_201_and_reports_the_problem_otherwise() -> None:
    created, seen = person_server(Response(status_code=201))
    drive(created, audit_action(MISSION, "Read", signer(), result={"ok": True}))
    assert json.loads(seen[0])["mission"] == {"approver": PS, "s256": MISSION.ref.s256}
    ended = JSONResponse(
        {"error": "mission_terminated", "detail": "this mission is not active"},
        403,
        media_type="application/problem+json",
    )
    refused, _ = person_server(ended)
    with pytest.raises(MissionTerminated):
        drive(refused, audit_action(MISSION, "Read", signer()))
    wrong, _ = person_server(JSONResponse({}, 200))
    with pytest.raises(ServerError):
        drive(wrong, audit_action(MISSION, "Read", signer()))
