"""Egress admission, pinning and fetch limits (protocol-10 §H.3, checklist V-20)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from aauth.egress import (
    AsyncEgressClient,
    EgressClient,
    EgressDenied,
    EgressPolicy,
    FetchError,
    IPAddress,
    afetch_json,
    fetch_json,
)
from aauth.errors import AAuthError
from aauth.server.running import RunningServer

PUBLIC = "93.184.216.34"


class StubResolver:
    """A DNS stand-in: a fixed table, recording every question."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append((host, port))
        if host not in self.table:
            raise EgressDenied(f"cannot resolve {host!r}")
        return [ipaddress.ip_address(a) for a in self.table[host]]


def policy_for(table: dict[str, list[str]], **options: Any) -> EgressPolicy:
    return EgressPolicy(resolver=StubResolver(table), **options)


class Recorder:
    """A MockTransport handler that records what reached 'the network'."""

    def __init__(self, body: Any = None, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.body = {"ok": True} if body is None else body
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)


# -- admission --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "127.0.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "100.64.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
    ],
)
def test_v20_non_public_address_denied(address: str) -> None:
    """V-20: private, loopback, link-local, multicast, unspecified, reserved are refused."""
    policy = policy_for({"ap.example": [address]})
    with pytest.raises(EgressDenied) as info:
        policy.admit("https://ap.example/.well-known/aauth-agent.json")
    assert info.value.code == "egress_denied"
    assert address not in info.value.description


def test_v20_one_private_address_among_public_denied() -> None:
    """V-20: every resolved address is checked, not just the first."""
    policy = policy_for({"ap.example": [PUBLIC, "10.0.0.1"]})
    with pytest.raises(EgressDenied):
        policy.admit("https://ap.example/")


def test_public_address_admitted_and_mapped_forms_unwrapped() -> None:
    policy = policy_for({"ap.example": [PUBLIC, "::ffff:8.8.8.8", "2606:4700::1"]})
    admitted = policy.admit("https://ap.example/x")
    assert [str(a) for a in admitted] == [PUBLIC, "::ffff:808:808", "2606:4700::1"]
    assert policy.resolver.calls == [("ap.example", 443)]  # type: ignore[attr-defined]


def test_v20_http_to_public_name_denied_even_in_development() -> None:
    """V-20: https only; plain http is for loopback development alone."""
    for flag in (False, True):
        policy = policy_for({"ap.example": [PUBLIC]}, allow_loopback_http=flag)
        with pytest.raises(EgressDenied):
            policy.admit("http://ap.example/")


def test_v20_loopback_only_with_development_flag() -> None:
    table = {"local.test": ["127.0.0.1"]}
    with pytest.raises(EgressDenied):
        policy_for(table).admit("https://local.test/")
    with pytest.raises(EgressDenied):
        policy_for(table).admit("http://local.test:8080/")
    dev = policy_for(table, allow_loopback_http=True)
    assert dev.admit("http://local.test:8080/") == [ipaddress.ip_address("127.0.0.1")]
    assert dev.admit("https://local.test/") == [ipaddress.ip_address("127.0.0.1")]


def test_allowed_networks_admit_https_but_not_http() -> None:
    table = {"ps.internal": ["10.1.2.3"]}
    policy = policy_for(table, allowed_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    assert policy.admit("https://ps.internal/") == [ipaddress.ip_address("10.1.2.3")]
    with pytest.raises(EgressDenied):
        policy_for(table, allowed_networks=(ipaddress.ip_network("10.0.0.0/8"),)).admit(
            "http://ps.internal/"
        )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://ap.example/",
        "file:///etc/passwd",
        "https://user:secret@ap.example/",
        "https:///nohost",
        "not a url at all",
        "https://[::1/",
    ],
)
def test_v20_malformed_or_unsupported_url_denied(url: str) -> None:
    policy = policy_for({"ap.example": [PUBLIC]})
    with pytest.raises(EgressDenied):
        policy.admit(url)
    assert policy.resolver.calls == []  # type: ignore[attr-defined]


def test_ip_literal_is_checked_without_resolving() -> None:
    policy = policy_for({})
    assert policy.admit(f"https://{PUBLIC}/") == [ipaddress.ip_address(PUBLIC)]
    with pytest.raises(EgressDenied):
        policy.admit("https://169.254.169.254/latest/meta-data")
    with pytest.raises(EgressDenied):
        policy.admit("https://[::1]/")
    assert policy.resolver.calls == []  # type: ignore[attr-defined]


def test_unresolvable_host_denied() -> None:
    with pytest.raises(EgressDenied):
        policy_for({}).admit("https://nowhere.example/")
    with pytest.raises(EgressDenied):
        policy_for({"empty.example": []}).admit("https://empty.example/")


def test_system_resolver_failure_is_egress_denied() -> None:
    with pytest.raises(EgressDenied):
        EgressPolicy().admit("https://name.invalid/")


def test_async_admission_uses_the_same_rules() -> None:
    policy = policy_for({"ap.example": [PUBLIC], "evil.example": ["10.0.0.1"]})
    assert asyncio.run(policy.aadmit("https://ap.example/")) == [ipaddress.ip_address(PUBLIC)]
    with pytest.raises(EgressDenied):
        asyncio.run(policy.aadmit("https://evil.example/"))


