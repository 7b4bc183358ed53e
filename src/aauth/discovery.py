"""Metadata and JWKS discovery: the :class:`~aauth.keysource.KeySource` that does I/O.

``get_key(issuer, dwk, kid)`` fetches ``{issuer}/.well-known/{dwk}``, checks its ``issuer``
(V-21, V-22), fetches its ``jwks_uri`` and selects ``kid`` (V-24). Every fetch passes egress
admission (V-20). Documents are cached per ``Cache-Control`` (clamped to [min_ttl, max_ttl])
in a bounded LRU (V-25); concurrent fetches of one document share a single request; a JWKS is
refetched on an unknown ``kid`` at most once per ``min_ttl`` (V-23); failures back off.

The lookup is written once as generators that yield the documents they need; thin sync and
async drivers fetch them, so both colours share the cache and the rules.

    discovery = Discovery(EgressPolicy())
    key, jwk = discovery.get_key("https://ap.example", "aauth-agent.json", "ap-1")
"""

from __future__ import annotations

import asyncio
import copy
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from aauth_signing import (
    InvalidKey,
    Jwks,
    JwksUri,
    ResolvedKey,
    SignatureError,
    SignatureKeyMember,
    UnknownKey,
    UnsupportedScheme,
    VerifyingKey,
    check_discovery_document,
    jwk_thumbprint,
    select_jwk,
)

from .egress import AsyncEgressClient, EgressClient, EgressPolicy, FetchError
from .errors import AAuthError
from .fetch_cache import (
    CacheEntry,
    Document,
    Failure,
    Fetch,
    FetchFlow,
    Flight,
    fresh_error,
    max_age,
    settle,
    unwrap,
)
from .identifiers import is_server_identifier
from .metadata import DOCUMENT_TYPES, MetadataDocument, check_issuer, well_known_url

__all__ = ["AsyncDiscoveryResolver", "Discovery", "DiscoveryResolver"]

T = TypeVar("T")
D = TypeVar("D", bound=MetadataDocument)

_DWK = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
_SCHEMES = ("jwks_uri", "jwks")
_Key = tuple[VerifyingKey, Mapping[str, Any]]


def _check_jwks(document: Document) -> None:
    if not isinstance(document.get("keys"), list):
        raise InvalidKey("JWKS has no 'keys' array")


def _origin(url: str) -> tuple[str, bytes, int | None]:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidKey("jwks_uri is not a valid URL") from exc
    return parsed.scheme, parsed.raw_host, parsed.port


