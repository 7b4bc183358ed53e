"""The sweep (issue 9): every participant running as a real server on 127.0.0.1 (person
server, resource, agent provider), and malformed requests sent to every route of each: bad
methods, garbage and oversized headers, wrong content types, truncated and huge bodies,
NaN and Infinity, wrong JSON types, bad ``Signature-*`` headers.

For every answer: no 5xx; every 4xx carries an error code (problem+json ``error``, the
``Signature-Error`` header, or the code a person-facing page shows); and after every
rejected request the stored state is what it was (the person server's records, except the
failure counters and replay entries that exist to record rejected attempts; the resource's
data; the agent provider's keys). The number of requests sent is printed (``-s``) and
asserted to be at least :data:`MIN_REQUESTS`.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aauth_signing import JktJwt, RequestSigner

from aauth.agent.enrollment import enrollment_proof
from aauth.agent.signer import AgentSigner
from aauth.demo.printer import Printer
from aauth.demo.world import World, running_world
from aauth.headers import AuthTokenRequirement, InteractionRequirement, parse_requirement
from aauth.keys import generate_key
from aauth.person import PersonServerConfig
from aauth.server.person_server import create_person_server

from ..person.conftest import FAST_SCRYPT, csrf_of
from .test_matrix_servers import error_code

MIN_REQUESTS = 1000
PASSWORD = "correct horse battery staple"
PROTECTED = ("limit:", "replay")
"""Namespaces that record rejected attempts by design (failure counts, replay entries)."""
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO")


def _person_server(world: World, url: str) -> Any:
    """A person server on a file database (for snapshots), asking its person every time."""
    db = world.directory / "ps.db"
    world.extras["ps_db"] = db
    config = PersonServerConfig.from_json(
        {
            "identifier": url,
            "people": [{"id": "alice", "password": PASSWORD}],
            "db": str(db),
            "poll_interval": 0,
            "remember_consent": False,
            "allow_loopback_http": True,
            "password_scrypt_n": FAST_SCRYPT.n,
        }
    )
    return create_person_server(config)


@dataclass
class Sweep:
    """The running world, the credentials the sweep signs with, and the tally."""

    world: World
    http: httpx.Client
    signer: AgentSigner
    auth_token: str = ""
    pending_url: str = ""
    interaction: str = ""
    code: str = ""
    sent: int = 0
    counter: int = 0
    failures: list[str] = field(default_factory=list)

    # -- state -----------------------------------------------------------------------------

    def ps_state(self) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.world.extras["ps_db"]) as db:
            rows = db.execute(
                "SELECT namespace, key, value, version, expires_at FROM records ORDER BY 1, 2"
            ).fetchall()
        return [row for row in rows if not str(row[0]).startswith(PROTECTED)]

    def resource_state(self) -> Any:
        response = self.signed("GET", f"{self.world.resource}/data", token=self.auth_token)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def ap_state(self) -> Any:
        return self.http.get(f"{self.world.agent_provider}/.well-known/jwks.json").json()

    def state(self, participant: str) -> Any:
        """What ``participant`` keeps (the person server's records are always compared)."""
        if participant == "rs":
            return self.ps_state(), self.resource_state()
        if participant == "ap":
            return self.ps_state(), self.ap_state()
        return self.ps_state()

    # -- sending ---------------------------------------------------------------------------

    def unique(self, url: str) -> str:
        """``url`` with a fresh query, so no two signatures are alike (no replay hits)."""
        self.counter += 1
        return f"{url}{'&' if '?' in url else '?'}sweep={self.counter}"

    def signed(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        token: str | None = None,
        scheme: str = "jwt",
    ) -> httpx.Response:
        url = self.unique(url)
        headers = dict(headers or {})
        headers.update(self.signer.sign(method, url, headers, body, scheme=scheme, token=token))
        return self.http.request(method, url, content=body, headers=headers)

    def check(self, label: str, send: Callable[[], httpx.Response]) -> None:
        """Send one request; check the answer and that a refusal changed nothing."""
        participant = label.split(" ", 1)[0]
        before = self.state(participant)
        try:
            response = send()
        except httpx.TransportError as exc:
            self.failures.append(f"{label}: connection failed ({exc!r})")
            return
        self.sent += 1
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{label}: {status} {response.text[:200]}")
        elif status >= 400:
            if response.request.method == "HEAD":
                kind = response.headers.get("content-type", "")
                coded = kind.startswith(("application/problem+json", "text/html")) or (
                    "signature-error" in response.headers
                )
            else:
                coded = error_code(response) is not None
            if not coded:
                self.failures.append(f"{label}: {status} without an error code")
            after = self.state(participant)
            if after != before:
                changed = _changed(before, after)
                self.failures.append(f"{label}: {status} changed the stored state: {changed}")


def _changed(before: Any, after: Any) -> str:
    """What differs, for the failure message (the person server's changed keys)."""
    rows_before = before[0] if isinstance(before, tuple) else before
    rows_after = after[0] if isinstance(after, tuple) else after
    keys = {row[:2] for row in set(rows_before) ^ set(rows_after)}
    return ", ".join(sorted(f"{ns}/{key[:24]}" for ns, key in keys)) or "elsewhere"


@pytest.fixture(scope="module")
def sweep() -> Iterator[Sweep]:
    with (
        running_world(Printer(io.StringIO()), person_server=_person_server) as world,
        httpx.Client(timeout=30) as http,
    ):
        run = Sweep(world, http, world.signer)
        run.auth_token = _approved_token(run)
        run.pending_url, url, run.code = _pending(run)
        with httpx.Client(base_url=world.person_server) as browser:
            _sign_in(browser)
            page = browser.get(url, params={"code": run.code}, follow_redirects=True)
            assert page.status_code == 200, page.text
            run.interaction = page.url.path
        yield run


def _resource_token(run: Sweep, scope: str) -> str:
    body = json.dumps({"scope": scope}).encode()
    response = run.signed("POST", f"{run.world.resource}/authorize", body)
    assert response.status_code == 200, response.text
    return str(response.json()["resource_token"])


def _pending(run: Sweep) -> tuple[str, str, str]:
    """A token request waiting for the person: ``(pending URL, interaction URL, code)``."""
    rt = _resource_token(run, "data.read data.write")
    body = json.dumps({"resource_token": rt, "capabilities": ["interaction"]}).encode()
    response = run.signed("POST", f"{run.world.person_server}/token", body)
    assert response.status_code == 202, response.text
    requirement = parse_requirement(response.headers["aauth-requirement"], allow_loopback_http=True)
    assert isinstance(requirement, InteractionRequirement)
    assert requirement.url is not None
    return response.headers["location"], requirement.url, requirement.code


def _sign_in(browser: httpx.Client) -> None:
    form = browser.get("/login")
    data = {"username": "alice", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert browser.post("/login", data=data).status_code == 303


def _approved_token(run: Sweep) -> str:
    """An auth token for data.read and data.write, approved through the real pages."""
    location, url, code = _pending(run)
    with httpx.Client(base_url=run.world.person_server) as browser:
        _sign_in(browser)
        page = browser.get(url, params={"code": code}, follow_redirects=True)
        action = re.search(r"<form method=post action='([^']+)'", page.text)
        assert action is not None, page.text
        form = {"csrf": csrf_of(page.text), "code": code, "decision": "approve"}
        assert browser.post(action.group(1).replace("&amp;", "&"), data=form).status_code == 200
    answer = run.signed("GET", location)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["auth_token"])


# -- what is sent --------------------------------------------------------------------------------

GARBAGE_HEADERS: list[tuple[str, dict[str, Any]]] = [
    ("Signature-Input garbage", {"Signature-Input": "garbage"}),
    ("Signature garbage", {"Signature": "sig=:!!!:"}),
    ("Signature-Key garbage", {"Signature-Key": "(((("}),
    (
        "all three garbage",
        {"Signature-Input": "sig=(", "Signature": "sig=:x:", "Signature-Key": "sig=jwt"},
    ),
    ("Signature-Key unknown scheme", {"Signature-Key": 'sig=nope;jwt="a.b.c"'}),
    ("Signature-Key bad jwt", {"Signature-Key": 'sig=jwt;jwt="not-a-jwt"'}),
    ("Signature-Key bad hwk", {"Signature-Key": 'sig=hwk;kty="OKP";crv="X";x="!"'}),
    ("Signature-Input 8 KB", {"Signature-Input": "sig=(" + '"a" ' * 2000 + ")"}),
    ("header 64 KB", {"X-Garbage": "a" * 65536}),
    ("150 headers", {f"X-H{i}": "v" for i in range(150)}),
    ("latin-1 bytes", {"X-Garbage": b"\xff\xfe\x80", "Signature-Key": b'sig=jwt;jwt="\xe9"'}),
    ("control characters", {"Signature-Input": "sig=();created=1\x01"}),
    ("Host elsewhere", {"Host": "evil.example"}),
    ("Content-Type garbage", {"Content-Type": "\x7f/\x7f"}),
    ("Prefer garbage", {"Prefer": "wait=99999999999999999999, wait=-1"}),
    ("Cookie garbage", {"Cookie": "aauth_ps_session=" + "x" * 5000 + "; =; ;;"}),
    ("Accept garbage", {"Accept": "*/*;q=NaN"}),
    ("Origin elsewhere", {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}),
]

CONTENT_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=utf-16",
    "application/xml",
)

