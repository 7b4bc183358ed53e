"""Secrets a person server keeps in its store, created on first use and shared by every worker
(and kept across restarts) because they live where the rest of its state does."""

from __future__ import annotations

import secrets

from ..store.base import Store

__all__ = ["stored_secret"]

_NS = "person-server"


def stored_secret(store: Store, name: str) -> bytes:
    """The 32-byte secret ``name`` in ``store``; the first caller creates it."""
    store.create(_NS, name, {"secret": secrets.token_hex(32)}, None)
    record = store.get(_NS, name)
    if record is None:
        raise RuntimeError(f"the secret {name!r} could not be stored")
    return bytes.fromhex(str(record.value["secret"]))
