"""The access server in process (httpx.ASGITransport, issuer keys pinned with a
StaticKeySource): every refusal of the token endpoint, the pending URL and the pages."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from aauth_signing import Hwk, JwksUri, RequestSigner, SigningKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aauth.access import AccessServerConfig
from aauth.headers import InteractionRequirement, parse_requirement
from aauth.keys import KeySet, generate_key, thumbprint
from aauth.keysource import StaticKeySource
from aauth.person.passwords import hash_password
from aauth.server.access_server import SESSION_COOKIE, create_access_server
from aauth.store import SQLiteStore
from aauth.tokens import decode_unverified, issue_agent_token, issue_resource_token
from aauth.tokens.verifier import AUTH_TOKEN
from aauth.tokens.wire import PERSON_DWK

AS = "https://as.example"
PS = "https://ps.example"
OTHER_PS = "https://other-ps.example"
AP = "https://ap.example"
RESOURCE = "https://docs.example"
AGENT = "aauth:bot@ap.example"
OWNER = {"id": "o", "password_hash": hash_password("pw")}
"""The person who may pay and approve on the AS's pages (hashed once for the module)."""
CSRF = re.compile(r"name=csrf value='([^']+)'")

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@dataclass
class World:
    ps_keys: KeySet = field(default_factory=KeySet.generate)
    ap_keys: KeySet = field(default_factory=KeySet.generate)
    resource_keys: KeySet = field(default_factory=KeySet.generate)
    agent_key: SigningKey = field(default_factory=generate_key)
    store: SQLiteStore = field(default_factory=SQLiteStore)

    def app(self, clock: Callable[[], float] = time.time, **config: Any) -> Any:
        settings = {"identifier": AS, "resources": [RESOURCE], "trusted_person_servers": [PS]}
        keys = StaticKeySource(
            {
                PS: self.ps_keys.jwks(),
                OTHER_PS: self.ps_keys.jwks(),
                AP: self.ap_keys.jwks(),
                RESOURCE: self.resource_keys.jwks(),
            }
        )
        return create_access_server(
            AccessServerConfig.from_json({**settings, **config}),
            self.store,
            key_source=keys,
            clock=clock,
        )

    def agent_token(self, **changes: Any) -> str:
        values: dict[str, Any] = {"iss": AP, "sub": AGENT, "cnf_jwk": self.agent_key.public_key()}
        values["ps"] = PS
        values.update(changes)
        return issue_agent_token(self.ap_keys, **values)

    def resource_token(self, **changes: Any) -> str:
        values: dict[str, Any] = {
            "iss": RESOURCE,
            "aud": AS,
            "agent": AGENT,
            "agent_jkt": thumbprint(self.agent_key.public_key()),
            "scope": "data.read",
        }
        values.update(changes)
        return issue_resource_token(self.resource_keys, **values)

    def body(self, **changes: Any) -> dict[str, Any]:
        return {
            "resource_token": self.resource_token(),
            "agent_token": self.agent_token(),
            **changes,
        }


async def call(
    app: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    signer: tuple[SigningKey, Any] | None = None,
    raw: bytes | None = None,
) -> httpx.Response:
    url = f"{AS}{path}"
    content = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    headers = {"content-type": "application/json"} if content is not None else {}
    if signer is not None:
        headers.update(RequestSigner(*signer).sign(method, url, headers, content))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.request(method, url, headers=headers, content=content)


