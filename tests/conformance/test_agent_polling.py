"""AG-20, AG-21: how long the agent waits between polls, read off the poll flow itself.

The flow yields a :class:`~aauth.agent.flow.Sleep` before each poll; driving it step by
step with a virtual clock shows every pause exactly, with no real sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from aauth.agent.flow import Sleep
from aauth.agent.poller import PollSettings, PollTimeout, follow_deferred

PENDING = "https://ps.example/pending/abc"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sign(method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
    return {"Signature": "sig=:AAAA:"}


def pending(status: int = 202, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", PENDING)
    return httpx.Response(
        status,
        json={"status": "pending"},
        headers={"Location": PENDING, **headers},
        request=request,
    )


def pauses(replies: list[httpx.Response], settings: PollSettings, clock: Clock) -> list[float]:
    """Run the flow over ``replies`` (the first is the initial 202); the pauses it asked for."""
    flow = follow_deferred(replies[0], sign, settings)
    slept: list[float] = []
    queue = list(replies[1:])
    step = next(flow)
    try:
        while True:
            if isinstance(step, Sleep):
                slept.append(step.seconds)
                clock.now += step.seconds
                step = flow.send(None)
            elif step.method == "DELETE":
                step = flow.send(httpx.Response(204, request=step))
            else:
                step = flow.send(queue.pop(0) if queue else pending())
    except StopIteration:
        pass
    return slept


def final() -> httpx.Response:
    return httpx.Response(200, json={"auth_token": "t"}, request=httpx.Request("GET", PENDING))


@pytest.mark.parametrize("seconds", [90, 600, 3000])
def test_ag20_retry_after_is_respected_beyond_a_minute(seconds: int) -> None:
    """No fixed cap: a server asking for 10 minutes gets 10 minutes (the deadline allows)."""
    clock = Clock()
    settings = PollSettings(deadline=7200, prefer_wait=0, clock=clock)
    slept = pauses([pending(**{"Retry-After": str(seconds)}), final()], settings, clock)
    assert slept == [seconds]


def test_ag20_retry_after_as_an_http_date() -> None:
    clock = Clock()
    settings = PollSettings(deadline=7200, prefer_wait=0, clock=clock)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    (slept,) = pauses([pending(**{"Retry-After": when}), final()], settings, clock)
    assert 115 <= slept <= 121


@pytest.mark.parametrize("value", [None, "soon", "nan", "inf"])
def test_ag20_five_seconds_when_retry_after_is_absent_or_unreadable(value: str | None) -> None:
    clock = Clock()
    settings = PollSettings(deadline=600, prefer_wait=0, clock=clock)
    first = pending() if value is None else pending(**{"Retry-After": value})
    assert pauses([first, final()], settings, clock) == [5.0]


def test_ag20_the_callers_deadline_bounds_a_long_retry_after() -> None:
    """Retry-After longer than the time left: wait out the deadline, look once more, then
    cancel (DELETE) and raise PollTimeout."""
    clock = Clock()
    settings = PollSettings(deadline=100, prefer_wait=0, clock=clock)
    with pytest.raises(PollTimeout):
        pauses([pending(**{"Retry-After": "3600"})], settings, clock)
    assert clock.now == pytest.approx(1100.0)


def test_ag21_each_429_adds_five_seconds_to_every_later_pause() -> None:
    clock = Clock()
    settings = PollSettings(deadline=600, prefer_wait=0, clock=clock)
    replies = [
        pending(**{"Retry-After": "2"}),
        pending(429, **{"Retry-After": "2"}),
        pending(**{"Retry-After": "2"}),
        pending(429),
        pending(**{"Retry-After": "2"}),
        final(),
    ]
    assert pauses(replies, settings, clock) == [2, 7, 7, 15, 12]


def test_ag22_an_unknown_status_is_treated_as_pending() -> None:
    clock = Clock()
    settings = PollSettings(deadline=600, prefer_wait=0, clock=clock)
    odd = httpx.Response(
        202,
        json={"status": "teleporting"},
        headers={"Location": PENDING, "Retry-After": "1"},
        request=httpx.Request("GET", PENDING),
    )
    assert pauses([pending(**{"Retry-After": "1"}), odd, final()], settings, clock) == [1, 1]
