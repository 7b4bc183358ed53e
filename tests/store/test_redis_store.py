"""The Redis store keeps the same contract as the SQLite one, against a real redis-server:
create-if-absent, compare-and-set, expiry, a TTL on every record that expires, and a clear
StoreUnavailable (503) when Redis cannot be reached."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis

from aauth.errors import error_response
from aauth.store import StoreUnavailable, open_store
from aauth.store.redis import RedisStore


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def url(redis_server: Any) -> str:
    fresh: str = redis_server.fresh_url()
    return fresh


@pytest.fixture(autouse=True)
def _close_stores(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Close every store and raw client a test opens (unclosed sockets are errors here)."""
    opened: list[Any] = []
    store_from_url, raw_from_url = RedisStore.from_url.__func__, redis.Redis.from_url.__func__

    def store(cls: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(store_from_url(cls, *args, **kwargs))
        return opened[-1]

    def raw(cls: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(raw_from_url(cls, *args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(RedisStore, "from_url", classmethod(store))
    monkeypatch.setattr(redis.Redis, "from_url", classmethod(raw))
    yield
    for item in reversed(opened):
        item.close()


def test_open_store_picks_redis_for_a_redis_url(url: str) -> None:
    store = open_store(url)
    assert isinstance(store, RedisStore)
    assert store.signal.crosses_processes
    store.close()


def test_create_is_insert_if_absent(url: str) -> None:
    store = RedisStore.from_url(url)
    assert store.create("ns", "k", {"a": 1}, None)
    assert not store.create("ns", "k", {"a": 2}, None)
    record = store.get("ns", "k")
    assert record is not None
    assert (record.value, record.version, record.expires_at) == ({"a": 1}, 1, None)


def test_replace_is_compare_and_set(url: str) -> None:
    store = RedisStore.from_url(url)
    store.create("ns", "k", {"a": 1}, None)
    assert store.replace("ns", "k", {"a": 2}, 1, None)
    assert not store.replace("ns", "k", {"a": 3}, 1, None)
    assert not store.replace("ns", "absent", {"a": 3}, 1, None)
    record = store.get("ns", "k")
    assert record is not None
    assert (record.value, record.version) == ({"a": 2}, 2)


def test_expired_records_read_as_absent_and_can_be_recreated(url: str) -> None:
    clock = Clock()
    store = RedisStore.from_url(url, clock=clock)
    store.create("ns", "k", {"a": 1}, clock.now + 60)
    clock.now += 61  # the store's clock passed the expiry; Redis's has not yet
    assert store.get("ns", "k") is None
    assert store.create("ns", "k", {"a": 2}, clock.now + 60)
    record = store.get("ns", "k")
    assert record is not None
    assert (record.value, record.version) == ({"a": 2}, 2)


def test_every_expiring_record_has_a_redis_ttl(url: str) -> None:
    store = RedisStore.from_url(url)
    raw = redis.Redis.from_url(url)
    store.create("ns", "short", {}, time.time() + 30)
    store.create("ns", "kept", {}, None)
    # expiries are rounded up to the next millisecond (never early), so +1 ms at most
    assert 0 < raw.pttl("aauth:ns:short") <= 30_001
    assert raw.pttl("aauth:ns:kept") == -1
    store.replace("ns", "kept", {"x": 1}, 1, time.time() + 10)
    assert 0 < raw.pttl("aauth:ns:kept") <= 10_001
    store.replace("ns", "kept", {"x": 2}, 2, None)
    assert raw.pttl("aauth:ns:kept") == -1  # an expiry removed is removed in Redis too


def test_records_past_their_ttl_are_gone_from_redis(url: str) -> None:
    store = RedisStore.from_url(url)
    store.create("ns", "k", {}, time.time() + 0.05)
    raw = redis.Redis.from_url(url)
    deadline = time.monotonic() + 5
    while raw.exists("aauth:ns:k") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not raw.exists("aauth:ns:k")
    assert store.purge_expired() == 0


def test_delete(url: str) -> None:
    store = RedisStore.from_url(url)
    store.create("ns", "k", {}, None)
    store.delete("ns", "k")
    assert store.get("ns", "k") is None


def test_unreachable_redis_fails_at_startup_with_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match=r"cannot reach Redis at redis://127\.0\.0\.1:1/0"):
        RedisStore.from_url("redis://127.0.0.1:1/0")


def test_redis_lost_mid_request_is_a_503_with_retry_after() -> None:
    store = RedisStore.from_url("redis://127.0.0.1:1/0", check=False)
    with pytest.raises(StoreUnavailable) as caught:
        store.get("ns", "k")
    response = error_response(caught.value)
    assert response.status == 503
    assert response.headers["Retry-After"] == "2"
    assert b'"error": "temporarily_unavailable"' in response.body
    for call in (
        lambda: store.create("ns", "k", {}, None),
        lambda: store.replace("ns", "k", {}, 1, None),
        lambda: store.delete("ns", "k"),
    ):
        with pytest.raises(StoreUnavailable):
            call()


def test_a_publish_on_one_store_wakes_a_waiter_on_another(url: str) -> None:
    """The signal crosses instances: two stores, two pub/sub connections."""
    writer, reader = RedisStore.from_url(url), RedisStore.from_url(url)

    async def scenario() -> bool:
        async with reader.signal.subscription("pending:x") as event:
            await asyncio.to_thread(writer.signal.publish, "pending:x")
            await asyncio.wait_for(event.wait(), 5)
            return event.is_set()

    assert asyncio.run(scenario())


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("limit", "code:client:1"), ("limit:code", "client:1")),  # a separator in the key
        (("a%3Ab", "k"), ("a:b", "k")),  # the escape itself, spelled out
        (("ns", "k\x00"), ("ns", "k")),
    ],
)
def test_namespaces_never_cross_in_redis_keys(
    url: str, first: tuple[str, str], second: tuple[str, str]
) -> None:
    """Every (namespace, key) pair is its own record, as in SQLite, whatever ``:``, ``%`` or
    NUL either holds: one namespace's records can never be read or overwritten via another."""
    store = RedisStore.from_url(url)
    assert store.create(*first, {"which": "first"}, None)
    assert store.create(*second, {"which": "second"}, None)
    for pair, which in ((first, "first"), (second, "second")):
        record = store.get(*pair)
        assert record is not None
        assert record.value == {"which": which}
    store.delete(*second)
    assert store.get(*first) is not None


def test_redis_never_drops_a_record_before_its_expiry(url: str) -> None:
    """The Redis TTL is rounded up to the millisecond, never down: a replay entry lives at
    least as long as the window it guards."""
    store = RedisStore.from_url(url)
    raw = redis.Redis.from_url(url)
    expires_at = int(time.time()) + 30.0004  # 0.4 ms into a millisecond
    store.create("ns", "created", {}, expires_at)
    store.create("ns", "replaced", {}, None)
    store.replace("ns", "replaced", {}, 1, expires_at)
    for key in ("aauth:ns:created", "aauth:ns:replaced"):
        assert raw.execute_command("PEXPIRETIME", key) >= expires_at * 1000