class Browser:
    """A person's browser on the in-process AS: its session cookie, once signed in."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.session: str | None = None

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if self.session is not None:
            sent["cookie"] = f"{SESSION_COOKIE}={self.session}"

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url=AS) as client:
                return await client.request(method, path, data=form, headers=sent)

        return run(send())

    def sign_in(self, username: str = "o", password: str = "pw") -> Browser:
        form = {"username": username, "password": password, "next": "/interact"}
        response = self.request("POST", "/login", form)
        assert response.status_code == 303, response.text
        self.session = response.cookies[SESSION_COOKIE]
        return self

    def csrf(self, path: str) -> str:
        """The CSRF token in the form of the page at ``path``."""
        page = self.request("GET", path)
        found = CSRF.search(page.text)
        assert found is not None, page.text
        return found.group(1)


def as_ps(world: World, ps: str = PS) -> tuple[SigningKey, Any]:
    return world.ps_keys.current, JwksUri(ps, PERSON_DWK, world.ps_keys.current_kid)


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    yield world
    world.store.close()


def problem(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    return body


def test_as01_metadata_with_and_without_suffix(world: World) -> None:
    app = world.app()
    for path in ("/.well-known/aauth-access.json", "/.well-known/aauth-access"):
        document = run(call(app, "GET", path)).json()
        assert document["issuer"] == AS
        assert document["token_endpoint"] == f"{AS}/token"
        assert document["jwks_uri"] == f"{AS}/.well-known/jwks.json"


def test_as05_granted_at_once_without_steps(world: World) -> None:
    response = run(call(world.app(), "POST", "/token", world.body(), signer=as_ps(world)))
    assert response.status_code == 200, response.text
    claims = decode_unverified(AUTH_TOKEN, response.json()["auth_token"])
    assert (claims.iss, claims.raw["dwk"], claims.aud, claims.agent) == (
        AS,
        "aauth-access.json",
        RESOURCE,
        AGENT,
    )
    assert claims.jkt == thumbprint(world.agent_key.public_key())
    assert claims.exp - claims.iat <= 3600


def test_as02_unsigned_and_wrongly_signed_requests(world: World) -> None:
    app = world.app()
    unsigned = run(call(app, "POST", "/token", world.body()))
    assert unsigned.status_code == 401
    assert "signature-error" in unsigned.headers
    hwk = (world.agent_key, Hwk.from_public_key(world.agent_key.public_key()))
    assert (
        "unsupported_scheme"
        in run(call(app, "POST", "/token", world.body(), signer=hwk)).headers["signature-error"]
    )
    wrong_dwk = (world.ps_keys.current, JwksUri(PS, "aauth-agent.json", world.ps_keys.current_kid))
    response = run(call(app, "POST", "/token", world.body(), signer=wrong_dwk))
    assert "invalid_key" in response.headers["signature-error"]
    forged = (generate_key(), JwksUri(PS, PERSON_DWK, world.ps_keys.current_kid))
    response = run(call(app, "POST", "/token", world.body(), signer=forged))
    assert response.status_code == 401


def test_phase11_untrusted_ps_is_refused_before_its_keys_are_looked_up(world: World) -> None:
    response = run(call(world.app(), "POST", "/token", world.body(), signer=as_ps(world, OTHER_PS)))
    body = problem(response, 403, "insufficient_trust")
    assert OTHER_PS in body["detail"]
    assert "signature-error" not in response.headers


def test_a_replayed_ps_request_is_refused(world: World) -> None:
    app = world.app()
    url, content = f"{AS}/token", json.dumps(world.body()).encode()
    headers = {"content-type": "application/json"}
    headers.update(RequestSigner(*as_ps(world)).sign("POST", url, headers, content))

    async def twice() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            return [await client.post(url, headers=headers, content=content) for _ in range(2)]

    first, second = run(twice())
    assert first.status_code == 200
    assert second.status_code == 401


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"not json", "JSON"),
        (b"[1]", "JSON object"),
        (b'{"resource_token": "x"}', "agent_token"),
    ],
)
def test_malformed_bodies(world: World, raw: bytes, words: str) -> None:
    response = run(call(world.app(), "POST", "/token", raw=raw, signer=as_ps(world)))
    assert words in problem(response, 400, "invalid_request")["detail"]


# -- strict JSON (json_body): never a 500, never a value two parsers read differently --------

_NOT_STRICT = [
    b'{"sub": "\\ud800", "name": "Alice"}',
    b'{"sub": "ps-sub", "name": "Alice", "sub": "someone-else"}',
    b'{"sub": "ps-sub", "name": "Alice", "extra": NaN}',
]


@pytest.mark.parametrize("raw", _NOT_STRICT)
def test_as07_v41_a_claims_answer_that_is_not_strict_json_is_invalid_request(
    world: World, raw: bytes
) -> None:
    app = world.app(required_claims=["sub", "name"])
    first = run(call(app, "POST", "/token", world.body(), signer=as_ps(world)))
    path = first.headers["location"].removeprefix(AS)
    problem(run(call(app, "POST", path, raw=raw, signer=as_ps(world))), 400, "invalid_request")
    claims = {"sub": "ps-sub", "name": "Alice"}
    granted = run(call(app, "POST", path, claims, signer=as_ps(world)))
    assert granted.status_code == 200, granted.text
    assert decode_unverified(AUTH_TOKEN, granted.json()["auth_token"]).raw["name"] == "Alice"


@pytest.mark.parametrize("extra", [b', "x": NaN}', b', "x": "\\udfff"}', b', "x": 1e999}'])
def test_as02_v41_a_token_request_that_is_not_strict_json_is_invalid_request(
    world: World, extra: bytes
) -> None:
    raw = json.dumps(world.body()).encode()[:-1] + extra
    problem(
        run(call(world.app(), "POST", "/token", raw=raw, signer=as_ps(world))),
        400,
        "invalid_request",
    )


def test_as02_a_token_request_with_two_agent_tokens_is_invalid_request(world: World) -> None:
    """Two ``agent_token`` members: the PS may have meant the first, Python reads the last."""
    body = world.body()
    raw = (
        json.dumps(body).encode()[:-1]
        + b', "agent_token": '
        + json.dumps(body["agent_token"]).encode()
        + b"}"
    )
    problem(
        run(call(world.app(), "POST", "/token", raw=raw, signer=as_ps(world))),
        400,
        "invalid_request",
    )


def test_an_unwritable_store_is_a_503_and_grants_nothing(world: World) -> None:
    """A read-only or full SQLite file fails closed like an unreachable Redis: 503
    ``temporarily_unavailable`` with Retry-After, not a 500, and no token."""
    app = world.app()
    world.store._db.execute("PRAGMA query_only = ON")
    response = run(call(app, "POST", "/token", world.body(), signer=as_ps(world)))
    problem(response, 503, "temporarily_unavailable")
    assert response.headers["retry-after"] == "2"
    assert "auth_token" not in response.json()


@pytest.mark.parametrize("odd", ["%00", "a" * 5000, "%ED%A0%80", "%F0%9F%98%80", "x%3Ay%00z"])
def test_v41_an_odd_pending_id_is_404_never_500(world: World, odd: str) -> None:
    """NUL, an overlong id, a lone surrogate's UTF-8, an emoji, a store separator: a key
    that was never stored, so 404 ``not_found`` for the trusted PS (and nothing stored)."""
    app = world.app(required_claims=["sub"])
    for method in ("GET", "POST", "DELETE"):
        body = {"sub": "x"} if method == "POST" else None
        response = run(call(app, method, f"/pending/{odd}", body, signer=as_ps(world)))
        problem(response, 404, "not_found")


SUBAGENT = "aauth:bot+search@ap.example"


def test_as04_a_sub_agent_through_its_parent(world: World) -> None:
    """AS-04: the token is the sub-agent's, bound to its key, with the parent in ``act``."""
    child_key = generate_key()
    child = world.agent_token(sub=SUBAGENT, cnf_jwk=child_key.public_key(), parent_agent=AGENT)
    child_jkt = thumbprint(child_key.public_key())
    token = world.resource_token(agent=SUBAGENT, agent_jkt=child_jkt)
    body = world.body(resource_token=token, subagent_token=child)
    granted = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    assert granted.status_code == 200, granted.text
    claims = decode_unverified(AUTH_TOKEN, granted.json()["auth_token"])
    assert (claims.agent, claims.jkt) == (SUBAGENT, child_jkt)
    assert claims.act is not None
    assert claims.act.agent == AGENT
    bound_to_parent = world.body(
        resource_token=world.resource_token(agent=SUBAGENT), subagent_token=child
    )
    response = run(call(world.app(), "POST", "/token", bound_to_parent, signer=as_ps(world)))
    assert "agent_jkt" in problem(response, 400, "invalid_resource_token")["detail"]


