"""Metadata + JWKS discovery (protocol-10 §B.3, §B.9, §H.3; V-20..V-25)."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import traceback
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aauth_signing import (
    Hwk,
    InvalidKey,
    IssuerMismatch,
    IssuerMissing,
    Jwks,
    JwksUri,
    UnknownKey,
    UnsupportedAlgorithm,
    UnsupportedScheme,
    VerifyingKey,
    b64url_encode,
    jwk_thumbprint,
)
from cryptography.hazmat.primitives.asymmetric import ed25519
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth.discovery import Discovery
from aauth.egress import EgressDenied, EgressPolicy, FetchError, IPAddress
from aauth.keysource import KeySource
from aauth.metadata import MetadataError, PersonServerMetadata
from aauth.server.running import RunningServer

AP = "https://ap.example"
AP_META = f"{AP}/.well-known/aauth-agent.json"
AP_JWKS = f"{AP}/.well-known/jwks.json"
PS = "https://ps.example"
PS_META = f"{PS}/.well-known/aauth-person.json"
PS_JWKS = f"{PS}/jwks"


def make_jwk(kid: str) -> dict[str, str]:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    x = b64url_encode(public.public_bytes_raw())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "Ed25519", "kid": kid}


KEY_1, KEY_2 = make_jwk("ap-1"), make_jwk("ap-2")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class PublicDNS:
    """Every name resolves to one public address, except those listed."""

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        self.overrides = overrides or {}

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(self.overrides.get(host, "93.184.216.34"))]


class Web:
    """A fake internet behind MockTransport: URL → JSON body, with hit counts per URL."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.status: dict[str, int] = {}
        self.hits: Counter[str] = Counter()
        self.gate: threading.Event | None = None
        self.async_gate: asyncio.Event | None = None

    def serve(
        self, url: str, body: Any, *, status: int = 200, cache_control: str | None = None
    ) -> None:
        self.documents[url] = body
        self.status[url] = status
        self.headers[url] = {} if cache_control is None else {"cache-control": cache_control}

    def _respond(self, request: httpx.Request) -> httpx.Response:
        url = f"https://{request.headers['host']}{request.url.raw_path.decode()}"
        self.hits[url] += 1
        if url not in self.documents:
            return httpx.Response(404, json={"error": "not_found"})
        return httpx.Response(self.status[url], json=self.documents[url], headers=self.headers[url])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.gate is not None:
            self.gate.wait(5)
        return self._respond(request)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.async_gate is not None:
            await asyncio.wait_for(self.async_gate.wait(), 5)
        return self._respond(request)


@pytest.fixture
def web() -> Web:
    site = Web()
    site.serve(AP_META, {"issuer": AP, "jwks_uri": AP_JWKS}, cache_control="max-age=3600")
    site.serve(AP_JWKS, {"keys": [KEY_1]}, cache_control="max-age=3600")
    site.serve(
        PS_META,
        {"issuer": PS, "jwks_uri": PS_JWKS, "token_endpoint": f"{PS}/token"},
    )
    site.serve(PS_JWKS, {"keys": [KEY_2]})
    return site


@pytest.fixture
def clock() -> Clock:
    return Clock()


def discovery_for(web: Web, clock: Clock, **options: Any) -> Discovery:
    dns = options.pop("dns", PublicDNS())
    return Discovery(
        EgressPolicy(resolver=dns),
        clock=clock,
        transport=httpx.MockTransport(web),
        async_transport=httpx.MockTransport(web.handle),
        **options,
    )


@pytest.fixture
def discovery(web: Web, clock: Clock) -> Iterator[Discovery]:
    with discovery_for(web, clock) as d:
        yield d


def test_get_key_resolves_through_metadata_and_jwks(discovery: Discovery, web: Web) -> None:
    key, jwk = discovery.get_key(AP, "aauth-agent.json", "ap-1")
    assert isinstance(key, VerifyingKey)
    assert jwk == KEY_1
    assert web.hits == {AP_META: 1, AP_JWKS: 1}
    source: KeySource = discovery
    assert source.get_key(AP, "aauth-agent.json", "ap-1")[1] == KEY_1
    assert web.hits == {AP_META: 1, AP_JWKS: 1}