class Discovery:
    """Cached, single-flight metadata and JWKS discovery under an :class:`EgressPolicy`.

    Times are seconds on ``clock`` (monotonic by default). ``min_ttl`` is both the shortest
    cache life and the JWKS refresh floor; ``no-store``/``no-cache``/no ``max-age`` cache for
    ``min_ttl``. A failed fetch is remembered and re-raised without refetching for
    ``backoff_initial`` seconds, doubling per consecutive failure up to ``backoff_max``; a
    failed refresh keeps a still-fresh document. ``transport``/``async_transport`` replace the
    network beneath egress pinning (tests use httpx.MockTransport); Discovery closes them.
    Async use needs asyncio; each event loop gets its own client.
    """

    def __init__(
        self,
        policy: EgressPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 1024,
        min_ttl: float = 60.0,
        max_ttl: float = 86400.0,
        backoff_initial: float = 60.0,
        backoff_max: float = 900.0,
        allow_cross_origin_jwks: bool = False,
        legacy_paths: bool = False,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_entries < 1 or not 0 < min_ttl <= max_ttl or not 0 < backoff_initial <= backoff_max:
            raise ValueError("need max_entries >= 1, 0 < min_ttl <= max_ttl, 0 < backoff")
        self.policy = policy if policy is not None else EgressPolicy()
        self._clock = clock
        self._max_entries = max_entries
        self._min_ttl = min_ttl
        self._max_ttl = max_ttl
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._allow_cross_origin_jwks = allow_cross_origin_jwks
        self._legacy_paths = legacy_paths
        self._transport = transport
        self._async_transport = async_transport
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], CacheEntry] = OrderedDict()
        self._flights: dict[tuple[str, str], Flight] = {}
        self._async_flights: dict[
            tuple[asyncio.AbstractEventLoop, tuple[str, str]], asyncio.Future[CacheEntry | None]
        ] = {}
        self._client: EgressClient | None = None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncEgressClient
        ] = weakref.WeakKeyDictionary()

    # -- the flows: what to fetch, written once ------------------------------------------

    def _metadata_fetch(self, identifier: str, dwk: str) -> Fetch:
        loopback = self._loopback
        if not is_server_identifier(identifier, allow_loopback_http=loopback):
            raise InvalidKey(f"{identifier[:100]!r} is not a server identifier")
        if _DWK.fullmatch(dwk) is None:
            raise InvalidKey(f"{dwk[:100]!r} is not a well-known document name")
        url = well_known_url(identifier, dwk)
        urls: tuple[str, ...] = (url,)
        if self._legacy_paths and dwk.endswith(".json"):
            urls += (well_known_url(identifier, dwk.removesuffix(".json")),)
        kind = DOCUMENT_TYPES.get(dwk)

        def check(document: Document) -> None:
            if kind is None:
                check_issuer(document, identifier, allow_loopback_http=loopback)
            else:
                kind.from_json(document, identifier, allow_loopback_http=loopback)

        return Fetch(("metadata", url), urls, check)

    def _metadata_flow(self, identifier: str, dwk: str) -> FetchFlow[Document]:
        return (yield self._metadata_fetch(identifier, dwk))

    def _jwks_flow(self, url: str) -> FetchFlow[Document]:
        return (yield Fetch(("jwks", url), (url,), _check_jwks))

    def _jwks_key_flow(self, url: str, kid: str) -> FetchFlow[_Key]:
        """Key ``kid`` of the JWKS at ``url``, refetching once (floor permitting) if absent."""
        try:
            return select_jwk((yield from self._jwks_flow(url)), kid)
        except UnknownKey:
            pass
        refreshed = yield Fetch(("jwks", url), (url,), _check_jwks, refresh=True)
        return select_jwk(refreshed, kid)

    def _key_flow(self, issuer: str, dwk: str, kid: str) -> FetchFlow[_Key]:
        metadata = yield from self._metadata_flow(issuer, dwk)
        jwks_uri = check_discovery_document(metadata, issuer)
        if not self._allow_cross_origin_jwks and _origin(jwks_uri) != _origin(issuer):
            raise InvalidKey(f"jwks_uri of {issuer} is on another origin")
        return (yield from self._jwks_key_flow(jwks_uri, kid))

    def _member_flow(self, member: SignatureKeyMember) -> FetchFlow[ResolvedKey]:
        if isinstance(member, JwksUri):
            key, jwk = yield from self._key_flow(member.id, member.dwk, member.kid)
            signer = member.id
        elif isinstance(member, Jwks):
            key, jwk = yield from self._jwks_key_flow(member.url, member.kid)
            signer = member.url
        else:
            name = getattr(member, "name", member.scheme)
            raise UnsupportedScheme(f"discovery cannot resolve scheme {name!r}", _SCHEMES)
        return ResolvedKey(key, member, jwk, jwk_thumbprint(jwk), signer)

    # -- public API ------------------------------------------------------------------------

    def get_metadata(self, identifier: str, dwk: str) -> dict[str, Any]:
        """The checked document at ``{identifier}/.well-known/{dwk}`` (a copy)."""
        return copy.deepcopy(self._run(self._metadata_flow(identifier, dwk)))

    async def aget_metadata(self, identifier: str, dwk: str) -> dict[str, Any]:
        return copy.deepcopy(await self._arun(self._metadata_flow(identifier, dwk)))

    def get_document(self, identifier: str, kind: type[D]) -> D:
        """The typed metadata document, e.g. ``get_document(ps, PersonServerMetadata)``."""
        document = self._run(self._metadata_flow(identifier, kind.dwk))
        return kind.from_json(document, identifier, allow_loopback_http=self._loopback)

    async def aget_document(self, identifier: str, kind: type[D]) -> D:
        document = await self._arun(self._metadata_flow(identifier, kind.dwk))
        return kind.from_json(document, identifier, allow_loopback_http=self._loopback)

    def get_jwks(self, url: str) -> dict[str, Any]:
        """The JWKS at ``url`` (a copy); ``url`` is used exactly as given."""
        return copy.deepcopy(self._run(self._jwks_flow(url)))

    async def aget_jwks(self, url: str) -> dict[str, Any]:
        return copy.deepcopy(await self._arun(self._jwks_flow(url)))

    def get_key(self, issuer: str, dwk: str, kid: str) -> tuple[VerifyingKey, Mapping[str, Any]]:
        """:class:`~aauth.keysource.KeySource`: the key ``kid`` the issuer publishes.

        Raises IssuerMissing, IssuerMismatch, InvalidKey, UnknownKey (signature errors) and
        EgressDenied, FetchError, MetadataError (AAuthError).
        """
        return self._run(self._key_flow(issuer, dwk, kid))

    async def aget_key(
        self, issuer: str, dwk: str, kid: str
    ) -> tuple[VerifyingKey, Mapping[str, Any]]:
        return await self._arun(self._key_flow(issuer, dwk, kid))

    def resolver(self) -> DiscoveryResolver:
        """An aauth_signing KeyResolver for the ``jwks_uri`` and ``jwks`` schemes."""
        return DiscoveryResolver(self)

    def async_resolver(self) -> AsyncDiscoveryResolver:
        """An aauth_signing AsyncKeyResolver for the ``jwks_uri`` and ``jwks`` schemes."""
        return AsyncDiscoveryResolver(self)

    @property
    def _loopback(self) -> bool:
        return self.policy.allow_loopback_http

    # -- cache ----------------------------------------------------------------------------

    def _lookup(self, fetch: Fetch) -> CacheEntry | None:
        """The cached entry that answers ``fetch``, if any; call with the lock held."""
        entry = self._entries.get(fetch.key)
        now = self._clock()
        if entry is None or now >= entry.expires_at:
            return None
        if fetch.refresh and entry.error is None and now - entry.attempted_at >= self._min_ttl:
            return None
        self._entries.move_to_end(fetch.key)
        return entry

    def _store(self, key: tuple[str, str], outcome: CacheEntry) -> CacheEntry:
        """Record a fetch outcome; call with the lock held. Returns what callers now see."""
        now = self._clock()
        previous = self._entries.get(key)
        if outcome.error is None:
            entry = outcome
        elif previous is not None and previous.value is not None and now < previous.expires_at:
            previous.attempted_at = now
            entry = previous
        else:
            failures = previous.failures + 1 if previous is not None else 1
            delay = min(self._backoff_initial * 2 ** (failures - 1), self._backoff_max)
            entry = CacheEntry(now, now + delay, error=outcome.error, failures=failures)
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return entry

    def _success(self, document: Document, headers: httpx.Headers) -> CacheEntry:
        ttl = min(max(max_age(headers) or 0, self._min_ttl), self._max_ttl)
        now = self._clock()
        return CacheEntry(now, now + ttl, value=document)

    def _failure(self, error: Failure) -> CacheEntry:
        now = self._clock()
        return CacheEntry(now, now, error=fresh_error(error))

    # -- sync driver ----------------------------------------------------------------------

    def _run(self, flow: FetchFlow[T]) -> T:
        try:
            step = next(flow)
            while True:
                step = flow.send(self._get(step))
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            flow.close()

    def _get(self, fetch: Fetch) -> Document:
        while True:
            with self._lock:
                entry = self._lookup(fetch)
                flight = self._flights.get(fetch.key)
                leader = entry is None and flight is None
                if leader:
                    flight = self._flights[fetch.key] = Flight()
            if entry is not None:
                return unwrap(entry)
            assert flight is not None
            if leader:
                return self._lead(fetch, flight)
            flight.done.wait()
            if flight.outcome is not None:
                return unwrap(flight.outcome)

    def _lead(self, fetch: Fetch, flight: Flight) -> Document:
        failure: Failure | None = None
        outcome: CacheEntry | None = None
        try:
            try:
                outcome = self._success(*self._fetch(fetch))
            except (AAuthError, SignatureError) as exc:
                failure, outcome = exc, self._failure(exc)
        finally:
            with self._lock:
                del self._flights[fetch.key]
                if outcome is not None:
                    flight.outcome = self._store(fetch.key, outcome)
            flight.done.set()
        return settle(flight.outcome, failure)

    def _fetch(self, fetch: Fetch) -> tuple[Document, httpx.Headers]:
        with self._lock:
            if self._client is None:
                self._client = EgressClient(self.policy, transport=self._transport)
            client = self._client
        for url in fetch.urls[:-1]:
            try:
                return self._checked(fetch, client.fetch_json(url))
            except FetchError as exc:
                if exc.upstream_status != 404:
                    raise
        return self._checked(fetch, client.fetch_json(fetch.urls[-1]))

    @staticmethod
    def _checked(
        fetch: Fetch, result: tuple[Document, httpx.Headers]
    ) -> tuple[Document, httpx.Headers]:
        fetch.check(result[0])
        return result

    def close(self) -> None:
        """Close the synchronous client (and with it an injected ``transport``)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> Discovery:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- async driver ---------------------------------------------------------------------

    async def _arun(self, flow: FetchFlow[T]) -> T:
        try:
            step = next(flow)
            while True:
                step = flow.send(await self._aget(step))
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            flow.close()

    async def _aget(self, fetch: Fetch) -> Document:
        loop = asyncio.get_running_loop()
        flight_key = (loop, fetch.key)
        while True:
            with self._lock:
                entry = self._lookup(fetch)
                flight = self._async_flights.get(flight_key)
                leader = entry is None and flight is None
                if leader:
                    flight = self._async_flights[flight_key] = loop.create_future()
            if entry is not None:
                return unwrap(entry)
            assert flight is not None
            if leader:
                return await self._alead(fetch, flight_key, flight)
            outcome = await asyncio.shield(flight)
            if outcome is not None:
                return unwrap(outcome)

    async def _alead(
        self,
        fetch: Fetch,
        flight_key: tuple[asyncio.AbstractEventLoop, tuple[str, str]],
        flight: asyncio.Future[CacheEntry | None],
    ) -> Document:
        failure: Failure | None = None
        outcome: CacheEntry | None = None
        stored: CacheEntry | None = None
        try:
            try:
                outcome = self._success(*await self._afetch(fetch))
            except (AAuthError, SignatureError) as exc:
                failure, outcome = exc, self._failure(exc)
        finally:
            with self._lock:
                del self._async_flights[flight_key]
                if outcome is not None:
                    stored = self._store(fetch.key, outcome)
            flight.set_result(stored)
        return settle(stored, failure)

    async def _afetch(self, fetch: Fetch) -> tuple[Document, httpx.Headers]:
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.get(loop)
            if client is None:
                client = AsyncEgressClient(self.policy, transport=self._async_transport)
                self._async_clients[loop] = client
        for url in fetch.urls[:-1]:
            try:
                return self._checked(fetch, await client.fetch_json(url))
            except FetchError as exc:
                if exc.upstream_status != 404:
                    raise
        return self._checked(fetch, await client.fetch_json(fetch.urls[-1]))

    async def aclose(self) -> None:
        """Close this event loop's client (and with it an injected ``async_transport``)."""
        with self._lock:
            client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> Discovery:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class DiscoveryResolver:
    """aauth_signing ``KeyResolver`` for ``jwks_uri`` (signer = ``id``) and ``jwks`` (signer =
    ``url``, byte-exact); any other scheme raises UnsupportedScheme."""

    def __init__(self, discovery: Discovery) -> None:
        self._discovery = discovery

    def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
        return self._discovery._run(self._discovery._member_flow(member))


class AsyncDiscoveryResolver:
    """aauth_signing ``AsyncKeyResolver``; the twin of :class:`DiscoveryResolver`."""

    def __init__(self, discovery: Discovery) -> None:
        self._discovery = discovery

    async def resolve(self, member: SignatureKeyMember) -> ResolvedKey:
        return await self._discovery._arun(self._discovery._member_flow(member))
