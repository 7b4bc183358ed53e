"""The SQLite store: create-if-absent, compare-and-set, expiry, durability across reopen."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from aauth.errors import error_response
from aauth.store import SQLiteStore, StoreUnavailable
from aauth.store.base import Record


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_create_is_insert_if_absent() -> None:
    store = SQLiteStore()
    assert store.create("ns", "k", {"a": 1}, None)
    assert not store.create("ns", "k", {"a": 2}, None)
    record = store.get("ns", "k")
    assert record is not None
    assert record.value == {"a": 1}
    assert record.version == 1


def test_replace_is_compare_and_set() -> None:
    store = SQLiteStore()
    store.create("ns", "k", {"a": 1}, None)
    assert store.replace("ns", "k", {"a": 2}, 1, None)
    assert not store.replace("ns", "k", {"a": 3}, 1, None)
    record = store.get("ns", "k")
    assert record is not None
    assert (record.value, record.version) == ({"a": 2}, 2)


def test_expired_records_read_as_absent_and_can_be_recreated() -> None:
    clock = Clock()
    store = SQLiteStore(clock=clock)
    store.create("ns", "k", {"a": 1}, clock.now + 10)
    clock.now += 11
    assert store.get("ns", "k") is None
    assert store.create("ns", "k", {"a": 2}, None)
    assert store.purge_expired() == 0
    store.create("ns", "gone", {}, clock.now - 1)
    assert store.purge_expired() == 1


def test_namespaces_are_separate() -> None:
    store = SQLiteStore()
    store.create("one", "k", {"n": 1}, None)
    assert store.get("two", "k") is None


def test_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SQLiteStore(path)
    store.create("ns", "k", {"kept": True}, None)
    store.close()
    reopened = SQLiteStore(path)
    record = reopened.get("ns", "k")
    assert record is not None
    assert record.value == {"kept": True}
    reopened.close()


def test_delete() -> None:
    store = SQLiteStore()
    store.create("ns", "k", {}, None)
    store.delete("ns", "k")
    assert store.get("ns", "k") is None


def _modes(path: Path) -> dict[str, int]:
    files = (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
    return {file.name: file.stat().st_mode & 0o777 for file in files}


def test_database_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    """Issue 9 item 11 (§H.7): sessions, CSRF tokens and the pairwise secret live here."""
    path = tmp_path / "state.db"
    previous = os.umask(0)  # even a permissive umask must not widen them
    try:
        store = SQLiteStore(path)
        store.create("ns", "k", {"v": 1}, None)
        assert _modes(path) == {"state.db": 0o600, "state.db-wal": 0o600, "state.db-shm": 0o600}
        store.close()
        reopened = SQLiteStore(path)
        reopened.create("ns", "k2", {"v": 2}, None)
        assert set(_modes(path).values()) == {0o600}
        reopened.close()
    finally:
        os.umask(previous)


def test_a_database_created_world_readable_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (x)")
    os.chmod(path, 0o644)
    for suffix in ("-wal", "-shm"):
        os.chmod(f"{path}{suffix}", 0o644)
    store = SQLiteStore(path)
    assert set(_modes(path).values()) == {0o600}
    store.close()
    old.close()


def test_an_unwritable_database_is_store_unavailable_and_keeps_its_records(
    tmp_path: Path,
) -> None:
    """A read-only (or full, or locked) database fails closed as a 503 with Retry-After, as
    an unreachable Redis does, never as a 500; what it held is intact."""
    store = SQLiteStore(tmp_path / "s.db")
    store.create("ns", "k", {"v": 1}, None)
    store._db.execute("PRAGMA query_only = ON")  # what a read-only file or full disk does
    for write in (
        lambda: store.create("ns", "other", {}, None),
        lambda: store.replace("ns", "k", {"v": 2}, 1, None),
        lambda: store.delete("ns", "k"),
        store.purge_expired,
    ):
        with pytest.raises(StoreUnavailable) as caught:
            write()
        response = error_response(caught.value)
        assert (response.status, response.headers["Retry-After"]) == (503, "2")
    assert store.get("ns", "k") == Record({"v": 1}, 1, None)
    store.close()
