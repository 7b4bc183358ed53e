"""Protocol flows written once, as generators, and the drivers that run them.

A flow yields the next step, an :class:`httpx.Request` to send or a :class:`Sleep`, and
receives the response (or None after a sleep). A transport failure is thrown into the flow
at the ``yield``, so the flow decides whether to retry. It never does I/O itself, so the
same flow runs on a blocking client, an async client, or inside an ``httpx.Auth``.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

import anyio
import httpx

__all__ = ["Flow", "Sleep", "Step", "run_async", "run_sync"]

T = TypeVar("T")


@dataclass(frozen=True)
class Sleep:
    """Pause the flow (polling intervals, Retry-After)."""

    seconds: float


Step: TypeAlias = httpx.Request | Sleep
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
            try:
                reply = await client.send(step)
                await reply.aread()
            except httpx.TransportError as exc:
                failure = exc
    except StopIteration as stop:
        result: T = stop.value
        return result
