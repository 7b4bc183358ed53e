"""Egress admission for every outbound fetch (protocol-10 §H.3, V-20).

Metadata, JWKS and interaction URLs come from the other side of the protocol, so fetching them
is a server-side request forgery surface. Every fetch therefore goes through one gate: https
only, public addresses only (unless configured; the table is :mod:`aauth.address_ranges`), no
redirects, capped size and time. The host is
resolved once, every address is checked, and the connection goes to a checked address, so a
second DNS answer (rebinding) cannot redirect it.

    policy = EgressPolicy()
    document, headers = fetch_json("https://ap.example/.well-known/aauth-agent.json", policy)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from .address_ranges import is_public_address, translated_ipv4
from .errors import AAuthError, InvalidRequest
from .json_body import parse_json
from .tls import tls_context

__all__ = [
    "AsyncEgressClient",
    "AsyncPinnedTransport",
    "EgressClient",
    "EgressDenied",
    "EgressPolicy",
    "FetchError",
    "IPAddress",
    "IPNetwork",
    "PinnedTransport",
    "Resolver",
    "SystemResolver",
    "afetch_json",
    "fetch_json",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"https": 443, "http": 80}
_NO_KEEPALIVE = httpx.Limits(max_keepalive_connections=0)
"""Pooled connections are keyed by IP, so reuse could cross TLS server names; fetches are rare."""


class EgressDenied(AAuthError):
    """An outbound URL failed admission; nothing was sent."""

    code, status = "egress_denied", 400


class FetchError(AAuthError):
    """An admitted fetch failed: transport error, timeout, redirect, bad status, size or body.

    ``upstream_status`` is the remote HTTP status when there was one (404 drives legacy-path
    fallback in discovery); it is kept out of the problem body.
    """

    code, status = "server_error", 502

    def __init__(self, description: str, *, upstream_status: int | None = None) -> None:
        super().__init__(description)
        self.upstream_status = upstream_status


class Resolver(Protocol):
    """Name resolution seam: every address ``host`` resolves to, for connecting to ``port``."""

    def resolve(self, host: str, port: int) -> list[IPAddress]: ...


class SystemResolver:
    """The operating system resolver (``getaddrinfo``)."""

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, ValueError) as exc:
            raise EgressDenied(f"cannot resolve {host!r}") from exc
        addresses: list[IPAddress] = []
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if address not in addresses:
                addresses.append(address)
        return addresses


def _effective(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv4-mapped or NAT64 IPv6 address really reaches."""
    if isinstance(address, ipaddress.IPv6Address):
        return translated_ipv4(address) or address
    return address


@dataclass(frozen=True)
class EgressPolicy:
    """What an outbound fetch may reach, and how much it may cost.

    ``allow_loopback_http`` is for development on one machine: it admits loopback addresses,
    and plain http when every address is loopback. ``allowed_networks`` admits otherwise
    non-public ranges (e.g. an internal PS) over https. Timeouts are in seconds; ``max_bytes``
    caps the body while it streams.
    """

    allow_loopback_http: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()
    max_bytes: int = 256 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    total_timeout: float = 5.0
    resolver: Resolver = field(default_factory=SystemResolver, compare=False)

    def __post_init__(self) -> None:
        limits = (self.max_bytes, self.connect_timeout, self.read_timeout, self.total_timeout)
        if min(limits) <= 0:
            raise ValueError("egress size and time limits must be positive")

    def check_url(self, url: httpx.URL | str) -> httpx.URL:
        """The parsed URL when its form is admissible (scheme, host, no credentials)."""
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise EgressDenied("not a valid URL") from exc
        if parsed.scheme not in ("https", "http") or not parsed.host:
            raise EgressDenied("only https URLs may be fetched")
        if parsed.scheme == "http" and not self.allow_loopback_http:
            raise EgressDenied("only https URLs may be fetched")
        if parsed.userinfo:
            raise EgressDenied("URLs with credentials are not fetched")
        return parsed

    def check_addresses(self, url: httpx.URL, addresses: Iterable[IPAddress]) -> list[IPAddress]:
        """``addresses`` when every one may be reached for ``url``; EgressDenied otherwise."""
        admitted = list(addresses)
        if not admitted:
            raise EgressDenied(f"{url.host!r} does not resolve")
        for address in admitted:
            if not self._admits(url.scheme, _effective(address)):
                raise EgressDenied(f"{url.host!r} resolves to an address that is not admitted")
        return admitted

    def _admits(self, scheme: str, address: IPAddress) -> bool:
        loopback = self.allow_loopback_http and address.is_loopback
        if scheme == "http":
            return loopback
        if loopback or any(address in network for network in self.allowed_networks):
            return True
        return is_public_address(address)

    def admit(self, url: httpx.URL | str) -> list[IPAddress]:
        """Resolve the URL's host and check every address; the ones a connection may use."""
        parsed = self.check_url(url)
        literal = _literal(_host(parsed))
        if literal is not None:
            return self.check_addresses(parsed, [literal])
        return self.check_addresses(parsed, self.resolver.resolve(_host(parsed), _port(parsed)))

    async def aadmit(self, url: httpx.URL | str) -> list[IPAddress]:
        """:meth:`admit` with the resolver run in a worker thread."""
        parsed = self.check_url(url)
        literal = _literal(_host(parsed))
        if literal is not None:
            return self.check_addresses(parsed, [literal])
        resolved = await asyncio.to_thread(self.resolver.resolve, _host(parsed), _port(parsed))
        return self.check_addresses(parsed, resolved)

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )


