"""What an access server is configured with, loadable from one JSON file.

    {
      "identifier": "https://as.example",
      "db": "as.db", "key_file": "as-keys.json",
      "resources": ["https://docs.example"],
      "trusted_person_servers": ["https://ps.example"],
      "people": [{"id": "owner", "name": "Resource owner", "password": "…"}],
      "payment": "0.10 USD", "interaction": true,
      "clarification": "What will the agent do with the data?",
      "required_claims": ["sub", "name"]
    }

``resources`` are the resources that chose this AS (whose resource tokens it accepts);
``trusted_person_servers`` the only PSes whose token requests it takes (phase 11). The
steps run in this order before a token is issued: ``payment`` (a 402 one of ``people`` settles
once per PS on a simulated payment page), ``interaction`` (a 202 sending a person to this AS's
page to approve as one of ``people``), ``clarification`` (a question the PS answers) and
``required_claims`` (identity claims the PS supplies). ``max_chain_depth`` bounds the ``act``
chain of call-chained requests (AS-08). Mistakes raise ConfigError naming the
member at load, not at the first request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Self

from ..config_files import LOOPBACK_SWITCH, check_member_types, server_config_values
from ..identifiers import is_server_identifier, not_an_identifier
from ..person.config import ConfigError, StatefulServerConfig, parse_person
from ..person.persons import Person
from ..tokens.auth import MAX_AUTH_TOKEN_LIFETIME
from ..tokens.claims import MAX_ACT_DEPTH
from ..tokens.upstream import DEFAULT_MAX_CHAIN_DEPTH

__all__ = ["CLAIMS_SUPPORTED", "AccessServerConfig"]

CLAIMS_SUPPORTED = ("sub", "name", "email")
"""Identity claims an access server may ask a person server for (``sub`` always comes)."""

MAX_WAIT_CAP = 300
MAX_TEXT = 1000


@dataclass(frozen=True, kw_only=True)
class AccessServerConfig(StatefulServerConfig):
    """An access server's settings; see the module docstring for the JSON form."""

    identifier: str
    name: str | None = None
    resources: tuple[str, ...] = ()
    trusted_person_servers: tuple[str, ...] = ()
    people: tuple[Person, ...] = ()
    payment: str | None = None
    interaction: bool = False
    clarification: str | None = None
    required_claims: tuple[str, ...] = ()
    auth_token_lifetime: int = MAX_AUTH_TOKEN_LIFETIME
    pending_lifetime: int = 600
    session_lifetime: int = 3600
    max_wait: int = 60
    poll_interval: int = 5
    signature_window: int = 60
    max_chain_depth: int = DEFAULT_MAX_CHAIN_DEPTH
    db: str = ":memory:"
    store: str | None = None
    key_file: str | None = None
    allow_loopback_http: bool = False

    def __post_init__(self) -> None:
        try:
            check_member_types(self)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        loop = self.allow_loopback_http
        if not is_server_identifier(self.identifier, allow_loopback_http=loop):
            raise ConfigError(not_an_identifier("identifier", self.identifier, LOOPBACK_SWITCH))
        for name in ("resources", "trusted_person_servers"):
            for value in getattr(self, name):
                if not is_server_identifier(value, allow_loopback_http=loop):
                    raise ConfigError(not_an_identifier(name, value, LOOPBACK_SWITCH))
        if not self.resources:
            raise ConfigError("resources must name at least one resource this AS serves")
        unknown = [c for c in self.required_claims if c not in CLAIMS_SUPPORTED]
        if unknown:
            raise ConfigError(f"required_claims: {unknown} are not in {list(CLAIMS_SUPPORTED)}")
        if self.interaction and not self.people:
            raise ConfigError("interaction needs people who may approve at this access server")
        if self.payment is not None and not self.people:
            raise ConfigError("payment needs people who may pay at this access server")
        for name in ("payment", "clarification"):
            text = getattr(self, name)
            if text is not None and not 0 < len(text) <= MAX_TEXT:
                raise ConfigError(f"{name} must be 1..{MAX_TEXT} characters")
        if not 0 < self.auth_token_lifetime <= MAX_AUTH_TOKEN_LIFETIME:
            raise ConfigError(f"auth_token_lifetime must be 1..{MAX_AUTH_TOKEN_LIFETIME}")
        if not 0 <= self.max_wait <= MAX_WAIT_CAP:
            raise ConfigError(f"max_wait must be 0..{MAX_WAIT_CAP}")
        if not 0 < self.signature_window <= 300:
            raise ConfigError("signature_window must be 1..300 seconds")
        for name in ("pending_lifetime", "session_lifetime"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        if self.poll_interval < 0:
            raise ConfigError("poll_interval must not be negative")
        if not 1 <= self.max_chain_depth <= MAX_ACT_DEPTH:
            raise ConfigError(f"max_chain_depth must be 1..{MAX_ACT_DEPTH}")

    @classmethod
    def from_json(cls, document: Any, *, base_dir: str | os.PathLike[str] = ".") -> Self:
        """The configuration in a parsed JSON document; paths resolve against ``base_dir``."""
        try:
            values = server_config_values(cls, document, base_dir)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        for name in ("resources", "trusted_person_servers", "required_claims", "people"):
            if name in values:
                if not isinstance(values[name], list):
                    raise ConfigError(f"{name} must be an array")
                values[name] = tuple(values[name])
        values["people"] = tuple(parse_person(entry) for entry in values.get("people", ()))
        return cls(**values)
