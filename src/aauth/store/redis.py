"""The shared store: Redis, for several instances of one participant.

Each record is a Redis hash (``value``, ``version``, ``expires_at``) under
``<prefix><namespace>:<key>`` (a ``:`` or ``%`` in the namespace percent-escaped, so no two
namespaces share a key); the protocol's expiry becomes the key's own expiry (``PEXPIREAT``),
so nothing outlives its purpose and :meth:`purge_expired` has nothing to do.
``create`` and ``replace`` are Lua scripts: the check and the write are one atomic step on
the server, which is what lets two instances race on one pending request and still deliver
its token exactly once.

The :class:`~aauth.store.base.Store` protocol is synchronous (participants call it inline,
as they do SQLite), so records go through the ``redis`` package's blocking client with short
socket timeouts. Wake-ups for long polls travel over pub/sub on the ``redis`` asyncio client
(:class:`RedisSignal`), inside the event loop that waits. A Redis that cannot be reached
raises :class:`~aauth.store.base.StoreUnavailable` (503 with ``Retry-After``), never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis
import redis.asyncio
from redis.exceptions import RedisError

from .base import Record, StoreUnavailable
from .signal import LocalSignal

__all__ = ["RedisSignal", "RedisStore"]

_log = logging.getLogger("aauth.store")

# KEYS[1] record; ARGV: value, expires_at ("" = none), expires_ms ("" = none), now.
# A record still in Redis but past its own expires_at (clocks differ) counts as absent.
_CREATE = """
local old = redis.call('HMGET', KEYS[1], 'version', 'expires_at')
local version = 1
if old[1] then
  if not old[2] or old[2] == '' or tonumber(old[2]) > tonumber(ARGV[4]) then return 0 end
  version = tonumber(old[1]) + 1
end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'version', version, 'expires_at', ARGV[2])
if ARGV[3] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[3])
else redis.call('PERSIST', KEYS[1]) end
return 1
"""

# KEYS[1] record; ARGV: value, expected version, expires_at, expires_ms
_REPLACE = """
local version = redis.call('HGET', KEYS[1], 'version')
if not version or tonumber(version) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'version', tonumber(version) + 1,
           'expires_at', ARGV[3])
