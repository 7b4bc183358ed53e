"""Participant state behind one small interface: SQLite by default, Redis for several
instances. Records are JSON objects with a version for compare-and-set and an expiry."""

from .base import Record, Store
from .sqlite import SQLiteStore

__all__ = ["Record", "SQLiteStore", "Store"]
