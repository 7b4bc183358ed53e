"""``AAuth-Access`` and ``Authorization: AAuth <token68>`` (§E.4, RS-15), one line or many."""

from __future__ import annotations

from _harness import attempt, instrumented, main, text

with instrumented("aauth.headers"):
    from aauth.headers import parse_access, parse_authorization

SEEDS = ["c2Vzcy0xMjM0", "AAuth c2Vzcy0xMjM0", "aauth abc==", "Bearer x", "AAuth a, AAuth b"]


def target(data: bytes) -> None:
    value = text(data)
    attempt(parse_access, value)
    attempt(parse_authorization, value)
    parse_authorization(value.split("\n"))


if __name__ == "__main__":
    main(target, SEEDS)
