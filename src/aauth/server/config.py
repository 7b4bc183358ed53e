"""Configuration of the participant servers, and what they all do the same way: read JSON,
load (or create) signing keys, run from the command line.

Every mistake raises ``ValueError`` naming the member, before anything listens: unknown
members (a typo must not silently drop a setting), wrong JSON types, bad identifiers.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import uvicorn

from ..agent_provider import EnrolledAgent
from ..config_files import LOOPBACK_SWITCH, build_config, check_member_types, read_config
from ..identifiers import is_endpoint_url, is_server_identifier, not_an_identifier, server_host
from ..resource.policy import check_components
from ..tokens import parse_scope
from ..tokens.agent import DEFAULT_AGENT_TOKEN_LIFETIME

__all__ = [
    "DEFAULT_SCOPES",
    "READ_SCOPE",
    "WRITE_SCOPE",
    "AgentProviderConfig",
    "ResourceServerConfig",
    "run_main",
    "serve_app",
]

READ_SCOPE = "data.read"
WRITE_SCOPE = "data.write"
DEFAULT_SCOPES = {READ_SCOPE: "Read your data", WRITE_SCOPE: "Add to your data"}

C = TypeVar("C")


def _identifier(value: str, name: str, allow_loopback_http: bool) -> None:
    if not is_server_identifier(value, allow_loopback_http=allow_loopback_http):
        raise ValueError(not_an_identifier(name, value, LOOPBACK_SWITCH))


def _authorities(config: Any) -> None:
    """Check ``public_origin`` (scheme and authority only); default ``canonical_authorities``
    to the identifier's host (with port on loopback)."""
    origin = config.public_origin
    if origin is not None:
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or origin != (f"{parts.scheme}://{parts.netloc}")
        ):
            raise ValueError(f"public_origin {origin!r} must be scheme://host[:port] only")
    if not config.canonical_authorities:
        object.__setattr__(config, "canonical_authorities", (server_host(config.identifier),))


def _is_scope(value: object) -> bool:
    try:
        return isinstance(value, str) and parse_scope(value) == (value,)
    except ValueError:
        return False


@dataclass(frozen=True)
class ResourceServerConfig:
    """Settings of the example resource (:mod:`aauth.server.resource_server`).

    ``trusted_issuers`` are the PS/AS identifiers whose auth tokens are accepted (an
    ``access_server`` is trusted implicitly; with neither, no auth token is). Agent tokens are
    accepted from any agent provider. ``canonical_authorities`` default to the identifier's
    host; ``public_origin`` is set behind a proxy. ``key_file`` keeps the signing keys across
    restarts (created on first start). ``store`` keeps the replay guard and the revoked auth
    tokens past a restart and across instances: a SQLite file or a ``redis://`` URL (default:
    memory). ``downstream_url`` turns on call chaining (phases 7 and 9): ``/chained`` forwards
    to that URL as this resource's own agent, extending the caller's grant; its pending
    requests live in the ``store`` for ``pending_lifetime`` seconds.
    ``additional_signature_components`` must be covered by every signature beyond the AAuth
    defaults (e.g. ``["content-type", "@target-uri"]``); the metadata lists them (V-46).
    """

    identifier: str
    key_file: str | None = None
    store: str = ":memory:"
    canonical_authorities: tuple[str, ...] = ()
    trusted_issuers: tuple[str, ...] = ()
    access_server: str | None = None
    scope_descriptions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SCOPES))
    signature_window: int = 60
    public_origin: str | None = None
    name: str | None = None
    downstream_url: str | None = None
    pending_lifetime: int = 600
    allow_loopback_http: bool = False
    additional_signature_components: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_member_types(self)
        check_components(self.additional_signature_components, "additional_signature_components")
        loop = self.allow_loopback_http
        _identifier(self.identifier, "identifier", loop)
        if self.downstream_url is not None and not is_endpoint_url(
            self.downstream_url, allow_loopback_http=loop
        ):
            raise ValueError(f"downstream_url {self.downstream_url!r} must be https, no query")
        if self.pending_lifetime <= 0:
            raise ValueError("pending_lifetime must be positive")
        for issuer in self.trusted_issuers:
            _identifier(issuer, "trusted issuer", loop)
        if self.access_server is not None:
            _identifier(self.access_server, "access_server", loop)
        descriptions = self.scope_descriptions
        if not isinstance(descriptions, Mapping) or not all(
            isinstance(v, str) and _is_scope(k) for k, v in descriptions.items()
        ):
            raise ValueError("scope_descriptions must map scope tokens to Markdown strings")
        missing = {READ_SCOPE, WRITE_SCOPE} - set(descriptions)
        if missing:
            raise ValueError(f"scope_descriptions must describe {sorted(missing)}")
        if not 0 < self.signature_window <= 300:
            raise ValueError("signature_window must be between 1 and 300 seconds")
        object.__setattr__(self, "scope_descriptions", MappingProxyType(dict(descriptions)))
        _authorities(self)

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any]) -> ResourceServerConfig:
        """From a JSON file (or an already parsed object)."""
        return build_config(cls, read_config(source))

    @property
    def trusted(self) -> tuple[str, ...]:
        """Issuers whose auth tokens are accepted: the trusted ones and the access server."""
        extra = (self.access_server,) if self.access_server else ()
        return tuple(dict.fromkeys((*self.trusted_issuers, *extra)))


