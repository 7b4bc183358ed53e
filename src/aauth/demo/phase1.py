"""Phase 1: pseudonymous access. The agent signs with an inline key (``hwk``); the resource
verifies the signature with no discovery and knows the caller only by its key thumbprint.
"""

from __future__ import annotations

from ..agent.signer import AgentSigner
from ..keys import generate_key
from .printer import Printer
from .world import running_world


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 1 — pseudonymous access with an inline key (hwk)")
    with running_world(printer, agent_provider=False) as world, world.client() as client:
        url = f"{world.resource}/public/hello"
        printer.note("an unsigned request is refused with a Signature-Error")
        unsigned = client.get(url)
        expect(unsigned.status_code == 401, f"unsigned request got {unsigned.status_code}")
        signer = AgentSigner(generate_key())
        printer.note("the same request signed with a fresh key carried in Signature-Key (hwk)")
        signed = client.get(url, headers=signer.sign("GET", url, scheme="hwk"))
        expect(signed.status_code == 200, f"signed request got {signed.status_code}")
        printer.note(f"the resource saw {signed.json()}")
        expect(signer.thumbprint in signed.text, "the resource did not report the key thumbprint")


def expect(condition: bool, failure: str) -> None:
    """Fail the demo (the runner reports it) when the protocol did not behave as shown."""
    if not condition:
        raise AssertionError(failure)
