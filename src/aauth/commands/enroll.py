"""``aauth enroll``: get an agent token from an agent provider, from the command line.

The enrollment key (``--enrollment-key``, the long-term key whose thumbprint the provider
lists) delegates to the instance key (``--key``, made when the file does not exist yet); the
provider answers with an agent token bound to the instance key, written to
``--agent-token``. Both files are then ready for ``aauth fetch --key … --agent-token @…``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import httpx
from aauth_signing import SigningKey

from ..agent.enrollment import request_agent_token
from ..identifiers import is_server_identifier, not_an_identifier
from ..keys import generate_key, private_jwk, write_secret
from ..tls import tls_context
from ..tokens import decode_unverified
from ..tokens.verifier import AGENT_TOKEN
from .errors import CommandFailed, UsageError
from .inputs import LOOPBACK_FLAG, load_key
from .network import connection_failure

__all__ = ["add_enroll_arguments", "enroll"]


def add_enroll_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("provider", help="the agent provider's identifier, e.g. https://ap.example")
    parser.add_argument(
        "--enrollment-key",
        required=True,
        help="the agent's long-term key (JWK or PEM); the provider lists its thumbprint",
    )
    parser.add_argument(
        "--key",
        required=True,
        help="this instance's request key; created (Ed25519, mode 0600) when the file is absent",
    )
    parser.add_argument(
        "--agent-token",
        required=True,
        help="where to write the agent token (mode 0600, replaced if present)",
    )
    parser.add_argument(
        "--instance", help="name this instance; its identifier then survives new keys"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the provider"
    )


def _instance_key(path: str) -> tuple[SigningKey, bool]:
    """The key in ``path``, or a new one written there; True when it was made now."""
    if Path(path).exists():
        return load_key(path), False
    key = generate_key()
    write_secret(path, json.dumps(private_jwk(key), indent=2) + "\n", overwrite=False)
    return key, True


def enroll(args: argparse.Namespace) -> int:
    provider: str = args.provider.rstrip("/")
    loop: bool = args.allow_loopback
    if not is_server_identifier(provider, allow_loopback_http=loop):
        raise UsageError(not_an_identifier("provider", provider, LOOPBACK_FLAG))
    for path in (args.key, args.agent_token):
        if not Path(path).parent.is_dir():
            raise CommandFailed(f"{path}: the folder {Path(path).parent} does not exist")
    enrollment_key = load_key(args.enrollment_key)
    instance_key, created = _instance_key(args.key)
    try:
        with httpx.Client(timeout=args.timeout, verify=tls_context()) as client:
            token = request_agent_token(
                provider,
                enrollment_key,
                instance_key,
                client,
                instance=args.instance,
                allow_loopback_http=loop,
            )
    except httpx.TransportError as exc:
        raise CommandFailed(connection_failure(exc, {provider: "agent provider"})) from None
    write_secret(args.agent_token, token + "\n")
    claims = decode_unverified(AGENT_TOKEN, token, allow_loopback_http=loop)
    made = "created" if created else "kept"
    print(f"agent: {claims.sub}")
    print(f"key: {args.key} ({made})")
    print(f"agent token: {args.agent_token} (expires in {int(claims.exp - time.time())} s)")
    if claims.ps:
        print(f"person server: {claims.ps}")
    return 0
