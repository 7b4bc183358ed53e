"""What a person server is configured with, loadable from one JSON file.

Everything a deployment decides lives here: who the server is, the people it acts for,
which agents belong to whom (PS-28), what may be granted without asking (phase 3) and which
missions are approved without asking (phase 5: every resource and scope proposed is covered
by an ``auto_approve_missions`` rule), how long
things live, where state and keys are kept, and which agent providers are trusted.

    {
      "identifier": "https://ps.example",
      "db": "ps.db", "key_file": "ps-keys.json",
      "people": [{"id": "alice", "name": "Alice", "password": "…"}],
      "bindings": {"aauth:assistant@ap.example": "alice"},
      "auto_approve": [{"agent": "*", "resource": "https://docs.example",
                        "scopes": ["docs.read"]}],
      "auto_approve_missions": [{"agent": "*", "resource": "https://docs.example",
                                 "scopes": ["docs.read"]}],
      "trusted_agent_providers": ["https://ap.example"],
      "clarify": [{"agent": "*", "resource": "*", "scopes": ["docs.write"],
                   "question": "Why do you need to change my documents?"}]
    }

Relative ``db`` and ``key_file`` paths are relative to the file. Mistakes raise ConfigError
naming the member at load, not at the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Self

from ..config_files import LOOPBACK_SWITCH, check_member_types, read_config, server_config_values
from ..identifiers import is_agent_identifier, is_server_identifier, not_an_identifier
from ..tokens.auth import MAX_AUTH_TOKEN_LIFETIME
from ..tokens.claims import MAX_ACT_DEPTH
from ..tokens.upstream import DEFAULT_MAX_CHAIN_DEPTH
from .clarification import ClarificationLimits, ClarificationRule
from .passwords import DEFAULT_SCRYPT, ScryptParams, hash_password, is_password_hash
from .persons import Person

__all__ = [
    "ANY",
    "AutoApproval",
    "ConfigError",
    "PersonServerConfig",
    "StatefulServerConfig",
    "parse_person",
]

ANY = "*"
"""In an auto-approval rule: any agent, or any resource."""

MAX_WAIT_CAP = 300


class ConfigError(ValueError):
    """The configuration is unusable; the message names the member."""


@dataclass(frozen=True)
class AutoApproval:
    """Grant ``scopes`` at ``resource`` to ``agent`` without asking anyone (phase 3).

    ``agent`` is an agent identifier (the agent token ``sub``) or ``*``; ``resource`` a
    resource identifier or ``*``. A request is covered when every scope it asks for is listed.
    """

    agent: str
    resource: str
    scopes: frozenset[str]

    def covers(self, agent: str, resource: str, scope: tuple[str, ...]) -> bool:
        return (
            self.agent in (ANY, agent)
            and self.resource in (ANY, resource)
            and set(scope) <= self.scopes
        )


class StatefulServerConfig:
    """What the person and access server configurations share (both are frozen dataclasses
    with ``identifier``, ``db`` and ``store``): where their state lives, whether they are
    loopback development servers, and reading their JSON file."""

    __dataclass_fields__: ClassVar[dict[str, Any]]
    identifier: str
    db: str
    store: str | None

    @property
    def store_location(self) -> str:
        """Where the state lives: ``store`` when set, else the SQLite file ``db``."""
        return self.store or self.db

    @property
    def loopback(self) -> bool:
        """Whether this is a development server on plain loopback http (no Secure cookies)."""
        return self.identifier.startswith("http://")

    @classmethod
    def from_json(cls, document: Any, *, base_dir: str | os.PathLike[str] = ".") -> Self:
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read the JSON configuration file at ``path``."""
        try:
            document = read_config(path)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return cls.from_json(document, base_dir=Path(path).resolve().parent)