def test_async_get_key(web: Web, clock: Clock) -> None:
    async def scenario() -> None:
        async with discovery_for(web, clock) as discovery:
            key, jwk = await discovery.aget_key(PS, "aauth-person.json", "ap-2")
            assert isinstance(key, VerifyingKey)
            assert jwk == KEY_2
            await discovery.aget_key(PS, "aauth-person.json", "ap-2")

    asyncio.run(scenario())
    assert web.hits == {PS_META: 1, PS_JWKS: 1}


def test_metadata_typed_and_copied(discovery: Discovery, web: Web) -> None:
    doc = discovery.get_document(PS, PersonServerMetadata)
    assert doc.token_endpoint == f"{PS}/token"
    raw = discovery.get_metadata(PS, "aauth-person.json")
    raw["issuer"] = "https://evil.example"
    assert discovery.get_metadata(PS, "aauth-person.json")["issuer"] == PS
    assert web.hits[PS_META] == 1
    assert asyncio.run(discovery.aget_document(PS, PersonServerMetadata)) == doc


def test_v21_issuer_missing(discovery: Discovery, web: Web) -> None:
    """V-21: a metadata document without issuer fails with issuer_missing."""
    web.serve(AP_META, {"jwks_uri": AP_JWKS})
    with pytest.raises(IssuerMissing):
        discovery.get_key(AP, "aauth-agent.json", "ap-1")
    assert web.hits[AP_JWKS] == 0


def test_v22_issuer_mismatch(discovery: Discovery, web: Web) -> None:
    """V-22: the issuer must equal the identifier the URL was built from, byte for byte."""
    web.serve(AP_META, {"issuer": f"{AP}/", "jwks_uri": AP_JWKS})
    with pytest.raises(IssuerMismatch):
        discovery.get_key(AP, "aauth-agent.json", "ap-1")
    web.serve(PS_META, {"issuer": AP, "jwks_uri": AP_JWKS, "token_endpoint": f"{PS}/t"})
    with pytest.raises(IssuerMismatch):
        asyncio.run(discovery.aget_metadata(PS, "aauth-person.json"))


def test_unknown_dwk_gets_the_issuer_checks_only(discovery: Discovery, web: Web) -> None:
    web.serve(f"{AP}/.well-known/custom.json", {"issuer": AP, "jwks_uri": AP_JWKS, "x": 1})
    assert discovery.get_key(AP, "custom.json", "ap-1")[1] == KEY_1
    web.serve(f"{AP}/.well-known/other.json", {"jwks_uri": AP_JWKS})
    with pytest.raises(IssuerMissing):
        discovery.get_metadata(AP, "other.json")


def test_known_dwk_is_checked_in_full(discovery: Discovery, web: Web) -> None:
    web.serve(PS_META, {"issuer": PS, "jwks_uri": PS_JWKS})
    with pytest.raises(MetadataError, match="token_endpoint"):
        discovery.get_key(PS, "aauth-person.json", "ap-2")


@pytest.mark.parametrize(
    ("issuer", "dwk"),
    [
        ("http://ap.example", "aauth-agent.json"),
        ("https://ap.example/", "aauth-agent.json"),
        ("https://ap.example", "../secret"),
        ("https://ap.example", "a/b.json"),
        ("https://ap.example", ""),
    ],
)
def test_bad_identifier_or_dwk_refused_before_fetching(
    discovery: Discovery, web: Web, issuer: str, dwk: str
) -> None:
    with pytest.raises(InvalidKey):
        discovery.get_key(issuer, dwk, "ap-1")
    assert not web.hits


def test_v20_egress_denial_precedes_fetch(web: Web, clock: Clock) -> None:
    """V-20: an issuer whose name resolves to a private address is never contacted."""
    dns = PublicDNS({"ap.example": "10.0.0.1"})
    with discovery_for(web, clock, dns=dns) as discovery, pytest.raises(EgressDenied):
        discovery.get_key(AP, "aauth-agent.json", "ap-1")
    assert not web.hits