def test_as04_a_sub_agent_of_another_parent_is_refused(world: World) -> None:
    stranger = world.agent_token(
        sub="aauth:other+x@ap.example", parent_agent="aauth:other@ap.example"
    )
    body = world.body(subagent_token=stranger)
    response = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    assert "AS-04" in problem(response, 400, "invalid_agent_token")["detail"]
    parent_as_sub = world.body(agent_token=world.agent_token(sub=SUBAGENT, parent_agent=AGENT))
    response = run(call(world.app(), "POST", "/token", parent_as_sub, signer=as_ps(world)))
    problem(response, 400, "invalid_request")


def test_as04_a_sub_agent_of_another_person_server_is_refused(world: World) -> None:
    """Only the agent's own PS may ask for it: a sub-agent token naming another PS is
    refused as the parent's would be (as the PS refuses it, PS-07)."""
    child_key = generate_key()
    child = world.agent_token(
        sub=SUBAGENT, cnf_jwk=child_key.public_key(), parent_agent=AGENT, ps=OTHER_PS
    )
    token = world.resource_token(agent=SUBAGENT, agent_jkt=thumbprint(child_key.public_key()))
    body = world.body(resource_token=token, subagent_token=child)
    response = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    assert OTHER_PS in problem(response, 400, "invalid_agent_token")["detail"]


