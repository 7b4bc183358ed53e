"""The ``aauth`` command line: run participants and demos, enroll an agent, and inspect or
make signatures. Every mistake is one line on stderr (see :mod:`aauth.commands.errors`).

aauth serve person --port 8443 --db ps.db --config ps.json
aauth serve access --port 8444 --db as.db --config as.json
aauth demo all
aauth keygen --out agent.jwk
aauth enroll https://ap.example --enrollment-key enroll.jwk --key a.jwk --agent-token a.token
aauth sign --key agent.jwk GET https://api.example/items
aauth decode eyJhbGciOi...
aauth fetch -v --key agent.jwk --agent-token @agent.token https://api.example/data
aauth mission propose --key agent.jwk --agent-token @agent.token --description "…" \
    --resource https://api.example=data.read --out mission.json
aauth fetch --key agent.jwk --agent-token @agent.token --mission mission.json URL
aauth mission permission --key agent.jwk --agent-token @agent.token --mission mission.json \
    --tool SendEmail
aauth mission complete --key agent.jwk --agent-token @agent.token --mission mission.json
aauth ask --key agent.jwk --agent-token @agent.token "Book the refundable fare?"
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import __version__
from .commands import inputs
from .commands.errors import CommandFailed, OneLineParser, UsageError, run_verb

if TYPE_CHECKING:
    from .agent.poller import Clarification, ClarificationCallback

__all__ = ["build_parser", "main"]


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
        log_level=args.log_level,
        log_format=args.log_format,
    )


def _demo(args: argparse.Namespace) -> int:
    from .demo.runner import parse_phases, run_demos

    try:
        parse_phases(args.phase)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return run_demos(args.phase, manual=args.manual)


def _keygen(args: argparse.Namespace) -> int:
    from .keys import default_kid, generate_key, private_jwk, thumbprint, write_secret

    key = generate_key(args.alg)
    jwk = private_jwk(key, kid=args.kid or default_kid(key))
    text = json.dumps(jwk, indent=2) + "\n"
    if args.out:
        write_secret(args.out, text, overwrite=False)
    if args.thumbprint:
        print(thumbprint(key))
    elif args.out:
        print(json.dumps({k: v for k, v in jwk.items() if k != "d"}, indent=2))
    else:
        print(text, end="")
    return 0


def _sign(args: argparse.Namespace) -> int:
    from .agent.signer import AgentSigner

    scheme = args.scheme or ("jwt" if args.token else "hwk")
    if scheme == "jwt" and not args.token:
        raise UsageError("--scheme jwt needs --token (an agent or auth token, or @file)")
    if scheme != "jwt" and args.token:
        raise UsageError(f"--token is sent only with --scheme jwt, not {scheme}")
    inputs.check_url(args.url)
    signer = AgentSigner(inputs.load_key(args.key), inputs.token(args.token))
    headers = inputs.headers(args.header)
    added = signer.sign(args.method, args.url, headers, inputs.body(args.data), scheme=scheme)
    for name, value in added.items():
        print(f"{name}: {value}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from aauth_signing import HttpRequest, SignatureError, VerificationPolicy, verify_request

    from .discovery import Discovery
    from .egress import EgressPolicy
    from .token_keys import TokenKeyResolver
    from .tokens import TokenVerifier

    inputs.check_url(args.url)
    request = HttpRequest(
        args.method, args.url, inputs.headers(args.header), inputs.body(args.data)
    )
    policy = VerificationPolicy.generic(accepted_schemes=("jwt", "hwk", "jkt-jwt", "jwks_uri"))
    discovery = Discovery(EgressPolicy(allow_loopback_http=args.allow_loopback))
    tokens = TokenVerifier(discovery, trusted_issuers=None, allow_loopback_http=args.allow_loopback)
    resolver = TokenKeyResolver(discovery, tokens, audience=None, accepted=policy.accepted_schemes)
    try:
        verified = verify_request(request, policy, resolver)
    except SignatureError as exc:
        raise CommandFailed(f"invalid: {exc.code}: {exc.description}") from None
    finally:
        discovery.close()
    print(f"valid: label={verified.label} scheme={verified.scheme} jkt={verified.thumbprint}")
    if verified.signer:
        print(f"signer: {verified.signer}")
    return 0


def _decode(args: argparse.Namespace) -> int:
    from .decode import describe, describe_lines, is_header_line

    text = inputs.read_at_file(args.value, "input").strip()
    if args.header is None and is_header_line(text):
        described = describe_lines(text)
    else:
        described = describe(text, args.header)
    print(json.dumps(described, indent=2, default=str))
    return 0


def _enroll(args: argparse.Namespace) -> int:
    from .commands.enroll import enroll

    return enroll(args)


def _answerer(answers: Sequence[str]) -> ClarificationCallback | None:
    """``aauth fetch``'s and ``aauth mission propose``'s answers to questions asked during
    consent (phase 8) or a mission review (phase 12): the
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


