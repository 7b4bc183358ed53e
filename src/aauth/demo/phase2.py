"""Phase 2: agent identity. An agent provider vouches for the agent's key with an agent
token (``aa-agent+jwt``); the resource verifies it through the provider's published metadata
and JWKS, and knows the caller as ``aauth:assistant@…``.
"""

from __future__ import annotations

from .phase1 import expect
from .printer import Printer
from .world import running_world


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 2 — agent identity through an agent token and JWKS discovery")
    printer.note("the agent instance enrolls with its provider (Signature-Key: jkt-jwt)")
    with running_world(printer, show_enrollment=True) as world, world.client() as client:
        signer = world.signer
        assert signer.agent_token is not None
        printer.token("agent token", signer.agent_token)
        url = f"{world.resource}/whoami"
        printer.note("a pseudonymous (hwk) signature is not enough for an identity route")
        anonymous = client.get(url, headers=signer.sign("GET", url, scheme="hwk"))
        expect(anonymous.status_code == 401, f"hwk on /whoami got {anonymous.status_code}")
        printer.note("signed with the agent token (Signature-Key: jwt)")
        identified = client.get(url, headers=signer.sign("GET", url))
        expect(
            identified.status_code == 200, f"agent token on /whoami got {identified.status_code}"
        )
        agent = identified.json().get("agent")
        printer.note(f"the resource identified the agent as {agent}")
        expect(agent == f"aauth:assistant@{world.agent_provider.split('://', 1)[1]}", "wrong agent")
