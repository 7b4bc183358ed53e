"""``AAuth-Requirement`` (§E.1) and every legacy challenge form: ``parse_requirement``,
``parse_challenge``, ``parse_agent_auth`` and ``find_requirement`` over a header set."""

from __future__ import annotations

from _harness import attempt, instrumented, main, text

with instrumented("aauth.headers", "aauth.identifiers", "http_sf"):
    from aauth.headers import (
        find_requirement,
        parse_agent_auth,
        parse_challenge,
        parse_requirement,
    )

SEEDS = [
    'requirement=auth-token;resource-token="eyJhbGciOiJFUzI1NiJ9.e30.AA"',
    'requirement=interaction;url="https://ps.example/interact";code="ABCD1234"',
    "requirement=agent-token",
    "requirement=approval",
    'requirement=claims;required_claims=("email" "name")',
    'requirement=clarification;clarification="why?"',
    "requirement=pseudonymous",
    'require=interaction;code="X"',
    'httpsig; auth-token; resource_token="eyJ.e30.AA"; auth_server="https://ps.example"',
    'sig=("@method");sigkey=jkt',
]
_NAMES = ("AAuth-Requirement", "AAuth", "Agent-Auth", "Signature-Requirement", "Accept-Signature")


def target(data: bytes) -> None:
    value = text(data)
    for loopback in (False, True):
        attempt(parse_requirement, value, allow_loopback_http=loopback)
        attempt(parse_challenge, value, allow_loopback_http=loopback)
    attempt(parse_agent_auth, value)
    name = _NAMES[data[0] % len(_NAMES)] if data else _NAMES[0]
    find_requirement({name: value}, allow_loopback_http=bool(len(data) % 2))


if __name__ == "__main__":
    main(target, SEEDS)
