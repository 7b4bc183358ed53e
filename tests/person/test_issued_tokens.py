"""IssuedTokens: what the person server revokes with an agent token (§F.11, PS-24)."""

from __future__ import annotations

import time
from collections.abc import Callable

from aauth.person.issued_tokens import MAX_RECORDED, IssuedTokens
from aauth.store import SQLiteStore
from aauth.store.base import Record

AP = "https://ap.example"


def claims(jti: str, exp: float, aud: str = "https://api.example") -> dict[str, object]:
    return {"jti": jti, "aud": aud, "exp": exp}


def test_ps24_tokens_are_taken_once_per_agent_token() -> None:
    issued, later = IssuedTokens(SQLiteStore()), time.time() + 600
    issued.record(AP, "agent-1", claims("a", later))
    issued.record(AP, "agent-1", claims("b", later, "https://other.example"))
    issued.record(AP, "agent-2", claims("c", later))
    assert issued.take(AP, "agent-1") == [
        {"jti": "a", "resource": "https://api.example", "exp": later},
        {"jti": "b", "resource": "https://other.example", "exp": later},
    ]
    assert issued.take(AP, "agent-1") == []
    assert [t["jti"] for t in issued.take(AP, "agent-2")] == ["c"]
    assert issued.take("https://other-ap.example", "agent-2") == []


def test_ps24_expired_tokens_are_neither_kept_nor_returned() -> None:
    now = [time.time()]
    issued = IssuedTokens(SQLiteStore(), clock=lambda: now[0])
    issued.record(AP, "agent-1", claims("soon", now[0] + 10))
    issued.record(AP, "agent-1", claims("later", now[0] + 600))
    now[0] += 60
    assert [t["jti"] for t in issued.take(AP, "agent-1")] == ["later"]


def test_the_record_per_agent_token_is_bounded() -> None:
    issued, later = IssuedTokens(SQLiteStore()), time.time() + 600
    for n in range(MAX_RECORDED + 5):
        issued.record(AP, "agent-1", claims(f"t{n}", later))
    taken = issued.take(AP, "agent-1")
    assert len(taken) == MAX_RECORDED
    assert taken[-1]["jti"] == f"t{MAX_RECORDED + 4}"  # the newest are kept


class Interleaved(SQLiteStore):
    """A store where another worker writes right after the next read (``between``)."""

    between: Callable[[], None] | None = None

    def get(self, namespace: str, key: str) -> Record | None:
        record = super().get(namespace, key)
        hook, self.between = self.between, None
        if hook is not None:
            hook()
        return record


def test_ps24_a_token_recorded_while_they_are_taken_is_taken_too() -> None:
    """§F.11: a token minted by another worker while the revocation takes the list is not
    lost between the read and the removal (it would live out its hour unrevoked)."""
    store, later = Interleaved(), time.time() + 600
    issued = IssuedTokens(store)
    issued.record(AP, "agent-1", claims("a", later))
    store.between = lambda: issued.record(AP, "agent-1", claims("b", later))
    taken = issued.take(AP, "agent-1") + issued.take(AP, "agent-1")
    assert [t["jti"] for t in taken] == ["a", "b"]
