"""Participant state behind one small interface, so a shared store (e.g. Redis, for several
instances) can replace the default SQLite file without touching the participants. Records
are JSON objects with a version for compare-and-set and an expiry."""

from .base import Record, Store
from .sqlite import SQLiteStore

__all__ = ["Record", "SQLiteStore", "Store"]
