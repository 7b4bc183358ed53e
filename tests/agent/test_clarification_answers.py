"""How the agent answers a clarification (AG-24 … AG-26): sync and async callbacks on both
drivers, an updated request, a withdrawal, and what the server says to the POST."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse

from aauth.agent.flow import Ask, ask_sync, run_async, run_sync
from aauth.agent.poller import (
    Clarification,
    ClarificationAnswer,
    DeferredCallbacks,
    UpdatedRequest,
    follow_deferred,
)
from aauth.errors import InvalidRequest

from .test_poller import FAST, Script, fake_sign, first_202, script

__all__ = ["script"]  # the fixture, shared with test_poller

QUESTION = JSONResponse({"status": "pending", "clarification": "Why?", "timeout": 60}, 202)


def posted(s: Script) -> list[dict[str, Any]]:
    return [json.loads(body) for method, _, body in s.seen if method == "POST"]


def run_blocking(base: str, callbacks: DeferredCallbacks) -> httpx.Response:
    with httpx.Client() as client:
        flow = follow_deferred(first_202(client, base), fake_sign, FAST, callbacks)
        return run_sync(flow, client)


def run_in_loop(base: str, callbacks: DeferredCallbacks) -> httpx.Response:
    async def main() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            first = await client.post(f"{base}/start")
            return await run_async(follow_deferred(first, fake_sign, FAST, callbacks), client)

    return asyncio.run(main())


async def async_answer(question: Clarification) -> ClarificationAnswer:
    await asyncio.sleep(0)
    return f"async: {question.question}"


def sync_answer(question: Clarification) -> ClarificationAnswer:
    return f"sync: {question.question}"


@pytest.mark.parametrize("driver", [run_blocking, run_in_loop])
@pytest.mark.parametrize("callback", [sync_answer, async_answer])
def test_sync_and_async_callbacks_on_both_drivers(
    script: tuple[Script, str], driver: Any, callback: Any
) -> None:
    s, base = script
    s.replies = [QUESTION, JSONResponse({"auth_token": "t"}, 200)]
    final = driver(base, DeferredCallbacks(on_clarification=callback))
    assert final.json() == {"auth_token": "t"}  # the server answered the POST with the token
    prefix = "async" if callback is async_answer else "sync"
    assert posted(s) == [
        {"action": "clarification_response", "clarification_response": f"{prefix}: Why?"}
    ]


def test_ag26_updated_request_is_posted_with_its_action(script: tuple[Script, str]) -> None:
    s, base = script
    s.replies = [QUESTION, JSONResponse({"status": "pending"}, 202)]
    s.replies.append(JSONResponse({"auth_token": "t"}, 200))
    narrower = UpdatedRequest("eyJ.narrow.token", "Read-only is enough.")
    run_blocking(base, DeferredCallbacks(on_clarification=lambda q: narrower))
    assert posted(s) == [
        {
            "action": "updated_request",
            "resource_token": "eyJ.narrow.token",
            "justification": "Read-only is enough.",
        }
    ]


def test_a_refused_answer_is_raised(script: tuple[Script, str]) -> None:
    s, base = script
    problem = {"error": "invalid_request", "detail": "'clarification_response' is longer"}
    s.replies = [QUESTION, JSONResponse(problem, 400)]
    with pytest.raises(InvalidRequest, match="longer"):
        run_blocking(base, DeferredCallbacks(on_clarification=sync_answer))


def test_a_callback_must_return_text_an_update_or_none(script: tuple[Script, str]) -> None:
    s, base = script
    s.replies = [QUESTION]
    with pytest.raises(TypeError, match="on_clarification"):
        run_blocking(base, DeferredCallbacks(on_clarification=lambda q: 42))  # type: ignore[arg-type,return-value]


def test_async_callback_on_a_blocking_driver_inside_an_event_loop_is_a_clear_error() -> None:
    async def main() -> None:
        ask: Ask[str] = Ask(lambda: async_answer(Clarification("?", None, (), "")))  # type: ignore[arg-type,return-value]
        with pytest.raises(RuntimeError, match="AsyncClient"):
            ask_sync(ask)

    asyncio.run(main())
