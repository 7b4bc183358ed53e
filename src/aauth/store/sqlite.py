"""The default store: one SQLite file in WAL mode (stdlib ``sqlite3``).

Every write is its own transaction, committed before the call returns, so a participant
killed at any point (even ``kill -9``) restarts with everything it acknowledged.

The database holds session ids, CSRF tokens and the pairwise-subject secret, so it and its
``-wal`` and ``-shm`` files are readable by their owner only (0600, protocol-10 §H.7): the
file is created with that mode before SQLite opens it, and all three are narrowed to it after.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .base import Record, StoreUnavailable
from .signal import LocalSignal

__all__ = ["FILE_MODE", "SQLiteStore"]

FILE_MODE = 0o600
"""The mode of the database file and its ``-wal`` and ``-shm`` companions."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    namespace  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    expires_at REAL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_expiry ON records (expires_at)
    WHERE expires_at IS NOT NULL;
"""


def _owner_only(database: Path) -> None:
    """Narrow the database and its WAL and shared-memory files to :data:`FILE_MODE` (a file
    an older version created 0644 is fixed on the next start)."""
    for file in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            mode = file.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode != FILE_MODE:
            os.chmod(file, FILE_MODE)


class SQLiteStore:
    """A :class:`~aauth.store.base.Store` in one SQLite database file.

    ``path`` may be ``":memory:"`` for a throwaway store. One connection is shared behind a
    lock; calls are short, so handlers call them directly.
    """

    def __init__(
        self, path: str | Path = ":memory:", *, clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self.signal = LocalSignal()
        self._lock = threading.Lock()
        on_disk = str(path) != ":memory:"
        if on_disk:
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE))
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
        if on_disk:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        if on_disk:
            _owner_only(Path(path))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One caller at a time on the connection. A database that cannot be written
        (read-only, full disk, locked past the timeout) is StoreUnavailable (503), like an
        unreachable Redis; nothing is half-written, each statement being its own transaction."""
        with self._lock:
            try:
                yield
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"the store (SQLite) is unavailable: {exc}") from None

    def get(self, namespace: str, key: str) -> Record | None:
        with self._locked():
            row = self._db.execute(
                "SELECT value, version, expires_at FROM records WHERE namespace=? AND key=?",
                (namespace, key),
            ).fetchone()
        if row is None or (row[2] is not None and row[2] <= self._clock()):
            return None
        value: dict[str, Any] = json.loads(row[0])
        return Record(value, row[1], row[2])

    def create(
        self, namespace: str, key: str, value: dict[str, Any], expires_at: float | None
    ) -> bool:
        data = json.dumps(value, separators=(",", ":"))
        with self._locked():
            cursor = self._db.execute(
                "INSERT INTO records (namespace, key, value, version, expires_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (namespace, key) DO UPDATE SET "
                "value=excluded.value, version=records.version + 1, "
                "expires_at=excluded.expires_at "
                "WHERE records.expires_at IS NOT NULL AND records.expires_at <= ?",
                (namespace, key, data, expires_at, self._clock()),
            )
        return cursor.rowcount == 1

    def replace(
        self,
        namespace: str,
        key: str,
        value: dict[str, Any],
        expected_version: int,
        expires_at: float | None,
    ) -> bool:
        data = json.dumps(value, separators=(",", ":"))
        with self._locked():
            cursor = self._db.execute(
                "UPDATE records SET value=?, version=version + 1, expires_at=? "
                "WHERE namespace=? AND key=? AND version=?",
                (data, expires_at, namespace, key, expected_version),
            )
        return cursor.rowcount == 1

    def delete(self, namespace: str, key: str) -> None:
        with self._locked():
            self._db.execute("DELETE FROM records WHERE namespace=? AND key=?", (namespace, key))

    def purge_expired(self) -> int:
        with self._locked():
            cursor = self._db.execute(
                "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (self._clock(),),
            )
        return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
