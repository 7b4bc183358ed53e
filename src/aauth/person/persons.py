"""People who approve requests at a person server, and their login sessions.

An interaction code only correlates a browser with a pending request; the decision itself
needs an authenticated person (PS-27). Passwords are stored as scrypt hashes; sessions are
random cookies kept in the store with an expiry, each with its own CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..store.base import Store

__all__ = ["Person", "PersonDirectory", "Session", "hash_password"]

_SESSION_NS = "session"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$<salt hex>$<hash hex>`` for ``password``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True)
class Person:
    """A person the server acts for; ``id`` is stable, ``name`` is for display."""

    id: str
    name: str
    password_hash: str


@dataclass(frozen=True)
class Session:
    id: str
    person_id: str
    csrf: str
    expires_at: float


class PersonDirectory:
    """The people of one person server and their sessions."""

    def __init__(
        self,
        people: Iterable[Person],
        store: Store,
        *,
        session_lifetime: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._people = {p.id: p for p in people}
        self._store = store
        self._lifetime = session_lifetime
        self._clock = clock
        self._dummy_hash = hash_password(secrets.token_urlsafe(8))

    def get(self, person_id: str) -> Person | None:
        return self._people.get(person_id)

    def authenticate(self, person_id: str, password: str) -> Person | None:
        """The person when the password matches; the same work is done for unknown ids."""
        person = self._people.get(person_id)
        ok = _check_password(password, person.password_hash if person else self._dummy_hash)
        return person if ok and person is not None else None

    def open_session(self, person: Person) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            person_id=person.id,
            csrf=secrets.token_urlsafe(24),
            expires_at=self._clock() + self._lifetime,
        )
        value = {"person_id": session.person_id, "csrf": session.csrf}
        self._store.create(_SESSION_NS, session.id, value, session.expires_at)
        return session

    def session(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        record = self._store.get(_SESSION_NS, session_id)
        if record is None or record.expires_at is None:
            return None
        person_id = str(record.value["person_id"])
        if person_id not in self._people:
            return None
        return Session(session_id, person_id, str(record.value["csrf"]), record.expires_at)

    def close_session(self, session_id: str) -> None:
        self._store.delete(_SESSION_NS, session_id)
