"""Participant state behind one small interface, so a shared store (Redis, for several
instances) can replace the default SQLite file without touching the participants. Records
are JSON objects with a version for compare-and-set and an expiry."""

from .base import Record, Store, StoreUnavailable
from .location import STORE_ENV, is_shared, open_store
from .signal import LocalSignal
from .sqlite import SQLiteStore
from .update import StoreContention, update_record

__all__ = [
    "STORE_ENV",
    "LocalSignal",
    "Record",
    "SQLiteStore",
    "Store",
    "StoreContention",
    "StoreUnavailable",
    "is_shared",
    "open_store",
    "update_record",
]