JSON_BODIES: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("truncated", b'{"resource_token": "a'),
    ("NaN", b'{"x": NaN}'),
    ("Infinity", b'{"x": Infinity}'),
    ("-Infinity", b'{"x": -Infinity}'),
    ("1e999", b'{"x": 1e999}'),
    ("lone surrogate", b'{"x": "\\ud800"}'),
    ("invalid UTF-8", b'{"x": "\xff\xfe"}'),
    ("UTF-16", '{"x": 1}'.encode("utf-16")),
    ("duplicate", b'{"x": 1, "x": 2}'),
    ("deep", b"[" * 5000 + b"]" * 5000),
    ("array", b"[]"),
    ("string", b'"x"'),
    ("null", b"null"),
    ("70 KB", b'{"x": "' + b"a" * 70_000 + b'"}'),
    ("2 MiB", b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'),
]

WRONG_TYPES: dict[str, list[str]] = {
    "/token": [
        "resource_token",
        "capabilities",
        "prompt",
        "justification",
        "platform",
        "device",
        "login_hint",
        "tenant",
        "domain_hint",
        "upstream_token",
    ],
    "/pending": ["action", "clarification_response", "resource_token"],
    "/authorize": ["scope"],
}
TYPE_VALUES: list[Any] = [None, True, 7, 1.5, [], ["x"], [1], {}, {"a": 1}, ""]


