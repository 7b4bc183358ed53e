"""Deferred requests: ownership, terminal states, code redemption and the long poll."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from aauth.errors import InvalidCode, PendingExpired
from aauth.pending import MAX_CODE_ATTEMPTS, PendingRequests, PendingState
from aauth.store import SQLiteStore, StoreContention

AP = "https://ap.example"
AGENT = "aauth:bot@ap.example"


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock | None = None) -> PendingRequests:
    clock = clock or Clock()
    return PendingRequests(SQLiteStore(clock=clock), lifetime=60, clock=clock)


def test_v32_pending_ids_are_unguessable_and_bound_to_the_agent() -> None:
    pending = make()
    first = pending.create(AP, AGENT, {"scope": "read"})
    second = pending.create(AP, AGENT, {"scope": "read"})
    assert first.id != second.id
    assert len(first.id) >= 32  # 24 random bytes, base64url
    assert first.owned_by(AP, AGENT)
    assert not first.owned_by(AP, "aauth:other@ap.example")
    assert not first.owned_by("https://evil.example", AGENT)


def test_state_survives_in_the_store() -> None:
    clock = Clock()
    store = SQLiteStore(clock=clock)
    created = PendingRequests(store, clock=clock).create(AP, AGENT, {"x": 1}, with_code=True)
    again = PendingRequests(store, clock=clock).get(created.id)
    assert again is not None
    assert again.payload == {"x": 1}
    assert again.code == created.code


def test_expiry_is_applied_on_read() -> None:
    clock = Clock()
    pending = make(clock)
    request = pending.create(AP, AGENT, {})
    clock.now += 61
    current = pending.get(request.id)
    assert current is not None
    assert current.state is PendingState.EXPIRED


def test_update_is_atomic_and_terminal_states_stick() -> None:
    pending = make()
    request = pending.create(AP, AGENT, {})
    done = pending.update(request.id, lambda r: replace(r, state=PendingState.COMPLETED))
    assert done is not None
    assert done.state is PendingState.COMPLETED
    assert pending.update(request.id, lambda r: None) is None


def test_v37_a_used_code_is_rejected() -> None:
    pending = make()
    request = pending.create(AP, AGENT, {}, with_code=True)
    assert request.code is not None
    assert pending.redeem_code(request.code.lower()).id == request.id
    pending.update(request.id, lambda r: replace(r, state=PendingState.COMPLETED))
    with pytest.raises(InvalidCode):
        pending.redeem_code(request.code)


def test_v37_two_requests_never_share_a_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """A drawn code that a live (or tombstoned) request holds is drawn again, so a person's
    code can only ever lead to their own request; endless collisions are a retryable 503."""
    pending = make()
    first = pending.create(AP, AGENT, {}, with_code=True)
    assert first.code is not None
    draws = iter([first.code, "BBBB-CCCC"])
    monkeypatch.setattr("aauth.pending.generate_code", lambda: next(draws))
    second = pending.create(AP, AGENT, {}, with_code=True)
    assert second.code == "BBBB-CCCC"
    assert pending.redeem_code(first.code).id == first.id
    assert pending.redeem_code("BBBB-CCCC").id == second.id
    monkeypatch.setattr("aauth.pending.generate_code", lambda: first.code)
    with pytest.raises(StoreContention) as endless:
        pending.create(AP, AGENT, {}, with_code=True)
    assert (endless.value.code, endless.value.status) == ("temporarily_unavailable", 503)


def test_v38_wrong_codes_for_one_request_end_it_with_invalid_code() -> None:
    pending = make()
    request = pending.create(AP, AGENT, {}, with_code=True)
    assert request.interaction_id is not None
    for _ in range(MAX_CODE_ATTEMPTS):
        with pytest.raises(InvalidCode):
            pending.redeem_code("ZZZZ-ZZZZ", request.interaction_id)
    current = pending.get(request.id)
    assert current is not None
    assert current.state is PendingState.INVALID_CODE
    with pytest.raises(InvalidCode):
        pending.redeem_code(request.code or "", request.interaction_id)


def test_v39_a_code_expires_with_its_request() -> None:
    clock = Clock()
    pending = make(clock)
    request = pending.create(AP, AGENT, {}, with_code=True)
    clock.now += 61
    with pytest.raises(PendingExpired):
        pending.redeem_code(request.code or "")


def test_unknown_code() -> None:
    with pytest.raises(InvalidCode):
        make().redeem_code("ABCD-EFGH")


def test_long_poll_wakes_on_change() -> None:
    pending = PendingRequests(SQLiteStore(), recheck_interval=5.0)
    request = pending.create(AP, AGENT, {})

    async def scenario() -> PendingState:
        async def decide() -> None:
            await asyncio.sleep(0.01)
            pending.update(request.id, lambda r: replace(r, state=PendingState.COMPLETED))

        task = asyncio.create_task(decide())
        changed = await pending.wait_for_change(request, timeout=5.0)
        await task
        return changed.state

    assert asyncio.run(scenario()) is PendingState.COMPLETED


def test_long_poll_times_out_unchanged() -> None:
    pending = PendingRequests(SQLiteStore(), recheck_interval=0.01)
    request = pending.create(AP, AGENT, {})
    result = asyncio.run(pending.wait_for_change(request, timeout=0.03))
    assert result.state is PendingState.PENDING


def test_v33_terminal_outcomes_are_reported_once() -> None:
    pending = make()
    done = pending.create(AP, AGENT, {})
    pending.update(done.id, lambda r: replace(r, state=PendingState.COMPLETED, result={"t": 1}))
    reported = pending.report(done.id)
    assert reported is not None
    assert reported.state is PendingState.COMPLETED
    assert reported.result == {"t": 1}
    assert pending.report(done.id) is None
    after = pending.get(done.id)
    assert after is not None
    assert after.state is PendingState.DELIVERED
    assert after.reported
    waiting = pending.create(AP, AGENT, {})
    assert pending.report(waiting.id) is None  # not terminal: nothing to report
    assert pending.report("unknown") is None


def test_expiry_is_reported_once_and_kept() -> None:
    clock = Clock()
    pending = make(clock)
    request = pending.create(AP, AGENT, {}, with_code=True)
    clock.now += 61
    reported = pending.report(request.id)
    assert reported is not None
    assert reported.state is PendingState.EXPIRED
    stored = pending.get(request.id)
    assert stored is not None
    assert stored.state is PendingState.EXPIRED
    assert request.code is not None
    with pytest.raises(PendingExpired):
        pending.redeem_code(request.code)


def test_interacting_then_end_once() -> None:
    """A person reaching the page makes a pending request ``interacting``; ``end`` puts it in
    a terminal state once and leaves an ended one alone (a late callback changes nothing, and
    learns the state that stands)."""
    pending = make()
    request = pending.create("https://ap.example", "aauth:a@ap.example", {}, with_code=True)
    pending.interacting(request.id)
    assert (current := pending.get(request.id)) is not None
    assert current.state is PendingState.INTERACTING
    assert pending.end(request.id, PendingState.DENIED) is PendingState.DENIED
    assert pending.end(request.id, PendingState.FAILED) is PendingState.DENIED  # the first
    pending.interacting(request.id)
    assert (ended := pending.get(request.id)) is not None
    assert ended.state is PendingState.DENIED