def test_agent_token_checks(world: World) -> None:
    app = world.app()
    other = world.body(agent_token=world.agent_token(ps=OTHER_PS))
    response = run(call(app, "POST", "/token", other, signer=as_ps(world)))
    assert OTHER_PS in problem(response, 400, "invalid_agent_token")["detail"]
    expired = world.body(agent_token=world.agent_token(now=time.time() - 90000))
    response = run(call(app, "POST", "/token", expired, signer=as_ps(world)))
    problem(response, 400, "expired_agent_token")
    garbage = world.body(agent_token="eyJ.e30.c2ln")
    problem(
        run(call(app, "POST", "/token", garbage, signer=as_ps(world))), 400, "invalid_agent_token"
    )


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"iss": "https://mail.example"}, "invalid_resource_token", "does not use this AS"),
        ({"aud": PS}, "invalid_resource_token", "'aud'"),
        ({"agent": "aauth:other@ap.example"}, "invalid_resource_token", "'agent'"),
        ({"now": time.time() - 3600}, "expired_resource_token", "expired"),
    ],
)
def test_as03_resource_token_checks(
    world: World, change: dict[str, Any], error: str, words: str
) -> None:
    keys = world.resource_keys if "iss" not in change else KeySet.generate()
    token = issue_resource_token(
        keys,
        **{
            "iss": RESOURCE,
            "aud": AS,
            "agent": AGENT,
            "agent_jkt": thumbprint(world.agent_key.public_key()),
            "scope": "data.read",
            **change,
        },
    )
    body = world.body(resource_token=token)
    response = run(call(world.app(), "POST", "/token", body, signer=as_ps(world)))
    assert words in problem(response, 400, error)["detail"]


def _pending(world: World, app: Any) -> str:
    response = run(call(app, "POST", "/token", world.body(), signer=as_ps(world)))
    assert response.status_code == 202, response.text
    location: str = response.headers["location"]
    return location.removeprefix(AS)


