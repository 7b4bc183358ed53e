"""What a resource requires, it publishes (V-04, V-46), and the agent covers it (AG-05);
the agent verifies a challenge's resource token before using it (AG-11).

The example resource runs in-process and the agent is a real :class:`AgentAuth` on an httpx
client, so every exchange below is the HTTP the two would have on a network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aauth_signing import HttpRequest, Jwt, sign
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aauth.agent import AgentAuth, AgentSigner
from aauth.agent.resource_directory import ResourceDirectory
from aauth.errors import InvalidToken
from aauth.headers import AuthTokenRequirement, build_challenge, parse_signature_error
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.metadata import ResourceMetadata
from aauth.resource import AAuthMiddleware, RequestVerifier, ResourcePolicy, published_components
from aauth.server.config import ResourceServerConfig
from aauth.server.resource_server import create_resource_server
from aauth.tokens import decode_unverified, issue_agent_token, issue_resource_token
from aauth.tokens.verifier import AGENT_TOKEN

AP = "https://ap.example"
PS = "https://ps.example"
API = "https://api.example"
AGENT = "aauth:bot@ap.example"
METADATA = f"{API}/.well-known/aauth-resource.json"

Trail = list[tuple[str, str, int]]


class Agent:
    def __init__(self, ap: KeySet) -> None:
        key = generate_key()
        token = issue_agent_token(ap, iss=AP, sub=AGENT, cnf_jwk=key.public_key(), ps=PS)
        self.signer = AgentSigner(key, token)

    def client(self, make: Callable[..., httpx.Client], app: Any) -> tuple[httpx.Client, Trail]:
        """A client on ``app`` with AgentAuth, and the trail of every exchange it makes."""
        trail: Trail = []
        client = make(app, API)
        client.auth = AgentAuth(self.signer)
        client.event_hooks = {
            "response": [
                lambda r: trail.append((r.request.method, str(r.request.url), r.status_code))
            ]
        }
        return client, trail


@pytest.fixture
def ap() -> KeySet:
    return KeySet.generate()


def example_resource(ap: KeySet, **config: Any) -> Starlette:
    settings = ResourceServerConfig(identifier=API, trusted_issuers=(PS,), **config)
    return create_resource_server(settings, key_source=StaticKeySource({AP: ap.jwks()}))


def covered(trail_request: httpx.Request) -> str:
    return trail_request.headers["signature-input"]


def test_v46_metadata_lists_the_defaults_and_the_configured_components(
    ap: KeySet, asgi_client: Callable[..., httpx.Client]
) -> None:
    client = asgi_client(
        example_resource(ap, additional_signature_components=("@target-uri",)), API
    )
    document = client.get(METADATA).json()
    assert document["additional_signature_components"] == [
        "@query",
        "content-digest",
        "@target-uri",
    ]
    parsed = ResourceMetadata.from_json(document, API)
    assert parsed.additional_signature_components == ("@query", "content-digest", "@target-uri")


def test_v46_a_per_route_requirement_is_published_too() -> None:
    base = ResourcePolicy(resource=API)
    routes = [None, base, base.with_(additional_components=("content-type",))]
    assert published_components(routes) == ("@query", "content-digest", "content-type")


@pytest.mark.parametrize("bad", ["Content-Type", "@bogus", "", "a b"])
def test_v46_a_required_component_must_be_a_component_name(bad: str) -> None:
    with pytest.raises(ValueError, match="additional"):
        ResourcePolicy(resource=API, additional_components=(bad,))
    with pytest.raises(ValueError, match="additional_signature_components"):
        ResourceServerConfig(identifier=API, additional_signature_components=(bad,))


def test_v04_v02_a_published_component_left_uncovered_is_invalid_input(
    ap: KeySet, asgi_client: Callable[..., httpx.Client]
) -> None:
    agent = Agent(ap)
    client = asgi_client(
        example_resource(ap, additional_signature_components=("@target-uri",)), API
    )
    url = f"{API}/whoami"
    headers = {"Signature-Key": "sig=" + Jwt(agent.signer.agent_token or "").serialize()}
    four = ["@method", "@authority", "@path", "signature-key"]
    headers.update(sign(HttpRequest("GET", url, headers), agent.signer.key, four))
    response = client.get(url, headers=headers)
    assert response.status_code == 401
    info = parse_signature_error(response.headers["signature-error"])
    assert info.error == "invalid_input"
    assert "@target-uri" in info.required_input
    assert set(four) <= set(info.required_input)


def test_ag05_v46_the_agent_reads_the_metadata_and_covers_what_it_lists(
    ap: KeySet, asgi_client: Callable[..., httpx.Client]
) -> None:
    agent = Agent(ap)
    app = example_resource(ap, additional_signature_components=("@target-uri",))
    client, trail = agent.client(asgi_client, app)
    response = client.get("/whoami")
    assert response.status_code == 200, response.text
    assert trail == [("GET", METADATA, 200), ("GET", f"{API}/whoami", 200)]  # no 401 first
    assert '"@target-uri"' in covered(response.request)
    client.get("/whoami?verbose=1")
    assert trail[-1] == ("GET", f"{API}/whoami?verbose=1", 200)  # metadata read once
    assert len(trail) == 3


def bare_resource(ap: KeySet, *components: str) -> Starlette:
    """A resource that requires ``components`` but publishes no metadata at all."""

    async def whoami(request: Request) -> Response:
        return JSONResponse({"ok": True})

    policy = ResourcePolicy(resource=API, additional_components=components)
    verifier = RequestVerifier(policy, StaticKeySource({AP: ap.jwks()}))
    return AAuthMiddleware(Starlette(routes=[Route("/whoami", whoami)]), verifier)


def test_v02_ag05_without_metadata_the_agent_adds_required_input_and_retries_once(
    ap: KeySet, asgi_client: Callable[..., httpx.Client]
) -> None:
    client, trail = Agent(ap).client(asgi_client, bare_resource(ap, "@target-uri"))
    response = client.get("/whoami")
    assert response.status_code == 200
    whoami = f"{API}/whoami"
    # The bare resource protects every path, its well-known one too: nothing to read there.
    assert trail == [("GET", METADATA, 401), ("GET", whoami, 401), ("GET", whoami, 200)]


def test_ag05_a_component_the_agent_cannot_cover_is_retried_once_then_returned(
    ap: KeySet, asgi_client: Callable[..., httpx.Client]
) -> None:
    client, trail = Agent(ap).client(asgi_client, bare_resource(ap, "x-trace-id"))
    response = client.get("/whoami")
    assert response.status_code == 401
    assert parse_signature_error(response.headers["signature-error"]).error == "invalid_input"
    whoami = f"{API}/whoami"
    assert trail == [("GET", METADATA, 401), ("GET", whoami, 401), ("GET", whoami, 401)]


# -- AG-11 --------------------------------------------------------------------------------------


def challenging_resource(resource_keys: KeySet, token_keys: KeySet, iss: str = API) -> Starlette:
    """A resource whose ``/data`` always answers with an auth-token challenge, its resource
    token signed by ``token_keys`` (the real resource signs with ``resource_keys``)."""

    async def metadata(request: Request) -> Response:
        return JSONResponse({"issuer": API, "jwks_uri": f"{API}/jwks.json"})

    async def jwks(request: Request) -> Response:
        return JSONResponse(resource_keys.jwks())

    async def data(request: Request) -> Response:
        key = request.headers["signature-key"]
        token = key.split('jwt="', 1)[1].rstrip('"')
        agent = decode_unverified(AGENT_TOKEN, token)
        resource_token = issue_resource_token(
            token_keys, iss=iss, aud=PS, agent=agent.sub, agent_jkt=agent.jkt, scope="data.read"
        )
        headers = build_challenge(AuthTokenRequirement(resource_token))
        return Response(status_code=401, headers=headers)

    return Starlette(
        routes=[
            Route("/.well-known/aauth-resource.json", metadata),
            Route("/jwks.json", jwks),
            Route("/data", data),
        ]
    )


def test_ag11_a_resource_token_not_signed_by_the_resource_is_refused_before_any_token_request(
    ap: KeySet, asgi_client: Callable[..., httpx.Client]
) -> None:
    real, forged = KeySet.generate(kid="rs-1"), KeySet.generate(kid="rs-1")
    client, trail = Agent(ap).client(asgi_client, challenging_resource(real, forged))
    with pytest.raises(InvalidToken, match="signature does not verify"):
        client.get("/data")
    # The JWKS was read, never the PS.
    assert trail == [
        ("GET", METADATA, 200),
        ("GET", f"{API}/data", 401),
        ("GET", f"{API}/jwks.json", 200),
    ]


def test_ag11_ag12_a_resource_token_from_another_resource_is_refused(
    ap: KeySet, asgi_client: Callable[..., httpx.Client]
) -> None:
    keys = KeySet.generate()
    app = challenging_resource(keys, keys, iss="https://elsewhere.example")
    client, trail = Agent(ap).client(asgi_client, app)
    with pytest.raises(InvalidToken):
        client.get("/data")
    assert all("ps.example" not in url for _, url, _ in trail)


def test_ag11_an_unknown_kid_refetches_the_jwks_once_then_refuses(
    ap: KeySet, asgi_client: Callable[..., httpx.Client]
) -> None:
    real, other = KeySet.generate(kid="rs-1"), KeySet.generate(kid="rs-2")
    client, trail = Agent(ap).client(asgi_client, challenging_resource(real, other))
    with pytest.raises(InvalidToken, match="not signed by a key"):
        client.get("/data")
    with pytest.raises(InvalidToken, match="not signed by a key"):
        client.get("/data")
    jwks = ("GET", f"{API}/jwks.json", 200)
    # First challenge: one fetch. Second: the cached JWKS lacks the kid, so one refetch.
    assert trail.count(jwks) == 2
    assert all("ps.example" not in url for _, url, _ in trail)


def test_ag05_a_failed_metadata_read_is_retried_later_a_good_one_kept_for_its_ttl() -> None:
    """A resource whose metadata was briefly unreadable is not treated as publishing nothing
    for good; one that published is not asked again on every request."""
    now = [0.0]
    directory = ResourceDirectory(ttl=3600, retry=60, clock=lambda: now[0])

    def read(status: int) -> tuple[str, ...]:
        flow = directory.components(API)
        try:
            request = next(flow)
        except StopIteration as done:
            return tuple(done.value)
        body = {"issuer": API, "additional_signature_components": ["@target-uri"]}
        reply = httpx.Response(status, json=body, request=request)
        try:
            flow.send(reply)
        except StopIteration as done:
            return tuple(done.value)
        raise AssertionError("the flow asked for more than the metadata")

    assert read(503) == ()
    now[0] = 30
    assert read(200) == ()  # still within the retry pause: not asked (no request made)
    now[0] = 61
    assert read(200) == ("@target-uri",)
    now[0] = 3000
    assert read(503) == ("@target-uri",)  # cached: not asked
    now[0] = 3700
    assert read(503) == ()