@dataclass(frozen=True)
class AgentProviderConfig:
    """Settings of an agent provider (:mod:`aauth.server.agent_provider`)::

        {"identifier": "https://ap.example", "key_file": "ap-keys.json",
         "agents": {"assistant": {"enrollment_jkt": "<thumbprint>", "ps": "https://ps.example"}}}

    ``token_lifetime`` is at most 24 h; ``key_rotation_interval`` (seconds) rotates the
    signing key on a schedule. ``db`` is the SQLite file where delegates are recorded
    (default: in memory); ``store`` names a Redis server or SQLite file instead (see
    docs/deploy.md). The agents are checked when the provider is built.
    """

    identifier: str
    agents: Mapping[str, EnrolledAgent]
    key_file: str | None = None
    name: str | None = None
    callback_endpoint: str | None = None
    token_lifetime: int = DEFAULT_AGENT_TOKEN_LIFETIME
    key_rotation_interval: int | None = None
    canonical_authorities: tuple[str, ...] = ()
    public_origin: str | None = None
    db: str = ":memory:"
    store: str | None = None
    allow_loopback_http: bool = False

    def __post_init__(self) -> None:
        check_member_types(self)
        _identifier(self.identifier, "identifier", self.allow_loopback_http)
        _authorities(self)

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any]) -> AgentProviderConfig:
        """From a JSON file (or an already parsed object); ``agents`` maps each local name
        to ``{"enrollment_jkt": …, "ps": …}`` (``ps`` optional)."""
        data = read_config(source)
        agents = data.get("agents")
        if not isinstance(agents, dict):
            raise ValueError("'agents' must map local names to {enrollment_jkt, ps}")
        enrolled: dict[str, EnrolledAgent] = {}
        for local, entry in agents.items():
            if not isinstance(entry, dict) or not set(entry) <= {"enrollment_jkt", "ps"}:
                raise ValueError(f"agent {local!r} must be {{enrollment_jkt, ps}}")
            if not isinstance(entry.get("enrollment_jkt"), str):
                raise ValueError(f"agent {local!r} needs a string 'enrollment_jkt'")
            enrolled[local] = EnrolledAgent(local, entry["enrollment_jkt"], entry.get("ps"))
        return build_config(cls, {**data, "agents": enrolled})


def serve_app(app: Any, host: str, port: int) -> None:
    """Run ``app`` with uvicorn until interrupted."""
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def run_main(
    argv: Sequence[str] | None,
    description: str,
    load: Callable[[str], C],
    serve: Callable[[C, str, int], None],
) -> int:
    """``python -m aauth.server.<role> --config F [--host H] --port P``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True, help="JSON configuration file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        config = load(args.config)
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    serve(config, args.host, args.port)
    return 0