def test_v20_egress_applies_to_jwks_uri_too(web: Web, clock: Clock) -> None:
    """V-20: the jwks_uri fetch passes admission as well (here: cross-origin allowed)."""
    web.serve(AP_META, {"issuer": AP, "jwks_uri": "https://keys.example/jwks"})
    dns = PublicDNS({"keys.example": "169.254.169.254"})
    with (
        discovery_for(web, clock, dns=dns, allow_cross_origin_jwks=True) as discovery,
        pytest.raises(EgressDenied),
    ):
        discovery.get_key(AP, "aauth-agent.json", "ap-1")
    assert web.hits == {AP_META: 1}


def test_cross_origin_jwks_uri_needs_opt_in(web: Web, clock: Clock) -> None:
    other = "https://keys.example/jwks"
    web.serve(AP_META, {"issuer": AP, "jwks_uri": other})
    web.serve(other, {"keys": [KEY_1]})
    with discovery_for(web, clock) as discovery, pytest.raises(InvalidKey, match="origin"):
        discovery.get_key(AP, "aauth-agent.json", "ap-1")
    assert web.hits[other] == 0
    with discovery_for(web, clock, allow_cross_origin_jwks=True) as discovery:
        assert discovery.get_key(AP, "aauth-agent.json", "ap-1")[1] == KEY_1
    web.serve(AP_META, {"issuer": AP, "jwks_uri": "https://ap.example:8443/jwks"})
    with discovery_for(web, clock) as discovery, pytest.raises(InvalidKey, match="origin"):
        discovery.get_key(AP, "aauth-agent.json", "ap-1")


def test_v23_cache_honours_max_age(discovery: Discovery, web: Web, clock: Clock) -> None:
    """V-23: documents are cached for their max-age."""
    web.serve(AP_JWKS, {"keys": [KEY_1]}, cache_control="public, max-age=300")
    discovery.get_jwks(AP_JWKS)
    clock.advance(299)
    discovery.get_jwks(AP_JWKS)
    assert web.hits[AP_JWKS] == 1
    clock.advance(1)
    discovery.get_jwks(AP_JWKS)
    assert web.hits[AP_JWKS] == 2


@pytest.mark.parametrize(
    ("cache_control", "lifetime"),
    [
        (None, 60),
        ("no-store", 60),
        ("no-cache, max-age=600", 60),
        ("max-age=5", 60),
        ("max-age=0", 60),
        ("max-age=junk", 60),
        ("max-age=999999999", 86400),
    ],
)
def test_v23_max_age_clamped(
    discovery: Discovery, web: Web, clock: Clock, cache_control: str | None, lifetime: int
) -> None:
    """V-23: never refetched within a minute; never kept beyond 24 h."""
    web.serve(AP_JWKS, {"keys": [KEY_1]}, cache_control=cache_control)
    discovery.get_jwks(AP_JWKS)
    clock.advance(lifetime - 1)
    discovery.get_jwks(AP_JWKS)
    assert web.hits[AP_JWKS] == 1
    clock.advance(1)
    discovery.get_jwks(AP_JWKS)
    assert web.hits[AP_JWKS] == 2


def test_v23_unknown_kid_refreshes_at_most_once_per_minute(
    discovery: Discovery, web: Web, clock: Clock
) -> None:
    """V-23: an unknown kid within a minute of the last fetch does not refetch."""
    discovery.get_key(AP, "aauth-agent.json", "ap-1")
    for _ in range(5):
        with pytest.raises(UnknownKey):
            discovery.get_key(AP, "aauth-agent.json", "nope")
    assert web.hits[AP_JWKS] == 1
    clock.advance(60)
    for _ in range(5):
        with pytest.raises(UnknownKey):
            discovery.get_key(AP, "aauth-agent.json", "nope")
    assert web.hits[AP_JWKS] == 2
    assert web.hits[AP_META] == 1


def test_v23_unknown_kid_refresh_finds_a_rotated_key(
    discovery: Discovery, web: Web, clock: Clock
) -> None:
    """Refresh once on an unknown kid, then UnknownKey if it is still absent (V-23, V-24)."""
    discovery.get_key(AP, "aauth-agent.json", "ap-1")
    web.serve(AP_JWKS, {"keys": [KEY_1, KEY_2]}, cache_control="max-age=3600")
    clock.advance(61)
    assert discovery.get_key(AP, "aauth-agent.json", "ap-2")[1] == KEY_2
    assert web.hits[AP_JWKS] == 2
    assert asyncio.run(discovery.aget_key(AP, "aauth-agent.json", "ap-2"))[1] == KEY_2
    assert web.hits[AP_JWKS] == 2