if ARGV[4] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[4])
else redis.call('PERSIST', KEYS[1]) end
return 1
"""

_TIMEOUT = 2.0
"""Seconds a single Redis call may take before the request gets a 503 instead of hanging."""


def _unavailable(exc: RedisError) -> StoreUnavailable:
    return StoreUnavailable(f"the shared store (Redis) is unavailable: {type(exc).__name__}")


class RedisStore:
    """A :class:`~aauth.store.base.Store` in Redis, shared by every instance that names the
    same server and database.

    >>> store = RedisStore.from_url("redis://127.0.0.1:6379/0")  # doctest: +SKIP
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        url: str,
        prefix: str = "aauth:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._create = client.register_script(_CREATE)
        self._replace = client.register_script(_REPLACE)
        self.signal = RedisSignal(url, channel=f"{prefix}wake")

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "aauth:",
        check: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> RedisStore:
        """Connect to ``redis://host:port/db``; with ``check``, fail now (StoreUnavailable)
        rather than on the first request when the server cannot be reached."""
        client = redis.Redis.from_url(
            url, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT, decode_responses=True
        )
        store = cls(client, url=url, prefix=prefix, clock=clock)
        if check:
            try:
                client.ping()
            except RedisError as exc:
                client.close()
                raise StoreUnavailable(f"cannot reach Redis at {url}: {exc}") from None
        return store

    def _key(self, namespace: str, key: str) -> str:
        # The first ':' after the prefix ends the namespace, so a ':' (and the '%' of its
        # escape) inside one is escaped: ("limit", "code:x") and ("limit:code", "x") are two
        # records, as in SQLite. Namespaces without either keep their plain keys.
        if ":" in namespace or "%" in namespace:
            namespace = namespace.replace("%", "%25").replace(":", "%3A")
        return f"{self._prefix}{namespace}:{key}"

    @staticmethod
    def _expiry(expires_at: float | None) -> tuple[str, str]:
        if expires_at is None:
            return "", ""
        # Rounded up: Redis must not drop a record (a replay entry) before its expiry.
        return repr(expires_at), str(math.ceil(expires_at * 1000))

    def get(self, namespace: str, key: str) -> Record | None:
        try:
            row = self._client.hmget(self._key(namespace, key), "value", "version", "expires_at")
        except RedisError as exc:
            raise _unavailable(exc) from None
        if row[0] is None:
            return None
        expires_at = float(row[2]) if row[2] else None
        if expires_at is not None and expires_at <= self._clock():
            return None
        value: dict[str, Any] = json.loads(row[0])
        return Record(value, int(str(row[1])), expires_at)

    def create(
        self, namespace: str, key: str, value: dict[str, Any], expires_at: float | None
    ) -> bool:
        if expires_at is not None and expires_at <= self._clock():
            # Already expired: a record that reads as absent; nothing worth writing.
            return True
        data = json.dumps(value, separators=(",", ":"))
        try:
            created = self._create(
                keys=[self._key(namespace, key)],
                args=[data, *self._expiry(expires_at), repr(self._clock())],
            )
            return bool(created)
        except RedisError as exc:
            raise _unavailable(exc) from None

    def replace(
        self,
        namespace: str,
        key: str,
        value: dict[str, Any],
        expected_version: int,
        expires_at: float | None,
    ) -> bool:
        data = json.dumps(value, separators=(",", ":"))
        stamp, millis = self._expiry(expires_at)
        try:
            return bool(
                self._replace(
                    keys=[self._key(namespace, key)], args=[data, expected_version, stamp, millis]
                )
            )
        except RedisError as exc:
            raise _unavailable(exc) from None

    def delete(self, namespace: str, key: str) -> None:
        try:
            self._client.delete(self._key(namespace, key))
        except RedisError as exc:
            raise _unavailable(exc) from None

    def purge_expired(self) -> int:
        """Redis expires keys itself; nothing to do."""
        return 0

    def close(self) -> None:
        self.signal.close()
        self._client.close()


class RedisSignal(LocalSignal):
    """Wake-ups that cross instances: :meth:`publish` sends the topic on one Redis channel,
    and each process's listener (one pub/sub connection per event loop, started with the
    first waiter) sets the local events of that topic. When the listener loses Redis it wakes
    every local waiter, so each re-reads the store instead of sleeping through a change."""

    crosses_processes = True

    def __init__(self, url: str, *, channel: str) -> None:
        super().__init__()
        self._url = url
        self._channel = channel
        self._publisher: redis.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    def publish(self, topic: str) -> None:
        super().publish(topic)
        try:
            if self._publisher is None:
                self._publisher = redis.Redis.from_url(
                    self._url, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT
                )
            self._publisher.publish(self._channel, topic)
        except RedisError as exc:
            # The write itself succeeded; other instances see it at their waiters' deadline.
            _log.warning("could not publish a wake-up on Redis: %s", exc)

    def close(self) -> None:
        if self._listener is not None and not self._listener.done():
            loop = self._listener.get_loop()
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._listener.cancel)
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None

    @contextlib.asynccontextmanager
    async def subscription(self, topic: str) -> AsyncIterator[asyncio.Event]:
        await self._ensure_listener()
        async with super().subscription(topic) as event:
            yield event

    async def _ensure_listener(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._listener
        if task is None or task.done() or task.get_loop() is not loop:
            self._ready = asyncio.Event()
            self._listener = loop.create_task(self._listen(self._ready))
        assert self._ready is not None
        # Subscribed before the caller reads the store, so no change can fall in between.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), _TIMEOUT)

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            client = redis.asyncio.Redis.from_url(
                self._url, socket_connect_timeout=_TIMEOUT, decode_responses=True
            )
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            LocalSignal.publish(self, str(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                _log.warning("Redis wake-up listener lost its connection: %s", exc)
                ready.set()
                self.wake_all()
                await asyncio.sleep(0.5)
            finally:
                await client.aclose()