def _with(**change: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda headers: {**headers, **{k.replace("_", "-"): v for k, v in change.items()}}


def _edit(name: str, edit: Callable[[str], str]) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda headers: {**headers, name: edit(headers[name])}


CORRUPTIONS: list[tuple[str, Callable[[dict[str, str]], dict[str, str]]]] = [
    (
        "signature flipped",
        _edit("Signature", lambda v: v[:-6] + ("AA" if v[-6:-4] != "AA" else "BB") + v[-4:]),
    ),
    ("signature empty", _with(Signature="sig=::")),
    ("no Signature", _with(Signature="")),
    (
        "created long ago",
        _edit("Signature-Input", lambda v: re.sub(r"created=\d+", "created=1", v)),
    ),
    (
        "created in the future",
        _edit("Signature-Input", lambda v: re.sub(r"created=\d+", "created=99999999999", v)),
    ),
    ("created missing", _edit("Signature-Input", lambda v: re.sub(r";created=\d+", "", v))),
    (
        "signature-key not covered",
        _edit("Signature-Input", lambda v: v.replace(' "signature-key"', "")),
    ),
    ("@path not covered", _edit("Signature-Input", lambda v: v.replace('"@path" ', ""))),
    ("label mismatch", _edit("Signature-Input", lambda v: "other" + v[3:])),
    ("two labels", _edit("Signature-Input", lambda v: f"{v}, x{v}")),
    ("alg parameter", _edit("Signature-Input", lambda v: v + ';alg="rsa-v1_5-sha256"')),
    ("keyid parameter", _edit("Signature-Input", lambda v: v + ';keyid="other"')),
    (
        "Signature-Key of another scheme",
        _edit("Signature-Key", lambda v: v.replace("sig=jwt", "sig=hwk")),
    ),
    ("token truncated", _edit("Signature-Key", lambda v: v[:40] + '"')),
    ("Content-Digest wrong", _with(Content_Digest="sha-256=:AAAA:")),
    ("Content-Digest garbage", _with(Content_Digest="md5=:x:, ((")),
]
"""Each way a good set of ``Signature-*`` headers is spoiled (V-01 … V-50 territory)."""


def _routes(run: Sweep) -> list[tuple[str, str, str]]:
    """``(participant, method, URL)`` of every route the participants serve."""
    ps, rs, ap = run.world.person_server, run.world.resource, run.world.agent_provider
    return [
        ("ps", "GET", f"{ps}/.well-known/aauth-person.json"),
        ("ps", "GET", f"{ps}/.well-known/aauth-person"),
        ("ps", "GET", f"{ps}/.well-known/jwks.json"),
        ("ps", "POST", f"{ps}/token"),
        ("ps", "GET", run.pending_url),
        ("ps", "POST", run.pending_url),
        ("ps", "DELETE", run.pending_url),
        ("ps", "GET", f"{ps}/login"),
        ("ps", "POST", f"{ps}/login"),
        ("ps", "POST", f"{ps}/logout"),
        ("ps", "GET", f"{ps}/interact"),
        ("ps", "GET", f"{ps}{run.interaction}"),
        ("ps", "POST", f"{ps}{run.interaction}"),
        ("ps", "POST", f"{ps}/mission"),
        ("ps", "POST", f"{ps}/interaction"),
        ("ps", "POST", f"{ps}/revoke"),
        ("ps", "GET", f"{ps}/missions"),
        ("ps", "POST", f"{ps}/missions/proposal/unknown"),
        ("ps", "POST", f"{ps}/missions/{'A' * 43}"),
        ("ps", "GET", f"{ps}/no/such/path"),
        ("rs", "GET", f"{rs}/.well-known/aauth-resource.json"),
        ("rs", "GET", f"{rs}/.well-known/aauth-resource"),
        ("rs", "GET", f"{rs}/.well-known/jwks.json"),
        ("rs", "GET", f"{rs}/public/hello"),
        ("rs", "GET", f"{rs}/whoami"),
        ("rs", "GET", f"{rs}/data"),
        ("rs", "POST", f"{rs}/data"),
        ("rs", "POST", f"{rs}/authorize"),
        ("rs", "POST", f"{rs}/revoke"),
        ("rs", "GET", f"{rs}/no/such/path"),
        ("ap", "GET", f"{ap}/.well-known/aauth-agent.json"),
        ("ap", "GET", f"{ap}/.well-known/aauth-agent"),
        ("ap", "GET", f"{ap}/.well-known/jwks.json"),
        ("ap", "POST", f"{ap}/agent-token"),
        ("ap", "GET", f"{ap}/no/such/path"),
    ]


def _token_for(run: Sweep, url: str) -> str | None:
    """What a signed request to ``url`` presents: the auth token at the resource's data."""
    return run.auth_token if url.startswith(f"{run.world.resource}/data") else None


def _send_raw(run: Sweep, method: str, url: str, headers: dict[str, Any], body: bytes | None):
    return lambda: run.http.request(method, run.unique(url), headers=headers, content=body)


def _send_signed(
    run: Sweep, method: str, url: str, body: bytes | None, headers: dict[str, str] | None = None
) -> Callable[[], httpx.Response]:
    token = _token_for(run, url)
    return lambda: run.signed(method, url, body, headers, token=token)


def test_sweep(sweep: Sweep) -> None:
    run = sweep
    for participant, method, url in _routes(run):
        where = f"{participant} {method} {url.split('/', 3)[3]}"
        for other in METHODS:
            run.check(f"{where}: method {other}", _send_raw(run, other, url, {}, None))
            cancels = other == "DELETE" and url == run.pending_url  # kept for the rest
            if other not in ("GET", "HEAD", "OPTIONS", "TRACE") and not cancels:
                run.check(f"{where}: signed method {other}", _send_signed(run, other, url, b"{}"))
        body = b"{}" if method == "POST" else None
        for name, headers in GARBAGE_HEADERS:
            run.check(f"{where}: {name}", _send_raw(run, method, url, headers, body))
        for kind in CONTENT_TYPES:
            typed = {"Content-Type": kind}
            run.check(f"{where}: {kind}", _send_raw(run, method, url, typed, b"a=1&b"))
            run.check(f"{where}: signed {kind}", _send_signed(run, method, url, b"{}", typed))
        if method != "POST":
            continue
        for name, raw in JSON_BODIES:
            json_type = {"Content-Type": "application/json"}
            run.check(f"{where}: body {name}", _send_raw(run, method, url, json_type, raw))
            run.check(f"{where}: signed body {name}", _send_signed(run, method, url, raw))
        for name, corrupt in CORRUPTIONS:

            def spoiled(url: str = url, method: str = method, corrupt: Any = corrupt) -> Any:
                target = run.unique(url)
                good = run.signer.sign(method, target, {}, b"{}", token=_token_for(run, url))
                return run.http.request(method, target, headers=corrupt(good), content=b"{}")

            run.check(f"{where}: {name}", spoiled)
        path = "/pending" if url == run.pending_url else "/" + url.split("/", 3)[3]
        for member in WRONG_TYPES.get(path, []):
            for value in TYPE_VALUES:
                raw = json.dumps({"resource_token": "x", member: value}).encode()
                run.check(f"{where}: {member}={value!r}", _send_signed(run, method, url, raw))
    _pages(run)
    _enrollment(run)
    print(f"\nsweep: {run.sent} requests sent")
    assert not run.failures, "\n".join(run.failures[:50])
    assert run.sent >= MIN_REQUESTS


def _pages(run: Sweep) -> None:
    """Forms posted wrongly to the person-facing pages (signed in, with the right tokens
    where the malformation is elsewhere)."""
    ps = run.world.person_server
    with httpx.Client(base_url=ps) as browser:
        _sign_in(browser)
        session_csrf = csrf_of(browser.get("/interact").text)
        forms: list[tuple[str, str]] = [
            ("too many fields", "&".join(f"f{i}=x" for i in range(40))),
            ("bad percent-encoding", "csrf=%zz&code=%ff%fe&decision=approve"),
            ("invalid UTF-8", "csrf=%C3%28&code=%80&decision=approve"),
            ("NUL bytes", "csrf=%00&code=%00&decision=%00"),
            ("a long field", "code=" + "A" * 5000),
            ("17 KB", "x=" + "a" * 17_000),
            ("the session's token, no decision", f"csrf={session_csrf}&code={run.code}"),
            ("the session's token, bad code", f"csrf={session_csrf}&code=!!&decision=approve"),
            ("unicode", "csrf=é&code=𝔘&decision=approve"),
        ]
        targets = ("/login", "/logout", run.interaction)
        kinds = ("application/x-www-form-urlencoded", "text/plain")
        for target in targets:
            for name, form in forms:
                for kind in kinds:
                    encoded = form.encode("utf-8")

                    def post(target: str = target, kind: str = kind, data: bytes = encoded):
                        return browser.post(target, content=data, headers={"Content-Type": kind})

                    run.check(f"ps page {target}: {name} as {kind}", post)
        for query in (
            {"code": "A" * 5000},
            {"code": "ZZZZ-ZZZZ", "callback": "javascript:alert(1)"},
            {"code": run.code, "callback": "http://evil.example/x"},
            {"code": "\x00\x01"},
            {"next": "//evil.example"},
            {"code": "".join(string.punctuation)},
        ):
            for target in ("/interact", run.interaction, "/login"):

                def get(target: str = target, query: dict[str, str] = query):
                    return browser.get(target, params=query)

                run.check(f"ps page GET {target}?{list(query)}", get)


def _enrollment(run: Sweep) -> None:
    """The agent provider's enrollment with proofs it must refuse."""
    url = f"{run.world.agent_provider}/agent-token"
    stranger, instance = generate_key(), generate_key()
    proofs = [
        ("an unregistered key", enrollment_proof(stranger, instance.public_key())),
        ("a proof for another instance", enrollment_proof(stranger, generate_key().public_key())),
        ("a proof that is not a JWT", "not.a.jwt"),
    ]
    for name, proof in proofs:
        for body in (None, b"{}", b'{"x": NaN}'):

            def enroll(proof: str = proof, body: bytes | None = body) -> httpx.Response:
                target = run.unique(url)
                headers = RequestSigner(instance, JktJwt(proof)).sign("POST", target, None, body)
                return run.http.post(target, headers=headers, content=body)

            run.check(f"ap enrollment with {name}, body {body!r}", enroll)
    for scheme in ("jwt", "hwk"):
        run.check(
            f"ap enrollment signed with {scheme}",
            lambda scheme=scheme: run.signed("POST", url, None, scheme=scheme),
        )


def test_challenge_answers_carry_codes_too(sweep: Sweep) -> None:
    """A protected route asked without the right token is a 401 challenge, with a code."""
    response = sweep.signed("GET", f"{sweep.world.resource}/data")
    assert response.status_code == 401
    requirement = parse_requirement(response.headers["aauth-requirement"], allow_loopback_http=True)
    assert isinstance(requirement, AuthTokenRequirement)
    assert error_code(response) is not None
