"""The SQLite store: create-if-absent, compare-and-set, expiry, durability across reopen."""

from __future__ import annotations

from pathlib import Path

from aauth.store import SQLiteStore


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
