"""``aauth ask QUESTION``: ask the agent's person a question through its person server
(§F.6, ``type`` ``question``) and print their answer. A refusal (``denied``), an expiry, or a
person server with no person to ask (``interaction_unavailable``) is one line and exit 1."""

from __future__ import annotations

import argparse

import httpx

from .errors import CommandFailed, UsageError
from .fetch import agent_auth, roles_of
from .mission import mission_file
from .network import connection_failure

__all__ = ["add_ask_arguments", "ask"]


def add_ask_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", help="the question for the agent's person (Markdown)")
    parser.add_argument("--key", required=True, help="the agent's private JWK or PEM file")
    parser.add_argument("--agent-token", required=True, help="agent token (or @file)")
    parser.add_argument(
        "--max-wait", type=int, help="seconds the person server holds the question open"
    )
    parser.add_argument("--mission", help="ask under the mission in this file (mission propose)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the exchange")


def ask(args: argparse.Namespace) -> int:
    """Print the person's answer (their Markdown, as written) on stdout."""
    if args.max_wait is not None and args.max_wait <= 0:
        raise UsageError("--max-wait must be a positive number of seconds")
    auth, _, token = agent_auth(args, mission=mission_file(args))
    try:
        answer = auth.ask_person(args.question, max_wait=args.max_wait)
    except httpx.TransportError as exc:
        raise CommandFailed(connection_failure(exc, roles_of(None, token))) from None
    print(answer)
    return 0
