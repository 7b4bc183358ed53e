"""Replay guard (§C.7, §H.1): keys, once-only acceptance, expiry, bounds, threads, async."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from pathlib import Path

import pytest
from aauth_signing import InvalidSignature

from aauth.errors import error_response
from aauth.replay import (
    InMemoryReplayGuard,
    ReplayedSignature,
    ReplayGuard,
    ReplayGuardFull,
    StoreReplayGuard,
    replay_key,
)
from aauth.store import SQLiteStore

JKT = "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"
BASE = hashlib.sha256(b'"@method": POST\n"@signature-params": ("@method");created=1').digest()
PARTS = (JKT, BASE)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_replay_key_is_deterministic_and_fixed_size() -> None:
    assert replay_key(*PARTS) == replay_key(*PARTS)
    assert len(replay_key(*PARTS)) == 43


def test_replay_key_covers_the_key_and_the_signature_base() -> None:
    assert replay_key(JKT + "x", BASE) != replay_key(*PARTS)
    assert replay_key(JKT, b"\x00" + BASE[1:]) != replay_key(*PARTS)


def test_replay_key_wants_a_sha256_digest_not_the_base_itself() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        replay_key(JKT, b'"@method": POST')


def test_a_signature_is_accepted_once_within_its_window() -> None:
    clock = Clock()
    guard = InMemoryReplayGuard(clock=clock)
    key = replay_key(*PARTS)
    guard.check_and_store(key, clock.now + 60)
    with pytest.raises(ReplayedSignature) as info:
        guard.check_and_store(key, clock.now + 60)
    assert isinstance(info.value, InvalidSignature)
    assert info.value.code == "invalid_signature"
    response = error_response(info.value)
    assert response.status == 401
    assert response.headers["Signature-Error"] == "error=invalid_signature"


def test_entries_expire_and_are_purged() -> None:
    clock = Clock()
    guard = InMemoryReplayGuard(clock=clock)
    guard.check_and_store("a", clock.now + 10)
    guard.check_and_store("b", clock.now + 20)
    assert len(guard) == 2
    clock.now += 10
    assert len(guard) == 1
    guard.check_and_store("a", clock.now + 10)  # expired, so no longer a replay
    with pytest.raises(ReplayedSignature):
        guard.check_and_store("b", clock.now + 10)


def test_already_expired_entries_are_not_stored() -> None:
    clock = Clock()
    guard = InMemoryReplayGuard(clock=clock)
    guard.check_and_store("a", clock.now)
    assert len(guard) == 0


def test_full_guard_evicts_the_soonest_expiring_entry() -> None:
    clock = Clock()
    guard = InMemoryReplayGuard(3, clock=clock)
    for key, ttl in (("a", 30), ("b", 10), ("c", 20)):
        guard.check_and_store(key, clock.now + ttl)
    guard.check_and_store("d", clock.now + 40)
    assert len(guard) == 3
    guard.check_and_store("b", clock.now + 40)  # b was evicted; evicts c now
    for key in ("a", "d", "b"):
        with pytest.raises(ReplayedSignature):
            guard.check_and_store(key, clock.now + 40)


def test_full_guard_can_refuse_instead() -> None:
    clock = Clock()
    guard = InMemoryReplayGuard(2, when_full="refuse", clock=clock)
    guard.check_and_store("a", clock.now + 10)
    guard.check_and_store("b", clock.now + 20)
    with pytest.raises(ReplayGuardFull) as info:
        guard.check_and_store("c", clock.now + 20)
    assert info.value.status == 401
    with pytest.raises(ReplayedSignature):
        guard.check_and_store("a", clock.now + 10)
    clock.now += 10
    guard.check_and_store("c", clock.now + 20)


def test_constructor_validates_its_bounds() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        InMemoryReplayGuard(0)
    with pytest.raises(ValueError, match="when_full"):
        InMemoryReplayGuard(when_full="drop")  # type: ignore[arg-type]


def test_concurrent_submissions_of_one_signature_succeed_exactly_once() -> None:
    guard = InMemoryReplayGuard()
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def submit() -> None:
        barrier.wait()
        try:
            guard.check_and_store("same", 10**12)
            outcomes.append("ok")
        except ReplayedSignature:
            outcomes.append("replay")

    threads = [threading.Thread(target=submit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["replay"] * 15


def test_async_twin_shares_the_state() -> None:
    clock = Clock()
    guard: ReplayGuard = InMemoryReplayGuard(clock=clock)

    async def scenario() -> None:
        await guard.acheck_and_store("k", clock.now + 60)
        with pytest.raises(ReplayedSignature):
            await guard.acheck_and_store("k", clock.now + 60)

    asyncio.run(scenario())
    with pytest.raises(ReplayedSignature):
        guard.check_and_store("k", clock.now + 60)


def test_store_guard_survives_a_restart_and_expires(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "replay.db"
    StoreReplayGuard(SQLiteStore(path, clock=clock), clock=clock).check_and_store(
        "k", clock.now + 60
    )
    again = StoreReplayGuard(SQLiteStore(path, clock=clock), clock=clock)
    with pytest.raises(ReplayedSignature):
        again.check_and_store("k", clock.now + 60)
    clock.now += 61
    again.check_and_store("k", clock.now + 60)  # the first entry has expired
    again.check_and_store("old", clock.now - 1)  # already outside any window: not held
    again.check_and_store("old", clock.now - 1)
    asyncio.run(again.acheck_and_store("fresh", clock.now + 60))
    with pytest.raises(ReplayedSignature):
        again.check_and_store("fresh", clock.now + 60)