@dataclass(frozen=True, kw_only=True)
class PersonServerConfig(StatefulServerConfig):
    """A person server's settings; see the module docstring for the JSON form.

    ``bindings`` maps an agent identifier (agent token ``sub``, whose domain pins its agent
    provider) to the id of the one person it acts for. With ``bind_on_first_approval`` an
    unbound agent becomes bound to the first person who approves one of its requests.
    ``trusted_agent_providers`` None accepts agent tokens from any agent provider reachable
    under egress rules; a tuple accepts only those issuers. Lifetimes are seconds.
    ``clarify`` rules ask agents a question before the person decides; the
    ``clarification_*`` members cap each request's conversation (PS-29).
    ``max_chain_depth`` bounds the ``act`` chain of call-chained tokens (§D.4).
    ``allow_loopback_http`` admits ``http://127.0.0.1:PORT`` identifiers, for development.
    ``password_scrypt_n`` is scrypt's cost N for password hashes (default 2^17, 128 MiB per
    hash); lower it only for tests.
    """

    identifier: str
    name: str | None = None
    people: tuple[Person, ...] = ()
    bindings: Mapping[str, str] = field(default_factory=dict)
    bind_on_first_approval: bool = True
    auto_approve: tuple[AutoApproval, ...] = ()
    auto_approve_missions: tuple[AutoApproval, ...] = ()
    remember_consent: bool = True
    consent_lifetime: int = 30 * 24 * 3600
    trusted_agent_providers: tuple[str, ...] | None = None
    scopes_supported: tuple[str, ...] = ("openid", "profile")
    auth_token_lifetime: int = MAX_AUTH_TOKEN_LIFETIME
    pending_lifetime: int = 600
    session_lifetime: int = 3600
    max_wait: int = 60
    poll_interval: int = 5
    max_chain_depth: int = DEFAULT_MAX_CHAIN_DEPTH
    db: str = ":memory:"
    store: str | None = None
    key_file: str | None = None
    allow_loopback_http: bool = False
    clarify: tuple[ClarificationRule, ...] = ()
    clarification_rounds: int = 5
    clarification_max_length: int = 2000
    clarification_timeout: int = 120
    password_scrypt_n: int = DEFAULT_SCRYPT.n

    def __post_init__(self) -> None:
        try:
            check_member_types(self)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        loop = self.allow_loopback_http
        if not is_server_identifier(self.identifier, allow_loopback_http=loop):
            message = not_an_identifier("identifier", self.identifier, LOOPBACK_SWITCH)
            raise ConfigError(message)
        ids = [person.id for person in self.people]
        if len(set(ids)) != len(ids):
            raise ConfigError("people: every person needs a unique id")
        for agent, person in self.bindings.items():
            if not is_agent_identifier(agent, allow_loopback_http=loop):
                raise ConfigError(f"bindings: {agent!r} is not an agent identifier")
            if person not in ids:
                raise ConfigError(f"bindings: {agent!r} is bound to unknown person {person!r}")
        for issuer in self.trusted_agent_providers or ():
            if not is_server_identifier(issuer, allow_loopback_http=loop):
                raise ConfigError(f"trusted_agent_providers: {issuer!r} is not an identifier")
        if not 0 < self.auth_token_lifetime <= MAX_AUTH_TOKEN_LIFETIME:
            raise ConfigError(f"auth_token_lifetime must be 1..{MAX_AUTH_TOKEN_LIFETIME}")
        if not 0 <= self.max_wait <= MAX_WAIT_CAP:
            raise ConfigError(f"max_wait must be 0..{MAX_WAIT_CAP}")
        for name in ("consent_lifetime", "pending_lifetime", "session_lifetime"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        if self.poll_interval < 0:
            raise ConfigError("poll_interval must not be negative")
        if not 1 <= self.max_chain_depth <= MAX_ACT_DEPTH:
            raise ConfigError(f"max_chain_depth must be 1..{MAX_ACT_DEPTH}")
        try:
            self.clarification_limits  # noqa: B018 (checks the three limits)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        _password_params(self.password_scrypt_n)

    @property
    def clarification_limits(self) -> ClarificationLimits:
        """The caps on each request's clarification chat (PS-29)."""
        return ClarificationLimits(
            self.clarification_rounds, self.clarification_max_length, self.clarification_timeout
        )

    @property
    def password_params(self) -> ScryptParams:
        """The scrypt parameters new password hashes are made with."""
        return _password_params(self.password_scrypt_n)

    def with_db(self, db: str) -> PersonServerConfig:
        """This configuration with its state in the SQLite file ``db`` (``aauth serve --db``)."""
        return replace(self, db=db)

    @classmethod
    def from_json(cls, document: Any, *, base_dir: str | os.PathLike[str] = ".") -> Self:
        """The configuration in a parsed JSON document; paths resolve against ``base_dir``."""
        try:
            values = server_config_values(cls, document, base_dir)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if "people" in values:
            cost = _password_params(values.get("password_scrypt_n", DEFAULT_SCRYPT.n))
            values["people"] = tuple(parse_person(entry, cost) for entry in _list(values, "people"))
        for name in ("auto_approve", "auto_approve_missions"):
            if name in values:
                values[name] = tuple(_rule(entry, name) for entry in _list(values, name))
        if "clarify" in values:
            values["clarify"] = tuple(_question(entry) for entry in _list(values, "clarify"))
        for name in ("trusted_agent_providers", "scopes_supported"):
            if values.get(name) is not None:
                values[name] = tuple(_strings(values, name))
        if "bindings" in values and not _is_string_map(values["bindings"]):
            raise ConfigError("bindings must map agent identifiers to person ids")
        return cls(**values)


def _password_params(n: object) -> ScryptParams:
    if type(n) is not int:
        raise ConfigError("password_scrypt_n must be an integer")
    try:
        return ScryptParams(n=n, r=DEFAULT_SCRYPT.r, p=DEFAULT_SCRYPT.p)
    except ValueError as exc:
        raise ConfigError(f"password_scrypt_n: {exc}") from None


def _list(values: Mapping[str, Any], name: str) -> list[Any]:
    value = values[name]
    if not isinstance(value, list):
        raise ConfigError(f"{name} must be an array")
    return value


def _strings(values: Mapping[str, Any], name: str) -> list[str]:
    items = _list(values, name)
    if not all(isinstance(item, str) and item for item in items):
        raise ConfigError(f"{name} must be an array of non-empty strings")
    return items


def _is_string_map(value: object) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def parse_person(entry: Any, cost: ScryptParams = DEFAULT_SCRYPT) -> Person:
    """A person from ``{"id", "name", "password" | "password_hash"}``."""
    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str) or not entry["id"]:
        raise ConfigError("people: each person needs a string 'id'")
    name = entry.get("name", entry["id"])
    password, hashed = entry.get("password"), entry.get("password_hash")
    if not isinstance(name, str) or (password is None) == (hashed is None):
        raise ConfigError(f"people: {entry['id']!r} needs a name and a password or hash")
    if password is not None and (not isinstance(password, str) or not password):
        raise ConfigError(f"people: {entry['id']!r} password must be a non-empty string")
    if isinstance(password, str):
        return Person(entry["id"], name, hash_password(password, cost))
    if not isinstance(hashed, str) or not is_password_hash(hashed):
        raise ConfigError(f"people: {entry['id']!r} password_hash must be an scrypt hash")
    return Person(entry["id"], name, hashed)


def _question(entry: Any) -> ClarificationRule:
    """A ``clarify`` rule: shaped like an auto-approval rule, plus the ``question``."""
    if not isinstance(entry, Mapping):
        raise ConfigError("clarify: each rule must be an object")
    rule = _rule({k: v for k, v in entry.items() if k != "question"}, "clarify")
    question = entry.get("question")
    if not isinstance(question, str) or not question.strip() or len(question) > 2000:
        raise ConfigError("clarify: each rule needs a 'question' (at most 2000 characters)")
    return ClarificationRule(rule.agent, rule.resource, rule.scopes, question)


def _rule(entry: Any, member: str = "auto_approve") -> AutoApproval:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{member}: each rule must be an object")
    agent, resource = entry.get("agent", ANY), entry.get("resource", ANY)
    if not isinstance(agent, str) or not isinstance(resource, str):
        raise ConfigError(f"{member}: 'agent' and 'resource' must be strings")
    if not isinstance(entry.get("scopes"), list):
        raise ConfigError(f"{member}: each rule needs a 'scopes' array")
    return AutoApproval(agent, resource, frozenset(_strings(entry, "scopes")))
