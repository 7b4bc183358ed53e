"""``aauth fetch``: one request as an agent, running the whole flow (challenge, the person
server, consent, retry), with curl's ``-i``, ``-o`` and ``--timeout``; and the
:class:`~aauth.agent.auth.AgentAuth` every agent command builds from its arguments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..jwt import peek
from ..tls import tls_context
from . import inputs
from .errors import CommandFailed
from .network import connection_failure, origin

if TYPE_CHECKING:
    from ..agent.auth import AgentAuth
    from ..agent.poller import ClarificationCallback, InteractionPrompt
    from ..missions import ApprovedMission

__all__ = ["agent_auth", "fetch", "roles_of"]


def roles_of(url: str | None, agent_token: str) -> dict[str, str]:
    """Which server is which, for naming the one that cannot be reached: the resource at
    ``url`` and the person server the agent token names."""
    roles = {origin(url): "resource"} if url else {}
    try:
        ps = peek(agent_token)[1].get("ps")
    except Exception:  # an unreadable token is reported by the flow itself
        ps = None
    if isinstance(ps, str):
        roles[origin(ps)] = "person server"
    return roles


def agent_auth(
    args: argparse.Namespace,
    answerer: ClarificationCallback | None = None,
    mission: ApprovedMission | None = None,
) -> tuple[AgentAuth, dict[str, list[Any]], str]:
    """The AgentAuth an agent command runs with, its event hooks (``-v`` prints every
    exchange, the person server's too) and the agent token."""
    from ..agent.auth import AgentAuth
    from ..agent.poller import DeferredCallbacks
    from ..agent.signer import AgentSigner
    from ..demo.printer import Printer

    def prompt(interaction: InteractionPrompt) -> None:
        print(f"\nOpen {interaction.link} (code {interaction.code}) to approve.\n", file=sys.stderr)

    agent_token = inputs.token(args.agent_token)
    assert agent_token is not None
    signer = AgentSigner(inputs.load_key(args.key), agent_token)
    hooks: dict[str, list[Any]] = (
        {"response": [Printer(sys.stderr).exchange]} if args.verbose else {}
    )
    auth = AgentAuth(
        signer,
        callbacks=DeferredCallbacks(on_interaction=prompt, on_clarification=answerer),
        justification=getattr(args, "justification", None),
        allow_loopback_http=args.allow_loopback,
        timeout=getattr(args, "timeout", 30.0),
        event_hooks=hooks,
        mission=mission,
    )
    return auth, hooks, agent_token


def _show_head(response: httpx.Response) -> None:
    print(f"{response.http_version} {response.status_code} {response.reason_phrase}")
    for name, value in response.headers.multi_items():
        print(f"{name}: {value}")
    print()


def fetch(
    args: argparse.Namespace,
    answerer: ClarificationCallback | None,
    mission: ApprovedMission | None = None,
) -> int:
    inputs.check_url(args.url, allow_loopback=args.allow_loopback)
    auth, hooks, agent_token = agent_auth(args, answerer, mission)
    request_headers, content = inputs.headers(args.header), inputs.body(args.data)
    try:
        with httpx.Client(
            auth=auth, event_hooks=hooks, timeout=args.timeout, verify=tls_context()
        ) as client:
            response = client.request(
                args.method, args.url, headers=request_headers, content=content
            )
    except httpx.TransportError as exc:
        raise CommandFailed(connection_failure(exc, roles_of(args.url, agent_token))) from None
    if args.include:
        _show_head(response)
    if args.output:
        Path(args.output).write_bytes(response.content)
    elif response.content:
        sys.stdout.write(response.text if response.text.endswith("\n") else response.text + "\n")
    if not response.is_success:
        status = f"{response.status_code} {response.reason_phrase}"
        raise CommandFailed(f"the resource answered {status}")
    return 0
