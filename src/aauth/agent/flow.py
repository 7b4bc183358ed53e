"""Protocol flows written once, as generators, and the drivers that run them.

A flow yields the next step, an :class:`httpx.Request` to send, a :class:`Sleep`, or an
:class:`Ask` for the agent's owner, and receives the response (or None after a sleep or a
question). A transport failure is thrown into the flow at the ``yield``, so the flow decides
whether to retry. It never does I/O itself, so the same flow runs on a blocking client, an
async client, or inside an ``httpx.Auth``.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

import anyio
import httpx

__all__ = ["Ask", "Flow", "Sleep", "Step", "ask_async", "ask_sync", "run_async", "run_sync"]

T = TypeVar("T")


@dataclass(frozen=True)
class Sleep:
    """Pause the flow (polling intervals, Retry-After)."""

    seconds: float


@dataclass(eq=False)
class Ask(Generic[T]):
    """A question for whoever runs the agent (e.g. a clarification): the driver calls
    ``callback``, awaiting it when it is async, and puts its result in ``answer`` before the
    flow resumes."""

    callback: Callable[[], T | Awaitable[T]]
    answer: T | None = None


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def ask_sync(step: Ask[Any]) -> None:
    """Answer ``step`` on a blocking driver; an async callback runs on its own event loop
    (there is none on this thread, or the caller would be using an async client)."""
    result = step.callback()
    if inspect.isawaitable(result):
        if _loop_running():
            if inspect.iscoroutine(result):
                result.close()
            raise RuntimeError(
                "an async callback cannot run on a blocking client inside an event loop; "
                "use httpx.AsyncClient"
            )
        awaitable = result

        async def wait() -> Any:
            return await awaitable

        result = asyncio.run(wait())
    step.answer = result


async def ask_async(step: Ask[Any]) -> None:
    """Answer ``step`` on an async driver; a blocking callback runs in a worker thread so
    the event loop keeps serving other requests meanwhile."""
    if inspect.iscoroutinefunction(step.callback):
        step.answer = await step.callback()
        return
    result = await anyio.to_thread.run_sync(step.callback)
    step.answer = await result if inspect.isawaitable(result) else result


Step: TypeAlias = httpx.Request | Sleep | Ask[Any]
Flow: TypeAlias = Generator[Step, httpx.Response | None, T]


def run_sync(flow: Flow[T], client: httpx.Client) -> T:
    """Drive ``flow`` with a blocking client."""
    reply: httpx.Response | None = None
    failure: httpx.TransportError | None = None
    try:
        while True:
            step = flow.send(reply) if failure is None else flow.throw(failure)
            failure = reply = None
            if isinstance(step, Sleep):
                time.sleep(max(0.0, step.seconds))
                continue
            if isinstance(step, Ask):
                ask_sync(step)
                continue
            try:
                reply = client.send(step)
                reply.read()
            except httpx.TransportError as exc:
                failure = exc
    except StopIteration as stop:
        result: T = stop.value
        return result


async def run_async(flow: Flow[T], client: httpx.AsyncClient) -> T:
    """Drive ``flow`` with an async client."""
    reply: httpx.Response | None = None
    failure: httpx.TransportError | None = None
    try:
        while True:
            step = flow.send(reply) if failure is None else flow.throw(failure)
            failure = reply = None
            if isinstance(step, Sleep):
                await anyio.sleep(max(0.0, step.seconds))
                continue
            if isinstance(step, Ask):
                await ask_async(step)
                continue
            try:
                reply = await client.send(step)
                await reply.aread()
            except httpx.TransportError as exc:
                failure = exc
    except StopIteration as stop:
        result: T = stop.value
        return result