# -- pinning ------------------------------------------------------------------------------


def test_pinning_sends_to_checked_address_with_host_header_and_sni() -> None:
    """DNS rebinding: the connection goes to the admitted IP; Host and TLS name stay."""
    recorder = Recorder()
    policy = policy_for({"ap.example": [PUBLIC]})
    with EgressClient(policy, transport=httpx.MockTransport(recorder)) as client:
        document, _ = client.fetch_json("https://ap.example:8443/.well-known/aauth-agent.json")
    assert document == {"ok": True}
    (sent,) = recorder.requests
    assert sent.url == httpx.URL(f"https://{PUBLIC}:8443/.well-known/aauth-agent.json")
    assert sent.headers["host"] == "ap.example:8443"
    assert sent.extensions["sni_hostname"] == "ap.example"


def test_pinning_rebinding_resolver_cannot_move_the_connection() -> None:
    """Each request is admitted once and connects to exactly what was admitted."""

    class Rebinding:
        def __init__(self) -> None:
            self.answers = [[PUBLIC], ["127.0.0.1"]]

        def resolve(self, host: str, port: int) -> list[IPAddress]:
            return [ipaddress.ip_address(a) for a in self.answers.pop(0)]

    recorder = Recorder()
    policy = EgressPolicy(resolver=Rebinding())
    with EgressClient(policy, transport=httpx.MockTransport(recorder)) as client:
        client.fetch_json("https://ap.example/a")
        with pytest.raises(EgressDenied):
            client.fetch_json("https://ap.example/b")
    assert [r.url.host for r in recorder.requests] == [PUBLIC]


def test_v20_denial_precedes_any_request() -> None:
    """V-20: a denied URL never reaches the network."""
    recorder = Recorder()
    policy = policy_for({"evil.example": ["169.254.169.254"]})
    with (
        EgressClient(policy, transport=httpx.MockTransport(recorder)) as client,
        pytest.raises(EgressDenied),
    ):
        client.fetch_json("https://evil.example/")
    assert recorder.requests == []


def test_next_address_tried_only_when_connecting_fails() -> None:
    second = "93.184.216.35"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == PUBLIC:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"via": request.url.host})

    policy = policy_for({"ap.example": [PUBLIC, second]})
    with EgressClient(policy, transport=httpx.MockTransport(handler)) as client:
        assert client.fetch_json("https://ap.example/")[0] == {"via": second}


def test_async_pinning_sends_to_checked_address() -> None:
    recorder = Recorder()
    policy = policy_for({"ap.example": [PUBLIC]})

    async def scenario() -> dict[str, Any]:
        async with AsyncEgressClient(policy, transport=httpx.MockTransport(recorder)) as client:
            return (await client.fetch_json("https://ap.example/jwks"))[0]

    assert asyncio.run(scenario()) == {"ok": True}
    assert recorder.requests[0].headers["host"] == "ap.example"
    assert recorder.requests[0].extensions["sni_hostname"] == "ap.example"


# -- response checks (mock network) -------------------------------------------------------


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("status", "headers", "content", "reason"),
    [
        (302, {"location": "https://ap.example/x"}, b"", "redirect"),
        (404, JSON, b"{}", "404"),
        (200, {"content-type": "text/plain"}, b"{}", "JSON"),
        (200, {}, b"{}", "JSON"),
        (200, JSON, b"[1, 2]", "object"),
        (200, JSON, b'{"a": 1, "a": 2}', "valid JSON"),
        (200, JSON, b'{"a": NaN}', "valid JSON"),
        (200, JSON, b"\xff\xfe", "valid JSON"),
        (200, JSON, b"[" * 100_000 + b"]" * 100_000, "valid JSON"),
        (200, {**JSON, "content-encoding": "gzip"}, b"{}", "encoded"),
        (200, {**JSON, "content-length": "999999999"}, b"{}", "bytes"),
        (200, {**JSON, "content-length": "-1"}, b"{}", "bytes"),
    ],
)
def test_bad_responses_are_fetch_errors(
    status: int, headers: dict[str, str], content: bytes, reason: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))

    policy = policy_for({"ap.example": [PUBLIC]}, max_bytes=1_000_000)
    with (
        EgressClient(policy, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(FetchError, match=reason) as info,
    ):
        client.fetch_json("https://ap.example/doc")
    assert isinstance(info.value, AAuthError)
    assert (info.value.status, info.value.code) == (502, "server_error")


def test_fetch_error_keeps_upstream_status_out_of_the_body() -> None:
    policy = policy_for({"ap.example": [PUBLIC]})
    transport = httpx.MockTransport(lambda _: httpx.Response(404, json={}))
    with EgressClient(policy, transport=transport) as client, pytest.raises(FetchError) as info:
        client.fetch_json("https://ap.example/doc")
    assert info.value.upstream_status == 404
    assert info.value.problem() == {"error": "server_error", "detail": info.value.description}


def test_jwk_set_media_type_accepted() -> None:
    response = httpx.Response(
        200, content=b'{"keys": []}', headers={"content-type": "application/jwk-set+json"}
    )
    policy = policy_for({"ap.example": [PUBLIC]})
    with EgressClient(policy, transport=httpx.MockTransport(lambda _: response)) as client:
        assert client.fetch_json("https://ap.example/jwks")[0] == {"keys": []}


@pytest.mark.parametrize(
    "option", ["max_bytes", "connect_timeout", "read_timeout", "total_timeout"]
)
def test_policy_limits_must_be_positive(option: str) -> None:
    with pytest.raises(ValueError):
        EgressPolicy(**{option: 0})  # type: ignore[arg-type]


def test_fetch_json_refuses_a_client_built_for_another_policy() -> None:
    policy = policy_for({"ap.example": [PUBLIC]})
    with EgressClient(EgressPolicy()) as client, pytest.raises(ValueError):
        fetch_json("https://ap.example/", policy, client)


# -- real local server --------------------------------------------------------------------


async def host_echo(request: Request) -> Response:
    return JSONResponse({"host": request.headers["host"]})


async def endless(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"pad": "'
        for _ in range(100_000):
            yield b"x" * 16384
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), media_type="application/json")


