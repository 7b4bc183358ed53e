"""``aauth mission propose|complete`` (phases 5 and 12), ``aauth mission permission|audit``
(§F.9: ask before an action, record it after), and reading the mission file that
``aauth fetch --mission`` acts under."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .errors import CommandFailed, UsageError
from .fetch import agent_auth, roles_of
from .network import connection_failure

if TYPE_CHECKING:
    from ..agent.poller import ClarificationCallback
    from ..missions import ApprovedMission

__all__ = ["add_mission_arguments", "mission", "mission_file"]


def add_mission_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["propose", "complete", "permission", "audit"],
        help="propose a mission, report it done, ask permission for an action (exit 1 when "
        "denied: do not perform it), or record an action performed",
    )
    parser.add_argument("--key", required=True, help="the agent's private JWK or PEM file")
    parser.add_argument("--agent-token", required=True, help="agent token (or @file)")
    parser.add_argument(
        "--description", default="", help="propose, permission, audit: what the agent will do"
    )
    parser.add_argument("--tool", help="permission, audit: the action (tool) name")
    parser.add_argument(
        "--parameters", help="permission, audit: the action's parameters (a JSON object)"
    )
    parser.add_argument("--result", help="audit: the action's result (a JSON object)")
    parser.add_argument(
        "--resource", action="append", default=[], help="propose: URL=scope1,scope2 (repeat)"
    )
    parser.add_argument("--expires-in", type=int, help="propose: seconds until it ends")
    parser.add_argument("--out", help="propose: write the approved mission here")
    parser.add_argument(
        "--answer",
        action="append",
        default=[],
        help="propose: answer to a question the person asks while reviewing (repeat for "
        "more); without it, questions are asked on the terminal",
    )
    parser.add_argument(
        "--mission", help="complete, audit (and optionally permission): the mission file"
    )
    parser.add_argument("--summary", default="", help="complete: what was accomplished")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the exchange")


def mission_file(args: argparse.Namespace) -> ApprovedMission | None:
    """The approved mission in ``--mission FILE`` (None without the option)."""
    from ..missions import ApprovedMission

    if args.mission is None:
        return None
    try:
        document = json.loads(Path(args.mission).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandFailed(f"cannot read the mission file {args.mission}: {exc}") from None
    return ApprovedMission.from_json(document, allow_loopback_http=args.allow_loopback)


def _resources(values: Sequence[str]) -> dict[str, tuple[str, ...]]:
    resources: dict[str, tuple[str, ...]] = {}
    for value in values:
        resource, _, scopes = value.partition("=")
        resources[resource] = tuple(s for s in scopes.replace(",", " ").split() if s)
    return resources


def _propose(args: argparse.Namespace, answerer: ClarificationCallback | None) -> int:
    from ..missions import MissionProposal

    draft = MissionProposal(
        args.description,
        resources=_resources(args.resource),
        expires_at=time.time() + args.expires_in if args.expires_in else None,
    )
    proposal = MissionProposal.parse(  # the same checks the person server applies
        draft.body(), now=time.time(), allow_loopback_http=args.allow_loopback
    )
    auth, _, token = agent_auth(args, answerer)
    try:
        approved = auth.propose_mission(proposal)
    except httpx.TransportError as exc:
        raise CommandFailed(connection_failure(exc, roles_of(None, token))) from None
    text = json.dumps(approved.to_json(), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


def _complete(args: argparse.Namespace) -> int:
    approved = mission_file(args)
    if approved is None:
        raise UsageError("mission complete needs --mission FILE (the approved mission)")
    auth, _, token = agent_auth(args, mission=approved)
    try:
        print(json.dumps(auth.complete_mission(args.summary)))
    except httpx.TransportError as exc:
        raise CommandFailed(connection_failure(exc, roles_of(None, token))) from None
    return 0


def _object(value: str | None, option: str) -> dict[str, Any] | None:
    """A JSON object given on the command line; UsageError otherwise."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise UsageError(f'{option} must be a JSON object, e.g. \'{{"to": "alice"}}\'')
    return parsed


def _governed(args: argparse.Namespace) -> int:
    """``permission``: print the grant (a denial fails the command, exit 1, so a script
    never goes on to act, AG-32); ``audit``: record the action (PS-22)."""
    if not args.tool:
        raise UsageError(f"mission {args.action} needs --tool NAME (the action)")
    approved = mission_file(args)
    if args.action == "audit" and approved is None:
        raise UsageError("mission audit needs --mission FILE: there is no audit outside one")
    parameters = _object(args.parameters, "--parameters")
    auth, _, token = agent_auth(args, mission=approved)
    description = args.description or None
    try:
        if args.action == "audit":
            result = _object(args.result, "--result")
            auth.audit(args.tool, description=description, parameters=parameters, result=result)
            return 0
        auth.request_permission(args.tool, description=description, parameters=parameters)
    except httpx.TransportError as exc:
        raise CommandFailed(connection_failure(exc, roles_of(None, token))) from None
    print(json.dumps({"permission": "granted"}))
    return 0


def mission(args: argparse.Namespace, answerer: ClarificationCallback | None = None) -> int:
    """``answerer`` replies to the person's questions about a proposal (phase 12)."""
    if args.action in ("permission", "audit"):
        return _governed(args)
    return _propose(args, answerer) if args.action == "propose" else _complete(args)
