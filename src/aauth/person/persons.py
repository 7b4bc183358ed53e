"""People who approve requests at a person server, and their login sessions.

An interaction code only correlates a browser with a pending request; the decision itself
needs an authenticated person (PS-27). Passwords are scrypt hashes (:mod:`.passwords`); a
hash made with weaker parameters than the server's is replaced at the next successful login,
the new one kept in the store (the configuration file is never rewritten) and used for as
long as the configured hash is the one it replaced. Sessions are random cookies kept in the
store with an expiry, each with its own CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..store.base import Store
from .passwords import (
    DEFAULT_SCRYPT,
    ScryptParams,
    decoy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)

__all__ = ["Person", "PersonDirectory", "Session", "hash_password"]

_SESSION_NS = "session"
_REHASHED_NS = "password"


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
        password_params: ScryptParams = DEFAULT_SCRYPT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._people = {p.id: p for p in people}
        self._store = store
        self._lifetime = session_lifetime
        self._params = password_params
        self._clock = clock
        self._decoy = decoy_hash(password_params)

    def get(self, person_id: str) -> Person | None:
        return self._people.get(person_id)

    def authenticate(self, person_id: str, password: str) -> Person | None:
        """The person when the password matches; the same work is done for unknown ids.
        A match against an outdated hash stores one made with the current parameters."""
        person = self._people.get(person_id)
        stored = self._decoy if person is None else self._password_hash(person)
        if not verify_password(password, stored) or person is None:
            return None
        if needs_rehash(stored, self._params):
            self._rehash(person, password)
        return person

    @staticmethod
    def _fingerprint(configured: str) -> str:
        return hashlib.sha256(configured.encode("utf-8")).hexdigest()

    def _password_hash(self, person: Person) -> str:
        """The rehashed password in the store while it replaces the configured one, else
        the configured one (a password changed in the configuration wins)."""
        record = self._store.get(_REHASHED_NS, person.id)
        if record is not None and record.value.get("replaces") == self._fingerprint(
            person.password_hash
        ):
            return str(record.value["hash"])
        return person.password_hash

    def _rehash(self, person: Person, password: str) -> None:
        value = {
            "hash": hash_password(password, self._params),
            "replaces": self._fingerprint(person.password_hash),
        }
        record = self._store.get(_REHASHED_NS, person.id)
        if record is None:
            self._store.create(_REHASHED_NS, person.id, value, None)
        else:
            self._store.replace(_REHASHED_NS, person.id, value, record.version, None)

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
