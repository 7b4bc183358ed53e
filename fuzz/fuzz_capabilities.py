"""``AAuth-Capabilities`` (§E.5): a list of capability tokens; unknown ones are dropped."""

from __future__ import annotations

from _harness import instrumented, main, text

with instrumented("aauth.headers", "http_sf"):
    from aauth.headers import CAPABILITIES, parse_capabilities

SEEDS = ["interaction", "interaction, clarification, payment", "x;y=1, (a b)", ""]


def target(data: bytes) -> None:
    assert parse_capabilities(text(data)) <= frozenset(CAPABILITIES)


if __name__ == "__main__":
    main(target, SEEDS)
