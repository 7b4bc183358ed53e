"""Person accounts and sessions at a person server (PS-27: decisions need a person)."""

from __future__ import annotations

from aauth.person.persons import Person, PersonDirectory, hash_password
from aauth.store import SQLiteStore


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def directory(clock: Clock | None = None) -> PersonDirectory:
    alice = Person("alice", "Alice", hash_password("wonderland"))
    return PersonDirectory([alice], SQLiteStore(clock=clock or Clock()), clock=clock or Clock())


def test_password_check() -> None:
    people = directory()
    assert people.authenticate("alice", "wonderland") is not None
    assert people.authenticate("alice", "wrong") is None
    assert people.authenticate("mallory", "wonderland") is None


def test_malformed_hash_never_matches() -> None:
    people = PersonDirectory([Person("bob", "Bob", "plain")], SQLiteStore())
    assert people.authenticate("bob", "plain") is None


def test_sessions_expire_and_close() -> None:
    clock = Clock()
    alice = Person("alice", "Alice", hash_password("pw"))
    people = PersonDirectory([alice], SQLiteStore(clock=clock), session_lifetime=60, clock=clock)
    session = people.open_session(alice)
    found = people.session(session.id)
    assert found is not None
    assert found.person_id == "alice"
    assert found.csrf == session.csrf
    clock.now += 61
    assert people.session(session.id) is None
    fresh = people.open_session(alice)
    people.close_session(fresh.id)
    assert people.session(fresh.id) is None
    assert people.session(None) is None
    assert people.session("x" * 500) is None