def _fetch(args: argparse.Namespace) -> int:
    from .commands.fetch import fetch
    from .commands.mission import mission_file

    return fetch(args, _answerer(args.answer), mission_file(args))


def _mission(args: argparse.Namespace) -> int:
    from .commands.mission import mission

    return mission(args, _answerer(args.answer) if args.action == "propose" else None)


def _ask(args: argparse.Namespace) -> int:
    from .commands.ask import ask

    return ask(args)


# -- parser --------------------------------------------------------------------------------------


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that shows each option's default (when it has a meaningful one) and keeps the
    examples in the epilog as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or default in (None, False, [], argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


_ROLES = """roles:
  resource        the example protected API (GET /data needs an auth token with data.read);
                  without --config on loopback: a development configuration
  agent-provider  issues agent tokens to enrolled agents (aauth enroll);
                  without --config on loopback: a development configuration, no agents
  person          the person server: people sign in and approve, auth tokens are issued;
                  needs --config naming its people
  access          an access server: issues auth tokens for the resources it serves, after
                  the person servers it trusts; needs --config naming both"""


def _command(
    commands: Any, name: str, summary: str, *examples: str, epilog: str = ""
) -> argparse.ArgumentParser:
    text = "\n\n".join(part for part in (epilog, _examples(*examples)) if part)
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=summary, epilog=text, formatter_class=_HelpFormatter
    )
    return parser


def _request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-H", "--header", action="append", default=[], help="a request header, 'Name: value'"
    )
    parser.add_argument("-d", "--data", help="the request body, or @file to send a file")


def _loopback(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        inputs.LOOPBACK_FLAG,
        action="store_true",
        help="admit plain http://127.0.0.1 servers (development only)",
    )


def _add_serve(commands: Any) -> None:
    serve = _command(
        commands,
        "serve",
        "run a participant as an HTTP service",
        "aauth serve resource --port 8001",
        "aauth serve agent-provider --port 8002 --config ap.json",
        "aauth serve person --port 8003 --config ps.json --db ps.db --log-format json",
        "aauth serve access --port 8004 --config as.json",
        epilog=_ROLES,
    )
    serve.add_argument(
        "role",
        choices=["person", "access", "resource", "agent-provider"],
        help="the participant (see roles)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=inputs.port, default=8000, help="port to listen on")
    serve.add_argument("--config", help="JSON configuration file (see docs/)")
    serve.add_argument("--db", help="SQLite state file (overrides the configuration's)")
    serve.add_argument(
        "--store",
        help="where state lives: redis://HOST:PORT/DB (shared by instances) or a SQLite file; "
        "default: $AAUTH_STORE, else the configuration's store/db",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="least severe message logged (info shows one access-log line per request)",
    )
    serve.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="access-log lines as text, or as one JSON object each for log shippers",
    )
    serve.set_defaults(func=_serve)


def _add_demo(commands: Any) -> None:
    demo = _command(
        commands,
        "demo",
        "run protocol phase demos over loopback HTTP",
        "aauth demo all",
        "aauth demo 4 --manual   # approve on the consent page in your browser",
    )
    demo.add_argument("phase", help="a phase number (docs/phases.md lists them), or all")
    demo.add_argument(
        "--manual",
        action="store_true",
        help="a person decides in a browser where a phase asks one (4, 5, 7, 8, 9, 12)",
    )
    demo.set_defaults(func=_demo)


def _add_keys(commands: Any) -> None:
    keygen = _command(
        commands,
        "keygen",
        "generate a private key (JWK)",
        "aauth keygen --out agent.jwk",
        "JKT=$(aauth keygen --out enrollment.jwk --thumbprint)",
    )
    keygen.add_argument(
        "--alg", default="Ed25519", choices=["Ed25519", "ES256", "ES384"], help="key algorithm"
    )
    keygen.add_argument("--kid", help="key id (default: the key's thumbprint)")
    keygen.add_argument(
        "--out", help="write the private JWK here (mode 0600; never overwrites); else stdout"
    )
    keygen.add_argument(
        "--thumbprint",
        action="store_true",
        help="print only the RFC 7638 thumbprint (what an agent provider enrolls)",
    )
    keygen.set_defaults(func=_keygen)

    enroll = _command(
        commands,
        "enroll",
        "get an agent token from an agent provider",
        "aauth enroll https://ap.example --enrollment-key enrollment.jwk "
        "--key agent.jwk --agent-token agent.token",
        "aauth fetch --key agent.jwk --agent-token @agent.token https://api.example/data",
    )
    from .commands.enroll import add_enroll_arguments

    add_enroll_arguments(enroll)
    _loopback(enroll)
    enroll.set_defaults(func=_enroll)


