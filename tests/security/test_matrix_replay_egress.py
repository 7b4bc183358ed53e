"""Negative matrix, replay (§C.7, V-50) and egress (§H.3, V-20).

Replay rows accept a genuine request once, then send it again, as captured or re-encoded;
the resend must be refused. Egress rows ask the fetch gate to reach what it must not.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable

import pytest
from aauth_signing import HttpRequest

from aauth.agent.signer import AgentSigner
from aauth.egress import EgressDenied, EgressPolicy
from aauth.keys import generate_key
from aauth.replay import InMemoryReplayGuard, ReplayedSignature, ReplayGuardFull, StoreReplayGuard
from aauth.resource import RequestVerifier
from aauth.store import SQLiteStore
from aauth.tokens import issue_agent_token

from ..resource.conftest import AGENT, AP, PS, URL, Resource
from ..test_egress import policy_for
from .attacks import edit, malleated
from .matrix import Case, assert_refused, cases

BODY = b'{"amount": 10}'
JSON = {"content-type": "application/json"}
REPLAYED = (ReplayedSignature, "invalid_signature", 401)


def world(algorithm: str = "Ed25519") -> Resource:
    """The resource test world with an agent key of ``algorithm``."""
    resource = Resource()
    key = generate_key(algorithm)
    resource.agent_token = issue_agent_token(
        resource.ap, iss=AP, sub=AGENT, cnf_jwk=key.public_key(), ps=PS
    )
    resource.signer = AgentSigner(key, resource.agent_token)
    return resource


def replayed(
    change: Callable[[HttpRequest], HttpRequest] = lambda request: request,
    *,
    method: str = "POST",
    algorithm: str = "Ed25519",
    verifier: Callable[[Resource], RequestVerifier] | None = None,
    twin_first: bool = False,
    colour: str = "sync",
) -> Callable[[], object]:
    """Accept a genuine request, then verify ``change(request)`` (or the other way round)."""

    def attack() -> object:
        resource = world(algorithm)
        check = (verifier or (lambda r: r.verifier(require_auth_token=False)))(resource)
        request = resource.request(method, body=BODY, headers=JSON)
        first, second = (change(request), request) if twin_first else (request, change(request))

        def verify(message: HttpRequest) -> object:
            if colour == "sync":
                return check.verify(message)
            return asyncio.run(check.averify(message))

        verify(first)
        return verify(second)

    return attack


def store_backed(store: SQLiteStore) -> Callable[[Resource], RequestVerifier]:
    """Verifiers over one SQLite store: the second is a restarted process."""

    def make(resource: Resource) -> RequestVerifier:
        return RequestVerifier(
            resource.policy(require_auth_token=False),
            resource.keys,
            replay_guard=StoreReplayGuard(store),
        )

    return make


def restarted(change: Callable[[HttpRequest], HttpRequest]) -> Callable[[], object]:
    """Accepted by one verifier, resent to a fresh one on the same store (after a restart)."""

    def attack() -> object:
        store = SQLiteStore()
        resource = world("ES256")
        request = resource.request("POST", body=BODY, headers=JSON)
        store_backed(store)(resource).verify(request)
        return store_backed(store)(resource).verify(change(request))

    return attack


def full_guard() -> object:
    """A guard configured to fail closed when full refuses the next request."""

    def make(resource: Resource) -> RequestVerifier:
        guard = InMemoryReplayGuard(1, when_full="refuse")
        return RequestVerifier(
            resource.policy(require_auth_token=False), resource.keys, replay_guard=guard
        )

    resource = world()
    check = make(resource)
    check.verify(resource.request("POST", body=BODY, headers=JSON))
    return check.verify(resource.request("POST", body=b"{}", headers=JSON))


REPLAY_ROWS = [
    Case("POST resent as captured", replayed(), *REPLAYED),
    Case("PUT resent as captured", replayed(method="PUT"), *REPLAYED),
    Case("PATCH resent as captured", replayed(method="PATCH"), *REPLAYED),
    Case("DELETE resent as captured", replayed(method="DELETE"), *REPLAYED),
    Case("ES256 POST resent as captured", replayed(algorithm="ES256"), *REPLAYED),
    Case("ES256 POST resent with s rewritten to n - s", replayed(malleated, algorithm="ES256"),
         *REPLAYED, "V-50"),
    Case("the n - s twin first, then the captured original",
         replayed(malleated, algorithm="ES256", twin_first=True), *REPLAYED, "V-50"),
    Case("n - s twin at the async verifier",
         replayed(malleated, algorithm="ES256", colour="async"), *REPLAYED, "V-50"),
    Case("resent with an uncovered header added",
         replayed(lambda r: edit(r, x_forwarded_for="203.0.113.9")), *REPLAYED),
    Case("resent with Signature-Input re-spaced",
         replayed(lambda r: edit(r, signature_input=str(r.headers.get("signature-input")).replace(
             " ", "  ").replace("=(", "=( ", 1))), *REPLAYED),
    Case("resent after a restart (store-backed guard)", restarted(lambda r: r), *REPLAYED),
    Case("n - s twin after a restart (store-backed guard)", restarted(malleated),
         *REPLAYED, "V-50"),
    Case("a full guard configured to refuse", full_guard,
         ReplayGuardFull, "invalid_signature", 401, "V-25"),
]

_METADATA = "169.254.169.254"


def egress(address: str, url: str = "https://ap.example/.well-known/aauth-agent.json",
           **options: object) -> Callable[[], object]:  # fmt: skip
    return lambda: policy_for({"ap.example": [address]}, **options).admit(url)


def literal(url: str, **options: object) -> Callable[[], object]:
    return lambda: EgressPolicy(**options).admit(url)  # type: ignore[arg-type]


DENIED = (EgressDenied, "egress_denied", 400)
EGRESS_ROWS = [
    Case("192.0.0.8 (IETF protocol assignments)", egress("192.0.0.8"), *DENIED, "V-20"),
    Case("site-local fec0::/10", egress("fec0::1"), *DENIED, "V-20"),
    Case("6to4 wrapping the metadata address", egress("2002:a9fe:a9fe::1"), *DENIED, "V-20"),
    Case("documentation 3fff::/20", egress("3fff::1"), *DENIED, "V-20"),
    Case("NAT64 wrapping the metadata address", egress("64:ff9b::a9fe:a9fe"), *DENIED, "V-20"),
    Case("Teredo wrapping the metadata address", egress("2001:0:a9fe:a9fe::5601:5601"),
         *DENIED, "V-20"),
    Case("IPv4-mapped metadata address", egress(f"::ffff:{_METADATA}"), *DENIED, "V-20"),
    Case("IPv4-compatible metadata address", egress(f"::{_METADATA}"), *DENIED, "V-20"),
    Case("cloud metadata", egress(_METADATA), *DENIED, "V-20"),
    Case("carrier-grade NAT", egress("100.64.0.1"), *DENIED, "V-20"),
    Case("benchmarking 198.18/15", egress("198.18.0.1"), *DENIED, "V-20"),
    Case("loopback without the development switch", egress("127.0.0.1"), *DENIED, "V-20"),
    Case("a public and a private answer together",
         lambda: policy_for({"ap.example": ["93.184.216.34", "10.0.0.1"]}).admit("https://ap.example/"),
         *DENIED, "V-20"),
    Case("plain http to a public host", egress("93.184.216.34", "http://ap.example/"),
         *DENIED, "V-20"),
    Case("plain http to a public host in development", egress(
         "93.184.216.34", "http://ap.example/", allow_loopback_http=True), *DENIED, "V-20"),
    Case("credentials in the URL", egress("93.184.216.34", "https://user:pw@ap.example/"),
         *DENIED, "V-20"),
    Case("a scheme other than https", literal("file:///etc/passwd"), *DENIED, "V-20"),
    Case("an address literal in the URL", literal("https://[fd00::1]/jwks"), *DENIED, "V-20"),
    Case("an allowed internal network over http", egress(
         "10.1.2.3", "http://ap.example/", allowed_networks=(ipaddress.ip_network("10.0.0.0/8"),)),
         *DENIED, "V-20"),
]


@pytest.mark.parametrize("case", cases(REPLAY_ROWS))
def test_replay_is_refused(case: Case) -> None:
    assert_refused(case)


@pytest.mark.parametrize("case", cases(EGRESS_ROWS))
def test_egress_is_refused(case: Case) -> None:
    assert_refused(case)


def test_the_genuine_requests_pass_once() -> None:
    """The control: a first request is accepted, and a GET may repeat (safe methods are not
    tracked)."""
    resource = world("ES256")
    verifier = resource.verifier(require_auth_token=False)
    assert verifier.verify(resource.request("POST", body=BODY, headers=JSON)).agent_id == AGENT
    get = resource.request("GET", URL)
    verifier.verify(get)
    verifier.verify(get)
