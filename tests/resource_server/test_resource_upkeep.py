"""The example resource keeps its store bounded (§H.1 replay entries, §F.11 revocations):
expired records are purged when it starts and every ``PURGE_INTERVAL`` after, with or
without call chaining (without it, nothing was ever purged)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from aauth.server.resource_server import ResourceServerConfig, create_resource_server
from aauth.server.running import RunningServer
from aauth.store import SQLiteStore

from .conftest import PS


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        count: int = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    return count


@pytest.mark.parametrize("downstream", [None, "https://downstream.example/data"])
def test_expired_replay_entries_are_purged(tmp_path: Path, downstream: str | None) -> None:
    path = tmp_path / "resource.db"
    store = SQLiteStore(path)
    for n in range(50):  # what 50 signed POSTs leave behind once their window has passed
        store.create("replay", f"entry-{n}", {}, time.time() - 1)
    store.create("replay", "live", {}, time.time() + 600)
    store.close()

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

    with RunningServer.with_own_url(resource):
        deadline = time.monotonic() + 10
        while _rows(path) > 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert _rows(path) == 1
