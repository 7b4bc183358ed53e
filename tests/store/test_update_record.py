"""update_record: the one compare-and-set loop every participant's appends and merges use."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aauth.store import SQLiteStore, StoreContention, update_record


def test_creates_then_replaces_and_declines() -> None:
    store = SQLiteStore()
    later = time.time() + 60

    def count(current: dict[str, Any] | None) -> dict[str, Any]:
        return {"n": (current or {"n": 0})["n"] + 1}

    assert update_record(store, "ns", "k", count, later) == {"n": 1}
    assert update_record(store, "ns", "k", count, lambda value: later + value["n"]) == {"n": 2}
    record = store.get("ns", "k")
    assert record is not None
    assert record.value == {"n": 2}
    assert record.expires_at == pytest.approx(later + 2)
    assert update_record(store, "ns", "k", lambda current: None) is None
    assert store.get("ns", "k").value == {"n": 2}  # type: ignore[union-attr]


def test_a_record_that_keeps_changing_is_a_retryable_503() -> None:
    store = SQLiteStore()
    store.create("ns", "k", {"n": 0}, None)

    def racing(current: dict[str, Any] | None) -> dict[str, Any]:
        record = store.get("ns", "k")
        assert record is not None
        store.replace("ns", "k", {"n": record.value["n"] + 1}, record.version, None)  # a rival
        return {"n": -1}

    with pytest.raises(StoreContention) as raised:
        update_record(store, "ns", "k", racing, attempts=3)
    error = raised.value
    assert (error.code, error.status) == ("temporarily_unavailable", 503)
    assert error.response_headers() == {"Retry-After": "2"}
    assert store.get("ns", "k").value == {"n": 3}  # type: ignore[union-attr]