def _host(url: httpx.URL) -> str:
    """The host in ASCII (IDNs as A-labels, IPv6 without brackets)."""
    return url.raw_host.decode("ascii")


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _port(url: httpx.URL) -> int:
    return url.port or _DEFAULT_PORTS[url.scheme]


def _pinned(request: httpx.Request, address: IPAddress) -> httpx.Request:
    """``request`` sent to ``address``: same Host header, TLS server name still the host."""
    extensions = dict(request.extensions)
    if request.url.scheme == "https":
        extensions["sni_hostname"] = _host(request.url)
    return httpx.Request(
        request.method,
        request.url.copy_with(host=str(address)),
        headers=request.headers,
        stream=request.stream,
        extensions=extensions,
    )


class PinnedTransport(httpx.BaseTransport):
    """Admits each request and connects only to the addresses admission checked.

    Addresses are tried in resolver order, moving on only when a connection cannot be made.
    """

    def __init__(self, policy: EgressPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpx.HTTPTransport(limits=_NO_KEEPALIVE, verify=tls_context())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        addresses = self._policy.admit(request.url)
        for address in addresses[:-1]:
            try:
                return self._inner.handle_request(_pinned(request, address))
            except httpx.ConnectError:
                continue
        return self._inner.handle_request(_pinned(request, addresses[-1]))

    def close(self) -> None:
        self._inner.close()


class AsyncPinnedTransport(httpx.AsyncBaseTransport):
    """The asynchronous twin of :class:`PinnedTransport`."""

    def __init__(self, policy: EgressPolicy, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpx.AsyncHTTPTransport(limits=_NO_KEEPALIVE, verify=tls_context())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        addresses = await self._policy.aadmit(request.url)
        for address in addresses[:-1]:
            try:
                return await self._inner.handle_async_request(_pinned(request, address))
            except httpx.ConnectError:
                continue
        return await self._inner.handle_async_request(_pinned(request, addresses[-1]))

    async def aclose(self) -> None:
        await self._inner.aclose()


_JSON_HEADERS = {"Accept": "application/json", "Accept-Encoding": "identity"}


def _checked(response: httpx.Response, url: str, policy: EgressPolicy) -> None:
    """Refuse a response before reading its body: status, redirect, media type, declared size.

    Only the identity encoding is accepted, so the bytes counted are the bytes received and a
    small compressed body cannot expand past the cap.
    """
    if response.is_redirect:
        raise FetchError(
            f"{url} redirects; redirects are not followed", upstream_status=response.status_code
        )
    if response.status_code != 200:
        raise FetchError(
            f"{url} answered {response.status_code}", upstream_status=response.status_code
        )
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        raise FetchError(f"{url} sent an encoded body although identity was requested")
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise FetchError(f"{url} did not answer with JSON")
    declared = response.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > policy.max_bytes:
        raise FetchError(f"{url} declares a body over {policy.max_bytes} bytes")


def _append(body: bytearray, chunk: bytes, url: str, policy: EgressPolicy, deadline: float) -> None:
    body += chunk
    if len(body) > policy.max_bytes:
        raise FetchError(f"{url} sent a body over {policy.max_bytes} bytes")
    if time.monotonic() > deadline:
        raise FetchError(f"{url} took longer than {policy.total_timeout} s")


def _json_object(body: bytes, url: str) -> dict[str, Any]:
    """A strict JSON object (:mod:`aauth.json_body`): UTF-8, no duplicate members, no
    NaN/Infinity; the size was capped while reading."""
    try:
        document = parse_json(body, what="the document", max_bytes=len(body))
    except InvalidRequest as exc:
        raise FetchError(f"{url} did not return valid JSON: {exc.description}") from None
    if not isinstance(document, dict):
        raise FetchError(f"{url} did not return a JSON object")
    return document


class EgressClient(httpx.Client):
    """An httpx client whose every request passes :class:`EgressPolicy` admission, pinned.

    ``transport`` replaces the network below the pinning (tests pass an httpx.MockTransport).
    Redirects are not followed and proxies from the environment are not used.
    """

    def __init__(
        self, policy: EgressPolicy, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(
            transport=PinnedTransport(policy, transport),
            timeout=policy._timeout(),
            follow_redirects=False,
            trust_env=False,
        )
        self.policy = policy

    def fetch_json(self, url: str) -> tuple[dict[str, Any], httpx.Headers]:
        """GET ``url`` and return its JSON object and the response headers."""
        deadline = time.monotonic() + self.policy.total_timeout
        try:
            with self.stream("GET", url, headers=_JSON_HEADERS) as response:
                _checked(response, url, self.policy)
                body = bytearray()
                for chunk in response.iter_bytes():
                    _append(body, chunk, url, self.policy, deadline)
                headers = response.headers
        except httpx.TimeoutException as exc:
            raise FetchError(f"{url} timed out") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url} could not be fetched") from exc
        return _json_object(bytes(body), url), headers


class AsyncEgressClient(httpx.AsyncClient):
    """The asynchronous twin of :class:`EgressClient`; the total timeout is a hard deadline."""

    def __init__(
        self, policy: EgressPolicy, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(
            transport=AsyncPinnedTransport(policy, transport),
            timeout=policy._timeout(),
            follow_redirects=False,
            trust_env=False,
        )
        self.policy = policy

    async def fetch_json(self, url: str) -> tuple[dict[str, Any], httpx.Headers]:
        """GET ``url`` and return its JSON object and the response headers."""
        deadline = time.monotonic() + self.policy.total_timeout
        try:
            async with asyncio.timeout(self.policy.total_timeout):
                async with self.stream("GET", url, headers=_JSON_HEADERS) as response:
                    _checked(response, url, self.policy)
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        _append(body, chunk, url, self.policy, deadline)
                    headers = response.headers
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise FetchError(f"{url} timed out") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url} could not be fetched") from exc
        return _json_object(bytes(body), url), headers


def _same_policy(client: EgressClient | AsyncEgressClient, policy: EgressPolicy) -> None:
    if client.policy is not policy:
        raise ValueError("the client was built for a different EgressPolicy")


def fetch_json(
    url: str, policy: EgressPolicy, client: EgressClient | None = None
) -> tuple[dict[str, Any], httpx.Headers]:
    """GET a JSON object under ``policy``; pass ``client`` (same policy) to reuse one."""
    if client is not None:
        _same_policy(client, policy)
        return client.fetch_json(url)
    with EgressClient(policy) as fresh:
        return fresh.fetch_json(url)


async def afetch_json(
    url: str, policy: EgressPolicy, client: AsyncEgressClient | None = None
) -> tuple[dict[str, Any], httpx.Headers]:
    """The asynchronous twin of :func:`fetch_json`."""
    if client is not None:
        _same_policy(client, policy)
        return await client.fetch_json(url)
    async with AsyncEgressClient(policy) as fresh:
        return await fresh.fetch_json(url)
