"""The ``aauth`` command line: run participants and demos, and inspect or make signatures.

aauth serve person --port 8443 --db ps.db --config ps.json
aauth serve access --port 8444 --db as.db --config as.json
aauth demo all
aauth keygen --out agent.jwk
aauth sign --key agent.jwk GET https://api.example/items
aauth decode eyJhbGciOi...
aauth fetch -v --key agent.jwk --agent-token "$TOKEN" https://api.example/data
aauth mission propose --key agent.jwk --agent-token "$TOKEN" --description "…" \
    --resource https://api.example=data.read --out mission.json
aauth fetch --key agent.jwk --agent-token "$TOKEN" --mission mission.json https://api.example/data
aauth mission complete --key agent.jwk --agent-token "$TOKEN" --mission mission.json --summary "…"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .agent.poller import Clarification, ClarificationCallback

__all__ = ["main"]


def _headers(values: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise SystemExit(f"aauth: header {value!r} is not 'Name: value'")
        headers[name.strip()] = rest.strip()
    return headers


def _body(data: str | None) -> bytes | None:
    if data is None:
        return None
    if data.startswith("@"):
        return Path(data[1:]).read_bytes()
    return data.encode("utf-8")


def _load_key(path: str) -> Any:
    from aauth_signing import signing_key_from_jwk

    from .keys import load_private_pem

    raw = Path(path).read_bytes()
    if raw.lstrip().startswith(b"{"):
        return signing_key_from_jwk(json.loads(raw))
    return load_private_pem(raw)


def _token(value: str | None) -> str | None:
    if value and value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8").strip()
    return value


# -- commands ------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    from .server.roles import serve_role

    return serve_role(
        args.role,
        config=args.config,
        host=args.host,
        port=args.port,
        db=args.db,
        store=args.store,
        workers=args.workers,
    )


def _demo(args: argparse.Namespace) -> int:
    from .demo.runner import run_demos

    return run_demos(args.phase, manual=args.manual)


def _keygen(args: argparse.Namespace) -> int:
    from .keys import default_kid, generate_key, private_jwk

    key = generate_key(args.alg)
    jwk = private_jwk(key, kid=args.kid or default_kid(key))
    text = json.dumps(jwk, indent=2) + "\n"
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        public = {k: v for k, v in jwk.items() if k != "d"}
        print(json.dumps(public, indent=2))
    else:
        print(text, end="")
    return 0


def _sign(args: argparse.Namespace) -> int:
    from .agent.signer import AgentSigner

    signer = AgentSigner(_load_key(args.key), _token(args.token))
    headers = _headers(args.header)
    added = signer.sign(args.method, args.url, headers, _body(args.data), scheme=args.scheme)
    for name, value in added.items():
        print(f"{name}: {value}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from aauth_signing import HttpRequest, SignatureError, VerificationPolicy, verify_request

    from .discovery import Discovery
    from .egress import EgressPolicy
    from .token_keys import TokenKeyResolver
    from .tokens import TokenVerifier

    request = HttpRequest(args.method, args.url, _headers(args.header), _body(args.data))
    policy = VerificationPolicy.generic(accepted_schemes=("jwt", "hwk", "jkt-jwt", "jwks_uri"))
    discovery = Discovery(EgressPolicy(allow_loopback_http=args.allow_loopback))
    tokens = TokenVerifier(discovery, trusted_issuers=None, allow_loopback_http=args.allow_loopback)
    resolver = TokenKeyResolver(discovery, tokens, audience=None, accepted=policy.accepted_schemes)
    try:
        verified = verify_request(request, policy, resolver)
    except SignatureError as exc:
        print(f"invalid: {exc.code}: {exc.description}", file=sys.stderr)
        return 1
    finally:
        discovery.close()
    print(f"valid: label={verified.label} scheme={verified.scheme} jkt={verified.thumbprint}")
    if verified.signer:
        print(f"signer: {verified.signer}")
    return 0


def _decode(args: argparse.Namespace) -> int:
    from .decode import describe

    print(json.dumps(describe(args.value, args.header), indent=2, default=str))
    return 0


def _answerer(answers: Sequence[str]) -> ClarificationCallback | None:
    """``aauth fetch``'s answers to questions asked during consent (phase 8): the
    ``--answer`` values in order, then the terminal when stdin is one (an empty line
    withdraws the request). None when there is no way to answer: the agent then does not
    claim the ``clarification`` capability, so the person server asks nothing."""
    if not answers and not sys.stdin.isatty():
        return None
    queued = list(answers)

    def answer(question: Clarification) -> str | None:
        print(f"\nThe person asks: {question.question}", file=sys.stderr)
        if queued:
            reply = queued.pop(0)
            print(f"Answering: {reply}", file=sys.stderr)
            return reply
        if not sys.stdin.isatty():
            print("No answer left (--answer) and stdin is not a terminal.", file=sys.stderr)
            return None
        try:
            reply = input("Your answer (empty to withdraw the request): ")
        except EOFError:
            return None
        return reply.strip() or None

    return answer


def _agent_auth(args: argparse.Namespace, mission: Any = None) -> tuple[Any, dict[str, Any]]:
    """The AgentAuth the agent commands share and its event hooks (-v prints every exchange,
    the person server's too)."""
    from .agent.auth import AgentAuth
    from .agent.poller import DeferredCallbacks, InteractionPrompt
    from .agent.signer import AgentSigner
    from .demo.printer import Printer

    def prompt(interaction: InteractionPrompt) -> None:
        print(f"\nOpen {interaction.link} (code {interaction.code}) to approve.\n", file=sys.stderr)

    signer = AgentSigner(_load_key(args.key), _token(args.agent_token))
    hooks = {"response": [Printer(sys.stderr).exchange]} if args.verbose else {}
    auth = AgentAuth(
        signer,
        callbacks=DeferredCallbacks(
            on_interaction=prompt, on_clarification=_answerer(getattr(args, "answer", []))
        ),
        justification=getattr(args, "justification", None),
        allow_loopback_http=args.allow_loopback,
        event_hooks=hooks,
        mission=mission,
    )
    return auth, hooks


def _mission_file(args: argparse.Namespace) -> Any:
    from .errors import InvalidRequest
    from .missions import ApprovedMission

    if args.mission is None:
        return None
    try:
        document = json.loads(Path(args.mission).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"cannot read the mission file {args.mission}: {exc}") from None
    return ApprovedMission.from_json(document, allow_loopback_http=args.allow_loopback)


def _reporting(command: str, action: Callable[[], int]) -> int:
    """Run an agent command: a protocol or transport error is one line on stderr, status 1."""
    import httpx
    from aauth_signing import SignatureError

    from .errors import AAuthError

    try:
        return action()
    except (AAuthError, SignatureError) as exc:
        print(f"aauth {command}: {exc.code}: {exc.description}", file=sys.stderr)
    except httpx.HTTPError as exc:
        print(f"aauth {command}: {exc}", file=sys.stderr)
    return 1


def _fetch(args: argparse.Namespace) -> int:
    import httpx

    from .tls import tls_context

    def fetch() -> int:
        auth, hooks = _agent_auth(args, _mission_file(args))
        with httpx.Client(
            auth=auth, event_hooks=hooks, timeout=60, verify=tls_context()
        ) as client:
            response = client.request(
                args.method, args.url, headers=_headers(args.header), content=_body(args.data)
            )
        print(response.text)
        return 0 if response.is_success else 1

    return _reporting("fetch", fetch)


def _resources(values: Sequence[str]) -> dict[str, tuple[str, ...]]:
    resources: dict[str, tuple[str, ...]] = {}
    for value in values:
        resource, _, scopes = value.partition("=")
        resources[resource] = tuple(s for s in scopes.replace(",", " ").split() if s)
    return resources


def _mission(args: argparse.Namespace) -> int:
    import time

    from .missions import MissionProposal

    def propose() -> int:
        draft = MissionProposal(
            args.description,
            resources=_resources(args.resource),
            expires_at=time.time() + args.expires_in if args.expires_in else None,
        )
        proposal = MissionProposal.parse(  # the same checks the person server applies
            draft.body(), now=time.time(), allow_loopback_http=args.allow_loopback
        )
        mission = _agent_auth(args)[0].propose_mission(proposal)
        text = json.dumps(mission.to_json(), indent=2) + "\n"
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        print(text, end="")
        return 0

    def complete() -> int:
        mission = _mission_file(args)
        if mission is None:
            raise SystemExit("aauth mission complete: --mission FILE is required")
        print(json.dumps(_agent_auth(args, mission)[0].complete_mission(args.summary)))
        return 0

    return _reporting("mission", propose if args.action == "propose" else complete)


# -- parser --------------------------------------------------------------------------------------


def _request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("-d", "--data", help="request body, or @file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aauth", description="AAuth protocol tools")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run a participant as an HTTP service")
    serve.add_argument("role", choices=["person", "access", "resource", "agent-provider"])
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--db", help="SQLite state file")
    serve.add_argument(
        "--store",
        help="where state lives: redis://HOST:PORT/DB (shared by instances) or a SQLite file; "
        "default: $AAUTH_STORE, else the configuration's store/db",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.add_argument("--config", help="JSON configuration file")
    serve.set_defaults(func=_serve)

    demo = commands.add_parser("demo", help="run protocol phase demos over loopback HTTP")
    demo.add_argument("phase", help="a phase number, or 'all'")
    demo.add_argument("--manual", action="store_true", help="a person approves in a browser")
    demo.set_defaults(func=_demo)

    keygen = commands.add_parser("keygen", help="generate a private key (JWK)")
    keygen.add_argument("--alg", default="Ed25519", choices=["Ed25519", "ES256", "ES384"])
    keygen.add_argument("--kid")
    keygen.add_argument("--out", help="write the private JWK here (mode 0600)")
    keygen.set_defaults(func=_keygen)

    sign = commands.add_parser("sign", help="print the signature headers for a request")
    sign.add_argument("--key", required=True, help="private JWK or PEM file")
    sign.add_argument("--scheme", default="hwk", choices=["hwk", "jwt"])
    sign.add_argument("--token", help="agent or auth token for the jwt scheme (or @file)")
    sign.add_argument("method")
    sign.add_argument("url")
    _request_arguments(sign)
    sign.set_defaults(func=_sign)

    verify = commands.add_parser("verify", help="verify a signed request's headers")
    verify.add_argument("method")
    verify.add_argument("url")
    verify.add_argument("--allow-loopback", action="store_true", help="development only")
    _request_arguments(verify)
    verify.set_defaults(func=_verify)

    decode = commands.add_parser("decode", help="pretty-print an AAuth token or header")
    decode.add_argument("value")
    decode.add_argument("--header", help="which header the value is from, e.g. Signature-Key")
    decode.set_defaults(func=_decode)

    fetch = commands.add_parser("fetch", help="a signed request that runs the whole flow")
    fetch.add_argument("url")
    fetch.add_argument("-X", "--method", default="GET")
    fetch.add_argument("--key", required=True, help="the agent's private JWK or PEM file")
    fetch.add_argument("--agent-token", required=True, help="agent token (or @file)")
    fetch.add_argument("--justification", help="shown to the person at consent")
    fetch.add_argument(
        "--answer",
        action="append",
        default=[],
        help="answer to a question the person asks during consent (repeat for more); "
        "without it, questions are asked on the terminal",
    )
    fetch.add_argument("-v", "--verbose", action="store_true", help="print the exchange")
    fetch.add_argument("--allow-loopback", action="store_true", help="development only")
    fetch.add_argument("--mission", help="act under the mission in this file (mission propose)")
    _request_arguments(fetch)
    fetch.set_defaults(func=_fetch)

    mission = commands.add_parser("mission", help="propose a mission, or report it complete")
    mission.add_argument("action", choices=["propose", "complete"])
    mission.add_argument("--key", required=True, help="the agent's private JWK or PEM file")
    mission.add_argument("--agent-token", required=True, help="agent token (or @file)")
    mission.add_argument("--description", default="", help="propose: what the agent will do")
    mission.add_argument(
        "--resource", action="append", default=[], help="propose: URL=scope1,scope2 (repeat)"
    )
    mission.add_argument("--expires-in", type=int, help="propose: seconds until it ends")
    mission.add_argument("--out", help="propose: write the approved mission here")
    mission.add_argument("--mission", help="complete: the mission file")
    mission.add_argument("--summary", default="", help="complete: what was accomplished")
    mission.add_argument("-v", "--verbose", action="store_true", help="print the exchange")
    mission.add_argument("--allow-loopback", action="store_true", help="development only")
    mission.set_defaults(func=_mission)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