def test_as07_claims_step_then_a_directed_sub(world: World) -> None:
    """AS-07 and AS-08's no-copied-``sub`` rule: the AS derives its own ``sub``."""
    app = world.app(required_claims=["sub", "name"])
    first = run(call(app, "POST", "/token", world.body(), signer=as_ps(world)))
    assert first.status_code == 202
    assert first.headers["aauth-requirement"] == "requirement=claims"
    assert first.json()["required_claims"] == ["sub", "name"]
    path = first.headers["location"].removeprefix(AS)
    missing = run(call(app, "POST", path, {"sub": "ps-sub"}, signer=as_ps(world)))
    assert "name" in problem(missing, 400, "invalid_request")["detail"]
    with_action = {"action": "x", "sub": "s", "name": "n"}
    problem(run(call(app, "POST", path, with_action, signer=as_ps(world))), 400, "invalid_request")
    claims = {"sub": "ps-sub", "name": "Alice"}
    granted = run(call(app, "POST", path, claims, signer=as_ps(world)))
    assert granted.status_code == 200, granted.text
    token = decode_unverified(AUTH_TOKEN, granted.json()["auth_token"])
    assert token.sub not in (None, "ps-sub")
    assert token.raw["name"] == "Alice"
    assert run(call(app, "GET", path, signer=as_ps(world))).status_code == 410


def test_clarification_step_needs_an_action(world: World) -> None:
    app = world.app(clarification="Why?")
    path = _pending(world, app)
    polled = run(call(app, "GET", path, signer=as_ps(world)))
    assert polled.headers["aauth-requirement"] == "requirement=clarification"
    assert polled.json()["clarification"] == "Why?"
    bare = {"clarification_response": "Because."}
    problem(run(call(app, "POST", path, bare, signer=as_ps(world))), 400, "invalid_request")
    answer = {"action": "clarification_response", "clarification_response": "Because."}
    assert run(call(app, "POST", path, answer, signer=as_ps(world))).status_code == 200


def test_v32_pending_url_belongs_to_its_ps_and_ends_in_410(world: World) -> None:
    app = world.app(
        interaction=True,
        people=[{"id": "o", "password": "pw"}],
        trusted_person_servers=[PS, OTHER_PS],
    )
    path = _pending(world, app)
    assert run(call(app, "GET", "/pending/nope", signer=as_ps(world))).status_code == 404
    assert run(call(app, "GET", path, signer=as_ps(world, OTHER_PS))).status_code == 404
    answer = run(call(app, "POST", path, {"sub": "x"}, signer=as_ps(world)))
    problem(answer, 400, "invalid_request")
    assert run(call(app, "DELETE", path, signer=as_ps(world))).status_code == 204
    problem(run(call(app, "GET", path, signer=as_ps(world))), 410, "gone")


def test_as06_payment_is_a_402_with_location(world: World) -> None:
    app = world.app(payment="1 USD", people=[OWNER])
    response = run(call(app, "POST", "/token", world.body(), signer=as_ps(world)))
    assert response.status_code == 402
    assert response.headers["location"].startswith(f"{AS}/pending/")
    assert response.headers["www-authenticate"].startswith("Payment ")
    assert "requirement=interaction" in response.headers["aauth-requirement"]


def test_pages_refuse_bad_codes_and_missing_sessions(world: World) -> None:
    app = world.app(payment="1 USD", interaction=True, people=[OWNER])
    for page in ("/pay", "/interact"):
        login = run(call(app, "GET", f"{page}?code=AAAA-AAAA"))
        assert login.status_code == 303
        assert (
            login.headers["location"] == f"/login?{urlencode({'next': page + '?code=AAAA-AAAA'})}"
        )
    page = Browser(app).sign_in().request("GET", "/pay?code=AAAA-AAAA")
    assert page.status_code == 410
    assert "unknown code" in page.text
    assert "<code id=error>invalid_code</code>" in page.text
    decide = run(call(app, "POST", "/interact", raw=b"code=x&decision=approve"))
    assert decide.status_code == 401
    assert run(call(app, "GET", "/nothing")).json()["error"] == "not_found"
    assert run(call(app, "GET", "/pay/x")).status_code == 404


def test_v38_wrong_codes_are_rate_limited(world: World) -> None:
    browser = Browser(world.app(payment="1 USD", people=[OWNER])).sign_in()
    statuses = [browser.request("GET", "/pay?code=AAAA-AAAA").status_code for _ in range(11)]
    assert statuses[:10] == [410] * 10
    assert statuses[10] == 429


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=15), inner, max_size=4)
    ),
    max_leaves=8,
)
_BODIES = st.one_of(
    st.binary(max_size=64),
    _JSON.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(
        st.sampled_from(["resource_token", "agent_token", "upstream_token", "sub", "action"]),
        _JSON,
        max_size=4,
    ).map(lambda value: json.dumps(value).encode()),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=_BODIES)
