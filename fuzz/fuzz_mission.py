"""``AAuth-Mission`` (§E.3): ``approver`` and ``s256``, current and older forms."""

from __future__ import annotations

from _harness import attempt, instrumented, main, text

with instrumented("aauth.headers", "aauth.identifiers", "http_sf"):
    from aauth.headers import parse_mission

SEEDS = [
    'approver="https://ps.example";s256="dGhpcy1pcy1hLTQzLWNoYXJhY3Rlci1zMjU2LXZhbHVlLXg"',
    'approver="http://127.0.0.1:8000";s256="dGhpcy1pcy1hLTQzLWNoYXJhY3Rlci1zMjU2LXZhbHVlLXg"',
    'mission="https://ps.example";s256="AAAA"',
    'approver=tok;s256="x";s256="y"',
]


def target(data: bytes) -> None:
    value = text(data)
    attempt(parse_mission, value, allow_loopback_http=True)
    parse_mission(value)


if __name__ == "__main__":
    main(target, SEEDS)