async def redirect(request: Request) -> Response:
    return RedirectResponse("/host", status_code=302)


async def slow(request: Request) -> Response:
    await asyncio.sleep(0.5)
    return JSONResponse({"late": True})


async def drip(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" "
            await asyncio.sleep(0.05)
        yield b"{}"

    return StreamingResponse(chunks(), media_type="application/json")


APP = Starlette(
    routes=[
        Route("/host", host_echo),
        Route("/endless", endless),
        Route("/redirect", redirect),
        Route("/slow", slow),
        Route("/drip", drip),
    ]
)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with RunningServer(APP) as running:
        yield running


@pytest.fixture
def local(server: RunningServer) -> tuple[EgressPolicy, str]:
    """A dev policy whose stub DNS sends ``local.test`` to the loopback server."""
    policy = policy_for(
        {"local.test": ["127.0.0.1"]},
        allow_loopback_http=True,
        read_timeout=1.0,
        total_timeout=1.0,
    )
    return policy, f"http://local.test:{server.port}"


def test_real_server_via_stub_name_keeps_host_header(local: tuple[EgressPolicy, str]) -> None:
    """Pinning end to end: TCP goes to 127.0.0.1, the server still sees Host: local.test."""
    policy, base = local
    document, headers = fetch_json(f"{base}/host", policy)
    assert document == {"host": base.removeprefix("http://")}
    assert headers["content-type"] == "application/json"


def test_real_server_refused_without_development_flag(server: RunningServer) -> None:
    policy = policy_for({"local.test": ["127.0.0.1"]})
    with pytest.raises(EgressDenied):
        fetch_json(f"http://local.test:{server.port}/host", policy)


def test_oversized_body_cut_off_while_streaming(local: tuple[EgressPolicy, str]) -> None:
    """The endless body would never finish: only a streaming cap can stop it."""
    policy, base = local
    with pytest.raises(FetchError, match="over 262144 bytes"):
        fetch_json(f"{base}/endless", policy)


def test_redirect_refused(local: tuple[EgressPolicy, str]) -> None:
    policy, base = local
    with pytest.raises(FetchError, match="redirect") as info:
        fetch_json(f"{base}/redirect", policy)
    assert info.value.upstream_status == 302


def test_read_timeout_enforced(server: RunningServer) -> None:
    policy = policy_for({"local.test": ["127.0.0.1"]}, allow_loopback_http=True, read_timeout=0.1)
    with pytest.raises(FetchError, match="timed out"):
        fetch_json(f"http://local.test:{server.port}/slow", policy)


def test_total_timeout_stops_a_dripping_server(server: RunningServer) -> None:
    policy = policy_for({"local.test": ["127.0.0.1"]}, allow_loopback_http=True, total_timeout=0.2)
    with pytest.raises(FetchError, match="longer than"):
        fetch_json(f"http://local.test:{server.port}/drip", policy)


def test_async_fetch_against_real_server(local: tuple[EgressPolicy, str]) -> None:
    policy, base = local

    async def scenario() -> None:
        document, _ = await afetch_json(f"{base}/host", policy)
        assert document == {"host": base.removeprefix("http://")}
        async with AsyncEgressClient(policy) as client:
            with pytest.raises(FetchError, match="over"):
                await afetch_json(f"{base}/endless", policy, client)
            with pytest.raises(FetchError, match="redirect"):
                await client.fetch_json(f"{base}/redirect")
        with pytest.raises(EgressDenied):
            await afetch_json("https://evil.test/", policy)

    asyncio.run(scenario())


def test_async_total_timeout_is_a_hard_deadline(server: RunningServer) -> None:
    policy = policy_for({"local.test": ["127.0.0.1"]}, allow_loopback_http=True, total_timeout=0.2)
    with pytest.raises(FetchError, match="timed out"):
        asyncio.run(afetch_json(f"http://local.test:{server.port}/drip", policy))