def test_any_token_request_body_gets_a_4xx_never_a_500(world: World, raw: bytes) -> None:
    response = run(call(world.app(), "POST", "/token", raw=raw, signer=as_ps(world)))
    assert 400 <= response.status_code < 500, response.text
    assert isinstance(response.json()["error"], str)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=_BODIES)
def test_any_answer_on_a_pending_url_gets_a_4xx_or_moves_on(world: World, raw: bytes) -> None:
    app = world.app(required_claims=["sub"])
    path = _pending(world, app)
    response = run(call(app, "POST", path, raw=raw, signer=as_ps(world)))
    assert response.status_code in (200, 400), response.text


def test_v38_wrong_codes_posted_count_too(world: World) -> None:
    app = world.app(payment="1 USD", people=[OWNER])
    browser = Browser(app).sign_in()
    form = {"code": "AAAA-AAAA", "csrf": browser.csrf(f"/pay?code={_payment_code(world, app)}")}
    statuses = [browser.request("POST", "/pay", form).status_code for _ in range(11)]
    assert statuses[:10] == [410] * 10
    assert statuses[10] == 429


def test_v39_a_code_after_its_request_expired(world: World) -> None:
    now = [time.time()]
    app = world.app(clock=lambda: now[0], payment="1 USD", pending_lifetime=60, people=[OWNER])
    first = run(call(app, "POST", "/token", world.body(), signer=as_ps(world)))
    requirement = parse_requirement(first.headers["aauth-requirement"], allow_loopback_http=True)
    assert isinstance(requirement, InteractionRequirement)
    now[0] += 61
    page = Browser(app).sign_in().request("GET", f"/pay?code={requirement.code}")
    assert page.status_code == 408
    assert "expired" in page.text


def _payment_code(world: World, app: Any) -> str:
    from aauth.headers import InteractionRequirement, parse_requirement

    response = run(call(app, "POST", "/token", world.body(), signer=as_ps(world)))
    requirement = parse_requirement(response.headers["aauth-requirement"])
    assert isinstance(requirement, InteractionRequirement)
    return requirement.code


def test_a_relaying_ps_gets_the_person_back_at_its_callback(world: World) -> None:
    """-10 "Interaction Chaining": a PS relaying this AS's page names its per-flow callback;
    the AS sends the person there when the step is done."""
    app = world.app(payment="1 USD", people=[OWNER])
    code = _payment_code(world, app)
    callback = f"{PS}/interact/flow-1/callback"
    browser = Browser(app).sign_in()
    page = browser.request("GET", "/pay?" + urlencode({"code": code, "callback": callback}))
    assert page.status_code == 200, page.text
    assert escape(urlencode({"callback": callback})) in page.text  # the form posts it back
    form = {"code": code, "csrf": browser.csrf(f"/pay?code={code}")}
    paid = browser.request("POST", "/pay?" + urlencode({"callback": callback}), form)
    assert paid.status_code == 303
    assert paid.headers["location"] == callback


def test_a_callback_off_the_person_servers_origin_is_refused(world: World) -> None:
    """§H.5: no open redirect: the callback must be on the origin of the PS that asked."""
    app = world.app(payment="1 USD", people=[OWNER])
    code = _payment_code(world, app)
    browser = Browser(app).sign_in()
    for callback in ("https://evil.example/cb", f"{OTHER_PS}/cb", "javascript:alert(1)"):
        page = browser.request("GET", "/pay?" + urlencode({"code": code, "callback": callback}))
        assert page.status_code == 400, callback
    form = {"code": code, "csrf": browser.csrf(f"/pay?code={code}")}
    refused = browser.request("POST", "/pay?callback=https://evil.example/cb", form)
    assert refused.status_code == 400
    assert browser.request("GET", f"/pay?code={code}").status_code == 200  # still payable
