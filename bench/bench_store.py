"""Scale-out: the person server and the resource on Redis against the embedded defaults, in
one run, as ratios (docs/deploy.md quotes them).

1. token-endpoint throughput (an auto-approved ``POST /token``), Redis ÷ SQLite;
2. approval → token latency: an agent long-polling one instance is woken by a decision
   written on another (Redis pub/sub) ÷ the in-process wake-up of one SQLite instance;
3. pending-URL poll latency with 100 k stored pending requests ÷ with 1 k (must stay flat);
4. resource verification throughput with the replay guard on Redis ÷ in memory;
5. pending-URL polls per second with 1, 2 and 4 uvicorn workers on Redis (``aauth serve``),
   ÷ 1 worker, under a load of concurrent keep-alive clients. The load generator runs on the
   same machine: on 2 cores it competes with the workers, so this shows what sharing costs
   rather than how far the workers scale on a larger host.

Needs Debian's ``redis-server`` on PATH; without it the benchmark says so and does nothing.
Run: .venv/bin/python bench/bench_store.py
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from aauth_signing import HttpRequest

from aauth.agent.signer import AgentSigner
from aauth.keys import KeySet, generate_key
from aauth.keysource import StaticKeySource
from aauth.pending import PendingRequests, PendingState
from aauth.person import AutoApproval, PersonServerConfig
from aauth.person.persons import Person, hash_password
from aauth.replay import InMemoryReplayGuard, StoreReplayGuard
from aauth.resource import RequestVerifier, ResourcePolicy
from aauth.server.person_server import create_person_server
from aauth.server.running import RunningServer
from aauth.store import SQLiteStore, Store
from aauth.store.redis import RedisStore
from aauth.tokens import issue_agent_token, issue_resource_token

TOKEN_REQUESTS = 300
APPROVALS = 40
POLLS = 400
STORED = (1_000, 100_000)
VERIFICATIONS = 2_000
WORKERS = (1, 2, 4)
LOAD_SECONDS = 3.0
CONNECTIONS = 16
FLAT_TARGET = 1.25

PS, AP, API = "https://ps.example", "https://ap.example", "https://api.example"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary is not None
    port = _free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


class World:
    """Issuer keys, one agent, and a person server configuration that auto-approves."""

    def __init__(self) -> None:
        self.ap_keys, self.resource_keys = KeySet.generate(), KeySet.generate()
        self.key = generate_key()
        self.sub = "aauth:bench@ap.example"
        token = issue_agent_token(
            self.ap_keys, iss=AP, sub=self.sub, cnf_jwk=self.key.public_key(), ps=PS
        )
        self.signer = AgentSigner(self.key, token)
        self.keys = StaticKeySource({AP: self.ap_keys.jwks(), API: self.resource_keys.jwks()})

    def config(self, key_file: str) -> PersonServerConfig:
        return PersonServerConfig(
            identifier=PS,
            people=(Person("alice", "Alice", hash_password("x")),),
            auto_approve=(AutoApproval("*", API, frozenset({"data.read"})),),
            key_file=key_file,
        )

    def token_request(self) -> tuple[bytes, dict[str, str]]:
        resource_token = issue_resource_token(
            self.resource_keys,
            iss=API,
            aud=PS,
            agent=self.sub,
            agent_jkt=self.signer.thumbprint,
            scope="data.read",
        )
        body = json.dumps({"resource_token": resource_token}).encode()
        headers = {"content-type": "application/json"}
        headers.update(self.signer.sign("POST", f"{PS}/token", headers, body))
        return body, headers


def token_endpoint_rate(world: World, store: Store, key_file: str) -> float:
    """Auto-approved token requests per second, in process (no sockets in the figure)."""
    app = create_person_server(world.config(key_file), store, key_source=world.keys)
    requests = [world.token_request() for _ in range(TOKEN_REQUESTS)]

    async def run() -> float:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PS) as http:
            started = time.perf_counter()
            for body, headers in requests:
                response = await http.post("/token", content=body, headers=headers)
                assert response.status_code == 200, response.text
            return TOKEN_REQUESTS / (time.perf_counter() - started)

    return asyncio.run(run())


def approval_latency_ms(writer_store: Store, waiter_store: Store) -> float:
    """Median ms from a decision written through ``writer_store`` to the long poll waiting
    through ``waiter_store`` returning with it."""
    writer, waiter = PendingRequests(writer_store), PendingRequests(waiter_store)

    async def once() -> float:
        request = writer.create(AP, "aauth:bench@ap.example", {})
        polling = asyncio.create_task(waiter.wait_for_change(request, 10))
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        await asyncio.to_thread(
            writer.update,
            request.id,
            lambda current: current.__class__(
                **{**current.__dict__, "state": PendingState.COMPLETED}
            ),
        )
        changed = await polling
        assert changed.state is PendingState.COMPLETED
        return (time.perf_counter() - started) * 1000

    async def run() -> list[float]:
        return [await once() for _ in range(APPROVALS)]

    return statistics.median(asyncio.run(run()))


def poll_latencies_us(world: World, stores: list[Store], key_file: str) -> list[float]:
    """µs per signed poll of one pending URL, for each store holding ``STORED[i]`` pending
    requests; the stores are polled in alternating rounds (best round each), so both see the
    same machine load."""
    urls, apps = [], []
    for store, stored in zip(stores, STORED, strict=True):
        pending = PendingRequests(store)
        for _ in range(stored - 1):
            pending.create(
                AP, "aauth:someone-else@ap.example", {}, requirement="interaction", with_code=True
            )
        mine = pending.create(AP, world.sub, {}, requirement="interaction", with_code=True)
        apps.append(create_person_server(world.config(key_file), store, key_source=world.keys))
        urls.append(f"{PS}/pending/{mine.id}")

    async def run() -> list[float]:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PS) for app in apps
        ]
        best = [float("inf")] * len(apps)
        rounds = 10
        for _ in range(rounds):
            for index, (http, url) in enumerate(zip(clients, urls, strict=True)):
                headers = world.signer.sign("GET", url)
                started = time.perf_counter()
                for _ in range(POLLS // rounds):
                    response = await http.get(url, headers=headers)
                    assert response.status_code == 202, response.text
                elapsed = (time.perf_counter() - started) / (POLLS // rounds)
                best[index] = min(best[index], elapsed)
        for http in clients:
            await http.aclose()
        return [value * 1e6 for value in best]

    return asyncio.run(run())


def verification_rate(guard: Any) -> float:
    """Replay-checked POSTs verified per second by a resource's RequestVerifier."""
    signer = AgentSigner(generate_key())
    policy = ResourcePolicy(resource=API, accepted_schemes=("hwk",), require_identity=False)
    verifier = RequestVerifier(policy, StaticKeySource({}), replay_guard=guard)
    url = f"{API}/items"
    requests = []
    for index in range(VERIFICATIONS):
        body = json.dumps({"n": index}).encode()
        headers = {"content-type": "application/json"}
        headers.update(signer.sign("POST", url, headers, body, scheme="hwk"))
        requests.append(HttpRequest("POST", url, headers, body))
    started = time.perf_counter()
    for request in requests:
        verifier.verify(request)
    return VERIFICATIONS / (time.perf_counter() - started)


