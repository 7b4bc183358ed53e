"""Person accounts and sessions at a person server (PS-27: decisions need a person)."""

from __future__ import annotations

import pytest

from aauth.person.passwords import (
    DEFAULT_SCRYPT,
    LEGACY_SCRYPT,
    ScryptParams,
    hash_password,
    needs_rehash,
    verify_password,
)
from aauth.person.persons import Person, PersonDirectory
from aauth.store import SQLiteStore

from .conftest import FAST_SCRYPT


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def directory(clock: Clock | None = None) -> PersonDirectory:
    alice = Person("alice", "Alice", hash_password("wonderland", FAST_SCRYPT))
    return PersonDirectory(
        [alice], SQLiteStore(), password_params=FAST_SCRYPT, clock=clock or Clock()
    )


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
    alice = Person("alice", "Alice", hash_password("pw", FAST_SCRYPT))
    people = PersonDirectory(
        [alice],
        SQLiteStore(clock=clock),
        session_lifetime=60,
        password_params=FAST_SCRYPT,
        clock=clock,
    )
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


# -- password hashing (issue 9 item 10) ----------------------------------------------------------


def test_default_is_scrypt_2_17_with_its_parameters_stored() -> None:
    assert (DEFAULT_SCRYPT.n, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p) == (2**17, 8, 1)
    hashed = hash_password("correct horse")  # the real default: 128 MiB, within maxmem
    scheme, params, salt, digest = hashed.split("$")
    assert (scheme, params) == ("scrypt", "n=131072,r=8,p=1")
    assert len(bytes.fromhex(salt)) == 16
    assert len(bytes.fromhex(digest)) == 32
    assert verify_password("correct horse", hashed)
    assert not verify_password("correct horsf", hashed)
    assert not needs_rehash(hashed)


def test_first_format_hashes_verify_as_n_2_14() -> None:
    salt = bytes(range(16))
    modern = hash_password("pw", LEGACY_SCRYPT, salt=salt)
    legacy = "scrypt$" + modern.split("$", 2)[2]  # scrypt$<salt>$<hash>, no parameters
    assert verify_password("pw", legacy)
    assert not verify_password("nope", legacy)
    assert needs_rehash(legacy)
    assert needs_rehash(legacy, FAST_SCRYPT)


@pytest.mark.parametrize(
    "stored",
    [
        "plain",
        "scrypt$zz$00",
        "scrypt$n=3,r=8,p=1$00$00",  # not a power of two
        "scrypt$n=2097152,r=8,p=1$00$00",  # 2^21: over the memory bound
        "scrypt$n=1024,r=99,p=1$00$00",
        "scrypt$n=1024$00$00",
        "bcrypt$n=1024,r=8,p=1$00$00",
        "scrypt$n=1024,r=8,p=1$00$00$00",
    ],
)
def test_malformed_or_unbounded_hashes_never_verify(stored: str) -> None:
    assert not verify_password("pw", stored)
    assert needs_rehash(stored)


@pytest.mark.parametrize("n", [0, 1, 3, 2**21, 1000])
def test_bad_scrypt_parameters(n: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        ScryptParams(n=n)


def test_login_with_an_outdated_hash_stores_a_current_one() -> None:
    """The configured hash is old; the first good login upgrades it, in the store."""
    store = SQLiteStore()
    old = hash_password("pw", ScryptParams(n=2**8))
    alice = Person("alice", "Alice", old)
    people = PersonDirectory([alice], store, password_params=FAST_SCRYPT)
    assert people.authenticate("alice", "wrong") is None
    assert store.get("password", "alice") is None  # nothing on a failure
    assert people.authenticate("alice", "pw") is not None
    record = store.get("password", "alice")
    assert record is not None
    upgraded = record.value["hash"]
    assert upgraded.startswith("scrypt$n=1024,r=8,p=1$")
    assert not needs_rehash(upgraded, FAST_SCRYPT)
    assert people.authenticate("alice", "pw") is not None
    assert store.get("password", "alice") == record  # current: not rehashed again
    # a restarted server with the same store uses the upgraded hash
    again = PersonDirectory([alice], store, password_params=FAST_SCRYPT)
    assert again.authenticate("alice", "pw") is not None
    assert again.authenticate("alice", "wrong") is None


def test_a_password_changed_in_the_configuration_wins_over_the_stored_upgrade() -> None:
    store = SQLiteStore()
    first = Person("alice", "Alice", hash_password("old", ScryptParams(n=2**8)))
    assert PersonDirectory([first], store, password_params=FAST_SCRYPT).authenticate("alice", "old")
    changed = Person("alice", "Alice", hash_password("new", FAST_SCRYPT))
    people = PersonDirectory([changed], store, password_params=FAST_SCRYPT)
    assert people.authenticate("alice", "old") is None
    assert people.authenticate("alice", "new") is not None
