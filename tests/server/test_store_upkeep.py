"""Stateful servers keep their stores bounded (§H.1 replay entries, §F.11 revocations,
delegates): expired records are purged when they start and every ``PURGE_INTERVAL`` after.
The example resource without call chaining and the agent provider never purged at all."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from aauth.keys import generate_key, thumbprint
from aauth.server.agent_provider import AgentProviderConfig, create_agent_provider
from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.server.running import RunningServer
from aauth.store import SQLiteStore

PS = "https://ps.example"


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        count: int = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    return count


def _expired_entries(path: Path) -> None:
    """What 50 signed POSTs leave behind once their window has passed, and one live entry."""
    store = SQLiteStore(path)
    for n in range(50):
        store.create("replay", f"entry-{n}", {}, time.time() - 1)
    store.create("replay", "live", {}, time.time() + 600)
    store.close()


def _purged(server: RunningServer, path: Path) -> None:
    with server:
        deadline = time.monotonic() + 10
        while _rows(path) > 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert _rows(path) == 1


@pytest.mark.parametrize("downstream", [None, "https://downstream.example/data"])
def test_the_resource_purges_expired_entries(tmp_path: Path, downstream: str | None) -> None:
    path = tmp_path / "resource.db"
    _expired_entries(path)

    def resource(url: str) -> object:
        config = ResourceServerConfig(
            identifier=url,
            trusted_issuers=(PS,),
            store=str(path),
            downstream_url=downstream,
            key_file=str(tmp_path / "keys.json"),
            allow_loopback_http=True,
        )
        return create_resource_server(config)

    _purged(RunningServer.with_own_url(resource), path)


def test_the_agent_provider_purges_expired_entries(tmp_path: Path) -> None:
    path = tmp_path / "ap.db"
    _expired_entries(path)
    agents = {"planner": {"enrollment_jkt": thumbprint(generate_key())}}

    def provider(url: str) -> object:
        settings = {"identifier": url, "agents": agents, "db": str(path)}
        return create_agent_provider(
            AgentProviderConfig.load({**settings, "allow_loopback_http": True})
        )

    _purged(RunningServer.with_own_url(provider), path)
