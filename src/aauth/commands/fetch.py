"""``aauth fetch``: one request as an agent, running the whole flow (challenge, the person
server, consent, retry), with curl's ``-i``, ``-o`` and ``--timeout``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..jwt import peek
from . import inputs
from .errors import CommandFailed
from .network import connection_failure, origin

if TYPE_CHECKING:
    from ..agent.poller import ClarificationCallback, InteractionPrompt

__all__ = ["fetch"]


def _roles(url: str, agent_token: str) -> dict[str, str]:
    """Which server is which, for naming the one that cannot be reached."""
    roles = {origin(url): "resource"}
    try:
        ps = peek(agent_token)[1].get("ps")
    except Exception:  # an unreadable token is reported by the flow itself
        ps = None
    if isinstance(ps, str):
        roles[origin(ps)] = "person server"
    return roles


def _show_head(response: httpx.Response) -> None:
    print(f"{response.http_version} {response.status_code} {response.reason_phrase}")
    for name, value in response.headers.multi_items():
        print(f"{name}: {value}")
    print()


def fetch(args: argparse.Namespace, answerer: ClarificationCallback | None) -> int:
    from ..agent.auth import AgentAuth
    from ..agent.poller import DeferredCallbacks
    from ..agent.signer import AgentSigner
    from ..demo.printer import Printer

    inputs.check_url(args.url, allow_loopback=args.allow_loopback)
    agent_token = inputs.token(args.agent_token)
    assert agent_token is not None
    signer = AgentSigner(inputs.load_key(args.key), agent_token)
    request_headers, content = inputs.headers(args.header), inputs.body(args.data)

    def prompt(interaction: InteractionPrompt) -> None:
        print(f"\nOpen {interaction.link} (code {interaction.code}) to approve.\n", file=sys.stderr)

    printer = Printer(sys.stderr)
    hooks: dict[str, list[Any]] = {"response": [printer.exchange]} if args.verbose else {}
    auth = AgentAuth(
        signer,
        callbacks=DeferredCallbacks(on_interaction=prompt, on_clarification=answerer),
        justification=args.justification,
        allow_loopback_http=args.allow_loopback,
        timeout=args.timeout,
        event_hooks=hooks,  # -v shows the exchange with the person server too
    )
    try:
        with httpx.Client(auth=auth, event_hooks=hooks, timeout=args.timeout) as client:
            response = client.request(
                args.method, args.url, headers=request_headers, content=content
            )
    except httpx.TransportError as exc:
        raise CommandFailed(connection_failure(exc, _roles(args.url, agent_token))) from None
    if args.include:
        _show_head(response)
    if args.output:
        Path(args.output).write_bytes(response.content)
    elif response.content:
        sys.stdout.write(response.text if response.text.endswith("\n") else response.text + "\n")
    if not response.is_success:
        raise CommandFailed(
            f"the resource answered {response.status_code} {response.reason_phrase}"
        )
    return 0