def test_v23_async_unknown_kid_refresh(web: Web, clock: Clock) -> None:
    async def scenario() -> None:
        async with discovery_for(web, clock) as discovery:
            await discovery.aget_key(AP, "aauth-agent.json", "ap-1")
            with pytest.raises(UnknownKey):
                await discovery.aget_key(AP, "aauth-agent.json", "ap-2")
            web.serve(AP_JWKS, {"keys": [KEY_2]})
            clock.advance(60)
            assert (await discovery.aget_key(AP, "aauth-agent.json", "ap-2"))[1] == KEY_2

    asyncio.run(scenario())
    assert web.hits[AP_JWKS] == 2


def test_v24_select_by_kid_only(discovery: Discovery, web: Web) -> None:
    """V-24: unusable members other than the selected kid never cause a failure."""
    junk = [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "sym"},
        {"kty": "OKP", "crv": "Ed25519", "x": "!!", "alg": "EdDSA", "kid": "bad"},
        "not a key",
        {"kid": "ap-1-like"},
    ]
    web.serve(AP_JWKS, {"keys": [*junk, KEY_1]})
    assert discovery.get_key(AP, "aauth-agent.json", "ap-1")[1] == KEY_1
    with pytest.raises(UnsupportedAlgorithm):
        discovery.get_key(AP, "aauth-agent.json", "sym")


def test_jwks_without_keys_array(discovery: Discovery, web: Web) -> None:
    web.serve(AP_JWKS, {"keys": {"ap-1": KEY_1}})
    with pytest.raises(InvalidKey, match="keys"):
        discovery.get_key(AP, "aauth-agent.json", "ap-1")


def test_v25_cache_is_bounded(web: Web, clock: Clock) -> None:
    """V-25: attacker-chosen URLs cannot grow the cache past its bound (LRU eviction)."""
    urls = [f"https://k{i}.example/jwks" for i in range(3)]
    for url in urls:
        web.serve(url, {"keys": [KEY_1]})
    with discovery_for(web, clock, max_entries=2) as discovery:
        for url in urls:
            discovery.get_jwks(url)
        discovery.get_jwks(urls[2])
        discovery.get_jwks(urls[1])
        assert web.hits == dict.fromkeys(urls, 1)
        discovery.get_jwks(urls[0])
        assert web.hits[urls[0]] == 2
        discovery.get_jwks(urls[1])
        assert web.hits[urls[1]] == 1
        discovery.get_jwks(urls[2])
        assert web.hits[urls[2]] == 2


def test_failures_back_off_exponentially(web: Web, clock: Clock) -> None:
    web.serve(AP_JWKS, {"error": "boom"}, status=500)
    with discovery_for(web, clock, backoff_initial=10, backoff_max=25) as discovery:
        for _ in range(3):
            with pytest.raises(FetchError):
                discovery.get_jwks(AP_JWKS)
        assert web.hits[AP_JWKS] == 1
        clock.advance(10)
        with pytest.raises(FetchError):
            discovery.get_jwks(AP_JWKS)
        assert web.hits[AP_JWKS] == 2
        clock.advance(19)
        with pytest.raises(FetchError):
            discovery.get_jwks(AP_JWKS)
        assert web.hits[AP_JWKS] == 2
        clock.advance(1)
        with pytest.raises(FetchError):
            asyncio.run(discovery.aget_jwks(AP_JWKS))
        assert web.hits[AP_JWKS] == 3
        clock.advance(25)
        web.serve(AP_JWKS, {"keys": [KEY_1]})
        assert discovery.get_jwks(AP_JWKS) == {"keys": [KEY_1]}
        assert web.hits[AP_JWKS] == 4


def test_cached_errors_are_fresh_instances(web: Web, clock: Clock) -> None:
    web.serve(AP_JWKS, {}, status=503)
    with discovery_for(web, clock) as discovery:
        errors = []
        for _ in range(3):
            with pytest.raises(FetchError) as info:
                discovery.get_jwks(AP_JWKS)
            errors.append(info.value)
    assert len({id(e) for e in errors}) == 3
    assert all(e.upstream_status == 503 for e in errors)
    depths = [len(traceback.extract_tb(e.__traceback__)) for e in errors[1:]]
    assert depths[0] == depths[1]