def _add_signatures(commands: Any) -> None:
    sign = _command(
        commands,
        "sign",
        "print the signature headers for a request",
        "aauth sign --key agent.jwk GET https://api.example/items",
        "aauth sign --key agent.jwk --token @agent.token GET https://api.example/data",
    )
    sign.add_argument("--key", required=True, help="private JWK or PEM file")
    sign.add_argument(
        "--scheme",
        choices=["hwk", "jwt"],
        help="Signature-Key scheme (default: jwt with --token, else hwk)",
    )
    sign.add_argument("--token", help="agent or auth token for the jwt scheme (or @file)")
    sign.add_argument("method", help="HTTP method, e.g. GET")
    sign.add_argument("url", help="absolute URL, e.g. https://api.example/items")
    _request_arguments(sign)
    sign.set_defaults(func=_sign)

    verify = _command(
        commands,
        "verify",
        "verify a signed request's headers",
        "aauth verify GET https://api.example/items -H 'Signature-Key: …' "
        "-H 'Signature-Input: …' -H 'Signature: …'",
    )
    verify.add_argument("method", help="HTTP method, e.g. GET")
    verify.add_argument("url", help="absolute URL the request was signed for")
    _loopback(verify)
    _request_arguments(verify)
    verify.set_defaults(func=_verify)

    decode = _command(
        commands,
        "decode",
        "pretty-print an AAuth token or header",
        "aauth decode @agent.token",
        "aauth sign --key agent.jwk GET https://api.example/items > signed.txt; "
        "aauth decode @signed.txt",
        "aauth decode 'requirement=auth-token; resource-token=\"eyJ…\"'",
    )
    decode.add_argument(
        "value", help="a token, a header value, 'Name: value' lines, or @file holding any of them"
    )
    decode.add_argument("--header", help="which header the value is from, e.g. Signature-Key")
    decode.set_defaults(func=_decode)


def _add_fetch(commands: Any) -> None:
    fetch = _command(
        commands,
        "fetch",
        "a signed request that runs the whole flow (challenge, consent, auth token, retry)",
        "aauth fetch --key agent.jwk --agent-token @agent.token https://api.example/data",
        "aauth fetch -i -o data.json --key agent.jwk --agent-token @agent.token "
        "https://api.example/data",
    )
    fetch.add_argument("url", help="absolute URL of the protected resource")
    fetch.add_argument("-X", "--method", default="GET", help="HTTP method")
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
    fetch.add_argument(
        "-i", "--include", action="store_true", help="print the status line and headers"
    )
    fetch.add_argument("-o", "--output", help="write the response body to this file")
    fetch.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for each server"
    )
    fetch.add_argument("-v", "--verbose", action="store_true", help="print the exchange")
    fetch.add_argument("--mission", help="act under the mission in this file (mission propose)")
    _loopback(fetch)
    _request_arguments(fetch)
    fetch.set_defaults(func=_fetch)

    mission = _command(
        commands,
        "mission",
        "propose a mission, report it complete, ask permission, record an action",
        "aauth mission propose --key agent.jwk --agent-token @agent.token "
        "--description 'Plan the trip' --resource https://api.example=data.read --out m.json",
        "aauth mission permission --key agent.jwk --agent-token @agent.token --mission m.json "
        "--tool SendEmail && send-the-email",
        "aauth mission audit --key agent.jwk --agent-token @agent.token --mission m.json "
        '--tool SendEmail --result \'{"status": "sent"}\'',
        "aauth mission complete --key agent.jwk --agent-token @agent.token --mission m.json "
        "--summary 'Booked'",
    )
    from .commands.mission import add_mission_arguments

    add_mission_arguments(mission)
    _loopback(mission)
    mission.set_defaults(func=_mission)

    ask = _command(
        commands,
        "ask",
        "ask the agent's person a question through its person server; print the answer",
        "aauth ask --key agent.jwk --agent-token @agent.token 'Book the refundable fare?'",
    )
    from .commands.ask import add_ask_arguments

    add_ask_arguments(ask)
    _loopback(ask)
    ask.set_defaults(func=_ask)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="aauth",
        description="AAuth protocol tools: run participants, enroll an agent, sign, verify, "
        "decode and fetch.",
        epilog=_examples(
            "aauth demo all",
            "aauth serve resource --port 8001",
            "aauth enroll http://127.0.0.1:8002 --enrollment-key enrollment.jwk "
            "--key agent.jwk --agent-token agent.token --allow-loopback",
            "aauth VERB --help",
        ),
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aauth {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="VERB")
    _add_serve(commands)
    _add_demo(commands)
    _add_keys(commands)
    _add_signatures(commands)
    _add_fetch(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``aauth …``; returns the exit code (0, 1 failure, 2 usage, 130 interrupted)."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        return 130
    result: int = run_verb(args.command, lambda: args.func(args))
    return result


if __name__ == "__main__":
    raise SystemExit(main())