def _agent_provider(world: World) -> tuple[RunningServer, dict[str, str]]:
    """The world's agent provider on loopback (metadata and JWKS), for a person server in
    another process to discover; returns the server and its URL."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    found: dict[str, str] = {}

    def app(url: str) -> Starlette:
        found["url"] = url
        document = {"issuer": url, "jwks_uri": f"{url}/jwks.json"}
        return Starlette(
            routes=[
                Route("/.well-known/aauth-agent.json", lambda r: JSONResponse(document)),
                Route("/jwks.json", lambda r: JSONResponse(world.ap_keys.jwks())),
            ]
        )

    return RunningServer.with_own_url(app), found


def workers_rate(world: World, url: str, workers: int, directory: Path) -> float:
    """Signed pending-URL polls per second answered by ``aauth serve person --workers N``,
    each poll verified (agent token through the provider's JWKS, signature) and read from
    Redis."""
    port = _free_port()
    identifier = f"http://127.0.0.1:{port}"
    provider, found = _agent_provider(world)
    with provider:
        ap = found["url"]
        sub = f"aauth:bench@{ap.split('://', 1)[1]}"
        token = issue_agent_token(
            world.ap_keys,
            iss=ap,
            sub=sub,
            cnf_jwk=world.key.public_key(),
            ps=identifier,
            allow_loopback_http=True,
        )
        signer = AgentSigner(world.key, token)
        config = directory / f"ps-{workers}.json"
        config.write_text(
            json.dumps(
                {
                    "identifier": identifier,
                    "allow_loopback_http": True,
                    "people": [{"id": "alice", "name": "Alice", "password": "x"}],
                    "trusted_agent_providers": [ap],
                    "key_file": str(directory / "keys.json"),
                }
            )
        )
        store = RedisStore.from_url(url)
        mine = PendingRequests(store).create(ap, sub, {}, requirement="interaction", with_code=True)
        store.close()
        command = [
            sys.executable,
            "-m",
            "aauth.cli",
            "serve",
            "person",
            "--config",
            str(config),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--store",
            url,
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{identifier}/.well-known/jwks.json", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("the person server did not start") from None
                    time.sleep(0.05)
            pending = f"{identifier}/pending/{mine.id}"
            headers = signer.sign("GET", pending)  # GETs are not replay-checked

            async def client(stop: float, counts: list[int]) -> None:
                async with httpx.AsyncClient(timeout=10) as http:
                    while time.perf_counter() < stop:
                        response = await http.get(pending, headers=headers)
                        assert response.status_code == 202, response.text
                        counts.append(1)

            async def run() -> float:
                counts: list[int] = []
                started = time.perf_counter()
                stop = started + LOAD_SECONDS
                await asyncio.gather(*(client(stop, counts) for _ in range(CONNECTIONS)))
                return len(counts) / (time.perf_counter() - started)

            return asyncio.run(run())
        finally:
            process.terminate()
            process.wait(timeout=20)


def _line(name: str, value: str) -> None:
    print(f"{name:58s} {value}", flush=True)


def main() -> int:
    if shutil.which("redis-server") is None:
        print("skipped: needs redis-server on PATH (apt-get install redis-server)")
        return 0
    world = World()
    missed = False
    with redis_server() as url, tempfile.TemporaryDirectory() as directory:
        keys = str(Path(directory) / "ps-keys.json")

        def stores() -> tuple[Callable[[], Store], Callable[[], Store]]:
            return (
                lambda: SQLiteStore(Path(directory) / f"{time.monotonic_ns()}.db"),
                lambda: RedisStore.from_url(url),
            )

        sqlite_store, redis_store = stores()
        rates = {
            name: token_endpoint_rate(world, make(), keys)
            for name, make in (("sqlite", sqlite_store), ("redis", redis_store))
        }
        _line(
            "token endpoint, auto-approved (req/s)",
            f"sqlite {rates['sqlite']:7.0f}  redis {rates['redis']:7.0f}  "
            f"ratio {rates['redis'] / rates['sqlite']:.2f}",
        )

        one = SQLiteStore(Path(directory) / "approval.db")
        local = approval_latency_ms(one, one)
        cross = approval_latency_ms(RedisStore.from_url(url), RedisStore.from_url(url))
        _line(
            "approval -> long poll woken (median ms)",
            f"sqlite, same instance {local:6.2f}  redis, other instance {cross:6.2f}",
        )

        for name, make in (("sqlite", sqlite_store), ("redis", redis_store)):
            small, large = poll_latencies_us(world, [make() for _ in STORED], keys)
            ratio = large / small
            flat = ratio <= FLAT_TARGET
            missed |= not flat
            _line(
                f"pending poll, {name}: {STORED[0]:,} vs {STORED[1]:,} stored (µs)",
                f"{small:7.1f} vs {large:7.1f}  ratio {ratio:.2f} (target ≤ {FLAT_TARGET})"
                + ("" if flat else "  MISSES TARGET"),
            )

        memory = verification_rate(InMemoryReplayGuard())
        shared = verification_rate(StoreReplayGuard(RedisStore.from_url(url)))
        _line(
            "resource verify + replay guard (req/s)",
            f"memory {memory:7.0f}  redis {shared:7.0f}  ratio {shared / memory:.2f}",
        )

        base = None
        for count in WORKERS:
            rate = workers_rate(world, url, count, Path(directory))
            base = base or rate
            _line(
                f"person server polls, {count} worker(s) on redis (req/s)",
                f"{rate:7.0f}  ÷ 1 worker {rate / base:.2f}",
            )
    return 1 if missed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