def test_failed_refresh_keeps_the_fresh_jwks(discovery: Discovery, web: Web, clock: Clock) -> None:
    discovery.get_key(AP, "aauth-agent.json", "ap-1")
    clock.advance(61)
    web.serve(AP_JWKS, {}, status=500)
    with pytest.raises(UnknownKey):
        discovery.get_key(AP, "aauth-agent.json", "ap-2")
    assert discovery.get_key(AP, "aauth-agent.json", "ap-1")[1] == KEY_1
    assert web.hits[AP_JWKS] == 2


def test_single_flight_threads(web: Web, clock: Clock) -> None:
    """Concurrent callers in N threads share one request per document."""
    web.gate = threading.Event()
    results: list[Any] = []
    with discovery_for(web, clock) as discovery:
        threads = [
            threading.Thread(
                target=lambda: results.append(discovery.get_key(AP, "aauth-agent.json", "ap-1"))
            )
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        threading.Timer(0.05, web.gate.set).start()
        for thread in threads:
            thread.join(5)
    assert len(results) == 8
    assert all(jwk == KEY_1 for _, jwk in results)
    assert web.hits == {AP_META: 1, AP_JWKS: 1}


def test_single_flight_threads_share_failures(web: Web, clock: Clock) -> None:
    web.gate = threading.Event()
    web.serve(AP_JWKS, {}, status=500)
    errors: list[Exception] = []

    def call(shared: Discovery) -> None:
        try:
            shared.get_jwks(AP_JWKS)
        except FetchError as exc:
            errors.append(exc)

    with discovery_for(web, clock) as shared:
        threads = [threading.Thread(target=call, args=(shared,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        threading.Timer(0.05, web.gate.set).start()
        for thread in threads:
            thread.join(5)
    assert len(errors) == 6
    assert web.hits[AP_JWKS] == 1


def test_single_flight_tasks(web: Web, clock: Clock) -> None:
    """Concurrent asyncio tasks share one request per document."""

    async def scenario() -> list[Any]:
        web.async_gate = asyncio.Event()
        async with discovery_for(web, clock) as discovery:
            tasks = [
                asyncio.create_task(discovery.aget_key(AP, "aauth-agent.json", "ap-1"))
                for _ in range(10)
            ]
            await asyncio.sleep(0.01)
            web.async_gate.set()
            return list(await asyncio.gather(*tasks))

    results = asyncio.run(scenario())
    assert all(jwk == KEY_1 for _, jwk in results)
    assert web.hits == {AP_META: 1, AP_JWKS: 1}


def test_cancelled_leader_lets_followers_retry(web: Web, clock: Clock) -> None:
    async def scenario() -> Any:
        web.async_gate = asyncio.Event()
        async with discovery_for(web, clock) as discovery:
            leader = asyncio.create_task(discovery.aget_jwks(AP_JWKS))
            await asyncio.sleep(0.01)
            follower = asyncio.create_task(discovery.aget_jwks(AP_JWKS))
            await asyncio.sleep(0.01)
            leader.cancel()
            await asyncio.sleep(0.01)
            web.async_gate.set()
            with pytest.raises(asyncio.CancelledError):
                await leader
            return await follower

    assert asyncio.run(scenario()) == {"keys": [KEY_1]}
    assert web.hits[AP_JWKS] == 1


def test_legacy_path_only_when_enabled(web: Web, clock: Clock) -> None:
    document = web.documents.pop(PS_META)
    web.serve(f"{PS}/.well-known/aauth-person", document)
    with discovery_for(web, clock) as discovery, pytest.raises(FetchError, match="404"):
        discovery.get_metadata(PS, "aauth-person.json")
    with discovery_for(web, clock, legacy_paths=True) as discovery:
        assert discovery.get_metadata(PS, "aauth-person.json")["issuer"] == PS
        assert asyncio.run(discovery.aget_key(PS, "aauth-person.json", "ap-2"))[1] == KEY_2
    assert web.hits[PS_META] == 2
    assert web.hits[f"{PS}/.well-known/aauth-person"] == 1


def test_legacy_path_not_tried_on_other_errors(web: Web, clock: Clock) -> None:
    web.serve(PS_META, {}, status=500)
    web.serve(f"{PS}/.well-known/aauth-person", {"issuer": PS})
    with discovery_for(web, clock, legacy_paths=True) as discovery, pytest.raises(FetchError):
        discovery.get_metadata(PS, "aauth-person.json")
    assert web.hits[f"{PS}/.well-known/aauth-person"] == 0


def test_resolver_jwks_uri_scheme(discovery: Discovery) -> None:
    member = JwksUri(AP, "aauth-agent.json", "ap-1")
    resolved = discovery.resolver().resolve(member)
    assert resolved.signer == AP
    assert resolved.jwk == KEY_1
    assert resolved.thumbprint == jwk_thumbprint(KEY_1)
    assert resolved.member is member
    again = asyncio.run(discovery.async_resolver().resolve(member))
    assert again.signer == AP


def test_resolver_jwks_scheme_uses_the_url_verbatim(discovery: Discovery, web: Web) -> None:
    """The jwks URL is the signer identity: compared and cached byte-exact, never normalised."""
    url = "https://AP.example/.well-known/jwks.json"
    resolved = discovery.resolver().resolve(Jwks(url, "ap-1"))
    assert resolved.signer == url
    assert resolved.jwk == KEY_1
    discovery.resolver().resolve(Jwks(AP_JWKS, "ap-1"))
    assert web.hits[AP_JWKS] == 2
    with pytest.raises(UnknownKey):
        asyncio.run(discovery.async_resolver().resolve(Jwks(AP_JWKS, "zzz")))


def test_resolver_refuses_other_schemes(discovery: Discovery) -> None:
    hwk = Hwk({"kty": "OKP", "crv": "Ed25519", "x": KEY_1["x"]})
    with pytest.raises(UnsupportedScheme) as info:
        discovery.resolver().resolve(hwk)
    assert info.value.accepted == ("jwks_uri", "jwks")
    with pytest.raises(UnsupportedScheme):
        asyncio.run(discovery.async_resolver().resolve(hwk))


def test_constructor_rejects_nonsense_bounds() -> None:
    for options in ({"max_entries": 0}, {"min_ttl": 100, "max_ttl": 50}, {"backoff_initial": 0}):
        with pytest.raises(ValueError):
            Discovery(**options)  # type: ignore[arg-type]


# -- against a real local server ----------------------------------------------------------


class Site:
    """A tiny agent provider on loopback that counts hits per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.app = Starlette(
            routes=[
                Route("/.well-known/aauth-agent.json", self.metadata),
                Route("/jwks", self.jwks),
            ]
        )

    async def metadata(self, request: Request) -> Response:
        self.hits[request.url.path] += 1
        issuer = str(request.base_url).rstrip("/")
        return JSONResponse({"issuer": issuer, "jwks_uri": f"{issuer}/jwks"})

    async def jwks(self, request: Request) -> Response:
        self.hits[request.url.path] += 1
        await asyncio.sleep(0.05)
        return JSONResponse({"keys": [KEY_1]}, headers={"cache-control": "max-age=600"})


def test_real_server_sync_and_async_single_flight() -> None:
    """V-20..V-23 end to end over real HTTP on 127.0.0.1 (development policy)."""
    site = Site()
    with RunningServer(site.app) as server:
        issuer = server.url
        with pytest.raises(InvalidKey):
            Discovery().get_key(issuer, "aauth-agent.json", "ap-1")
        policy = EgressPolicy(allow_loopback_http=True)
        with Discovery(policy) as discovery:
            threads = [
                threading.Thread(
                    target=discovery.get_key, args=(issuer, "aauth-agent.json", "ap-1")
                )
                for _ in range(5)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
        assert site.hits == {"/.well-known/aauth-agent.json": 1, "/jwks": 1}

        async def scenario() -> list[tuple[VerifyingKey, Any]]:
            async with Discovery(policy) as fresh:
                return list(
                    await asyncio.gather(
                        *(fresh.aget_key(issuer, "aauth-agent.json", "ap-1") for _ in range(5))
                    )
                )

        results = asyncio.run(scenario())
    assert all(jwk == KEY_1 for _, jwk in results)
    assert site.hits == {"/.well-known/aauth-agent.json": 2, "/jwks": 2}
