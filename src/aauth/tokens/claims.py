"""Typed claims of the three -10 tokens, built from a verified claims dict (protocol-10 §D).

Building a claims object is the structural half of verification: every claim a token type
requires is present with the right JSON type, identifiers are well-formed (§B.2), ``cnf.jwk``
is a complete public key with ``alg``. Anything else raises :class:`~aauth.errors.InvalidToken`
naming the claim. Context checks (``aud`` is me, ``agent`` is the signer …) belong to the
per-token modules; unknown claims are kept in ``raw`` and otherwise ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from aauth_signing import (
    SignatureError,
    VerifyingKey,
    b64url_decode,
    jwk_thumbprint,
    public_key_from_jwk,
)
from aauth_signing._cache import BoundedCache

from ..errors import InvalidToken
from ..headers.mission import MissionRef
from ..identifiers import is_agent_identifier, is_endpoint_url, is_server_identifier, server_host

__all__ = [
    "Actor",
    "AgentTokenClaims",
    "AuthTokenClaims",
    "Interaction",
    "ResourceTokenClaims",
    "format_scope",
    "is_s256",
    "parse_scope",
]

MAX_ACT_DEPTH = 16
"""Delegation chains longer than this are refused rather than walked."""

_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3 scope-token

_T = TypeVar("_T")


def _frozen(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of the frozen dataclass ``cls`` from a value for every one of its fields.

    The generated ``__init__`` of a frozen dataclass pays one ``object.__setattr__`` per
    field (1.5 µs for a claims object, on every cold token check); the result is the same.
    """
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


def parse_scope(value: object) -> tuple[str, ...]:
    """Space-separated RFC 6749 scope tokens; ValueError on empty or malformed input."""
    tokens = tuple(value.split(" ")) if isinstance(value, str) else ()
    if not tokens or not all(_SCOPE_TOKEN.fullmatch(token) for token in tokens):
        raise ValueError(f"{value!r} is not a space-separated list of scope tokens")
    return tokens


def format_scope(scope: str | tuple[str, ...] | list[str]) -> str:
    """The wire form of a scope list (validated), accepting a ready string too."""
    text = scope if isinstance(scope, str) else " ".join(scope)
    parse_scope(text)
    return text


def is_s256(value: object) -> bool:
    """Whether ``value`` is an unpadded base64url SHA-256 digest (thumbprints, mission s256)."""
    if not isinstance(value, str):
        return False
    try:
        return len(b64url_decode(value)) == 32
    except ValueError:
        return False


def _text(raw: Mapping[str, Any], name: str, what: str, parent: str = "") -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidToken(f"{what} has no string {parent + name!r} claim")
    return value


def _optional_text(raw: Mapping[str, Any], name: str, what: str) -> str | None:
    return None if raw.get(name) is None else _text(raw, name, what)


_JSON_NUMBERS = (int, float)
"""What JSON numbers decode to: values of exactly these types need no further check."""


def _number(raw: Mapping[str, Any], name: str, what: str) -> float:
    value = raw.get(name)
    if value.__class__ is bool or not isinstance(value, (int, float)):
        raise InvalidToken(f"{what} has no numeric {name!r} claim")
    return value


def _server_id(
    raw: Mapping[str, Any], name: str, what: str, loopback: bool, parent: str = ""
) -> str:
    value = _text(raw, name, what, parent)
    if not is_server_identifier(value, allow_loopback_http=loopback):
        raise InvalidToken(f"{what} {parent + name!r} {value!r} is not a server identifier")
    return value


def _agent_id(
    raw: Mapping[str, Any],
    name: str,
    what: str,
    loopback: bool,
    parent: str = "",
    *,
    legacy: bool = False,
) -> str:
    """An ``aauth:local@domain`` identifier; ``legacy`` also admits the seed's URL form
    (``https://agent.example``), which protocol-10 forbids."""
    value = _text(raw, name, what, parent)
    if is_agent_identifier(value, allow_loopback_http=loopback):
        return value
    if legacy and is_server_identifier(value, allow_loopback_http=loopback):
        return value
    raise InvalidToken(f"{what} {parent + name!r} {value!r} is not an agent identifier")


def _agent_host(agent: str) -> str:
    """The domain of an agent identifier (the host of a legacy URL-form one)."""
    return server_host(agent) if "://" in agent else agent.rpartition("@")[2]


def _scope(raw: Mapping[str, Any], what: str, *, required: bool) -> tuple[str, ...]:
    value = raw.get("scope")
    if value is None and not required:
        return ()
    try:
        return parse_scope(value)
    except ValueError:
        raise InvalidToken(f"{what} 'scope' is not a space-separated scope string") from None


_CONFIRMATIONS: BoundedCache[tuple[Any, ...], tuple[VerifyingKey, str]] = BoundedCache(1024)
"""``cnf.jwk`` (its members, exactly) → key and thumbprint: an agent's key is in every one of
its tokens. Only usable keys are stored."""


def _confirmation(
    raw: Mapping[str, Any], what: str, allow_legacy: bool
) -> tuple[Mapping[str, Any], VerifyingKey, str]:
    """``cnf.jwk``, its key and thumbprint: completeness first, decoding second (RS-11).

    The key's own error is chained as the cause, so a resource can report its code (V-49).
    """
    cnf = raw.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise InvalidToken(f"{what} has no 'cnf.jwk' object")
    memo_key: tuple[Any, ...] | None = (*jwk.items(), allow_legacy)
    try:
        known = _CONFIRMATIONS.get(memo_key)  # type: ignore[arg-type]
    except TypeError:  # a member value that is a list or object: decode it every time
        known = memo_key = None
    if known is not None:
        return MappingProxyType(jwk), *known
    try:
        jkt = jwk_thumbprint(jwk)
    except SignatureError as exc:
        raise InvalidToken(f"{what} 'cnf.jwk' is incomplete: {exc.description}") from exc
    try:
        key = public_key_from_jwk(jwk, allow_legacy=allow_legacy)
    except SignatureError as exc:
        raise InvalidToken(f"{what} 'cnf.jwk' is not a usable key: {exc.description}") from exc
    if memo_key is not None:
        _CONFIRMATIONS.put(memo_key, (key, jkt))
    return MappingProxyType(jwk), key, jkt


@dataclass(frozen=True)
class Interaction:
    """A resource's own user flow the agent must send the user through first (§D.2)."""

    url: str
    code: str

    @classmethod
    def from_claim(cls, value: Any, what: str, *, allow_loopback_http: bool = False) -> Interaction:
        if not isinstance(value, dict):
            raise InvalidToken(f"{what} 'interaction' is not a JSON object")
        url = _text(value, "url", what, "interaction.")
        if not is_endpoint_url(url, allow_loopback_http=allow_loopback_http):
            raise InvalidToken(f"{what} 'interaction.url' must be https without query/fragment")
        return cls(url, _text(value, "code", what, "interaction."))

    def claim(self) -> dict[str, str]:
        return {"url": self.url, "code": self.code}


@dataclass(frozen=True)
class Actor:
    """One link of an ``act`` delegation chain: the immediate upstream agent, then its own."""

    agent: str
    act: Actor | None = None

    @classmethod
    def from_claim(
        cls,
        value: Any,
        what: str,
        *,
        allow_loopback_http: bool = False,
        allow_legacy: bool = False,
    ) -> Actor:
        """The chain of an ``act`` claim; ``allow_legacy`` also reads the seed's ``act.sub``
        where ``act.agent`` is absent (read-compat, never emitted)."""
        links: list[dict[str, Any]] = []
        while value is not None:
            if not isinstance(value, dict):
                raise InvalidToken(f"{what} 'act' is not a JSON object")
            if len(links) == MAX_ACT_DEPTH:
                raise InvalidToken(f"{what} 'act' chain is deeper than {MAX_ACT_DEPTH}")
            links.append(value)
            value = value.get("act")
        actor: Actor | None = None
        for link in reversed(links):
            name = "sub" if allow_legacy and "agent" not in link and "sub" in link else "agent"
            agent = _agent_id(link, name, what, allow_loopback_http, "act.", legacy=allow_legacy)
            actor = cls(agent, actor)
        if actor is None:
            raise InvalidToken(f"{what} 'act' is empty")
        return actor

    @property
    def chain(self) -> tuple[str, ...]:
        """The agents from the immediate upstream outwards."""
        link: Actor | None = self
        agents: list[str] = []
        while link is not None:
            agents.append(link.agent)
            link = link.act
        return tuple(agents)

    def claim(self) -> dict[str, Any]:
        value: dict[str, Any] = {"agent": self.agent}
        if self.act is not None:
            value["act"] = self.act.claim()
        return value


_AGENT_IDENTITIES: BoundedCache[tuple[Any, ...], bool] = BoundedCache(1024)
"""``(iss, sub, ps, parent_agent, loopback, legacy)`` of agent tokens whose identifiers all
checked out: every token of an agent repeats them. Only accepted tuples are stored, so each
member is a short identifier or None."""


@dataclass(frozen=True)
class AgentTokenClaims:
    """An ``aa-agent+jwt`` (§D.1): who the agent is, who vouches, and the key it signs with."""

    iss: str
    sub: str
    jti: str
    iat: float
    exp: float
    cnf_jwk: Mapping[str, Any]
    cnf_key: VerifyingKey
    jkt: str
    ps: str | None
    parent_agent: str | None
    raw: Mapping[str, Any]

    @classmethod
    def from_claims(
        cls,
        raw: Mapping[str, Any],
        *,
        allow_loopback_http: bool = False,
        allow_legacy: bool = False,
    ) -> AgentTokenClaims:
        """Structural checks (V-26, V-27): identifiers, ``jti``, ``cnf.jwk``, ``ps``, parent."""
        what, loop = "agent token", allow_loopback_http
        get = raw.get
        identity = (get("iss"), get("sub"), get("ps"), get("parent_agent"), loop, allow_legacy)
        try:
            checked = _AGENT_IDENTITIES.get(identity) is not None
        except TypeError:  # an identifier that is a list or object: refused below
            checked = False
        if not checked:
            iss = _server_id(raw, "iss", what, loop)
            sub = _agent_id(raw, "sub", what, loop, legacy=allow_legacy)
            if _agent_host(sub) != server_host(iss):
                raise InvalidToken(f"agent token 'sub' {sub!r} is not an agent of {iss!r}")
        jwk, key, jkt = _confirmation(raw, what, allow_legacy)
        jti, iat, exp = get("jti"), get("iat"), get("exp")
        numbers = iat.__class__ in _JSON_NUMBERS and exp.__class__ in _JSON_NUMBERS
        if not (numbers and jti.__class__ is str and jti):  # the checks that say what is wrong
            jti = _text(raw, "jti", what)
            iat = _number(raw, "iat", what)
            exp = _number(raw, "exp", what)
        fields = {
            "iss": identity[0],
            "sub": identity[1],
            "jti": jti,
            "iat": iat,
            "exp": exp,
            "cnf_jwk": jwk,
            "cnf_key": key,
            "jkt": jkt,
            "ps": identity[2],
            "parent_agent": identity[3],
            "raw": MappingProxyType(raw),
        }
        if not checked:
            if identity[2] is not None:
                _server_id(raw, "ps", what, loop)
            if identity[3] is not None:
                _agent_id(raw, "parent_agent", what, loop)
            _AGENT_IDENTITIES.put(identity, True)
        return _frozen(cls, fields)


@dataclass(frozen=True)
class ResourceTokenClaims:
    """An ``aa-resource+jwt`` (§D.2): what a resource will grant, to which agent key, via whom."""

    iss: str
    aud: str
    jti: str
    agent: str
    agent_jkt: str
    iat: float
    exp: float
    scope: tuple[str, ...]
    account: str | None
    mission: MissionRef | None
    interaction: Interaction | None
    raw: Mapping[str, Any]

    @classmethod
    def from_claims(
        cls,
        raw: Mapping[str, Any],
        *,
        allow_loopback_http: bool = False,
        allow_legacy: bool = False,
    ) -> ResourceTokenClaims:
        """Structural checks (RS-04): every required claim, typed; optional objects well-formed."""
        what, loop = "resource token", allow_loopback_http
        agent_jkt = _text(raw, "agent_jkt", what)
        if not is_s256(agent_jkt):
            raise InvalidToken("resource token 'agent_jkt' is not a SHA-256 JWK thumbprint")
        mission, interaction = raw.get("mission"), raw.get("interaction")
        fields = {
            "iss": _server_id(raw, "iss", what, loop),
            "aud": _server_id(raw, "aud", what, loop),
            "jti": _text(raw, "jti", what),
            "agent": _agent_id(raw, "agent", what, loop, legacy=allow_legacy),
            "agent_jkt": agent_jkt,
            "iat": _number(raw, "iat", what),
            "exp": _number(raw, "exp", what),
            "scope": _scope(raw, what, required=True),
            "account": _optional_text(raw, "account", what),
            "mission": None
            if mission is None
            else MissionRef.from_claim(mission, allow_loopback_http=loop),
            "interaction": None
            if interaction is None
            else Interaction.from_claim(interaction, what, allow_loopback_http=loop),
            "raw": MappingProxyType(raw),
        }
        return _frozen(cls, fields)


@dataclass(frozen=True)
class AuthTokenClaims:
    """An ``aa-auth+jwt`` (§D.3): a grant to one agent key at one resource."""

    iss: str
    dwk: str
    aud: str
    jti: str
    agent: str
    iat: float
    exp: float
    cnf_jwk: Mapping[str, Any]
    cnf_key: VerifyingKey
    jkt: str
    sub: str | None
    scope: tuple[str, ...]
    act: Actor | None
    mission: MissionRef | None
    account: str | None
    tenant: str | None
    raw: Mapping[str, Any]

    @classmethod
    def from_claims(
        cls,
        raw: Mapping[str, Any],
        *,
        allow_loopback_http: bool = False,
        allow_legacy: bool = False,
    ) -> AuthTokenClaims:
        """Structural checks (RS-09, RS-11, RS-13): ``cnf.jwk`` complete, ``sub`` or ``scope``."""
        what, loop = "auth token", allow_loopback_http
        jwk, key, jkt = _confirmation(raw, what, allow_legacy)
        sub = _optional_text(raw, "sub", what)
        scope = _scope(raw, what, required=False)
        if sub is None and not scope:
            raise InvalidToken("auth token carries neither 'sub' nor 'scope'")
        act, mission = raw.get("act"), raw.get("mission")
        fields = {
            "iss": _server_id(raw, "iss", what, loop),
            "dwk": _text(raw, "dwk", what),
            "aud": _server_id(raw, "aud", what, loop),
            "jti": _text(raw, "jti", what),
            "agent": _agent_id(raw, "agent", what, loop, legacy=allow_legacy),
            "iat": _number(raw, "iat", what),
            "exp": _number(raw, "exp", what),
            "cnf_jwk": jwk,
            "cnf_key": key,
            "jkt": jkt,
            "sub": sub,
            "scope": scope,
            "act": None
            if act is None
            else Actor.from_claim(act, what, allow_loopback_http=loop, allow_legacy=allow_legacy),
            "mission": None
            if mission is None
            else MissionRef.from_claim(mission, allow_loopback_http=loop),
            "account": _optional_text(raw, "account", what),
            "tenant": _optional_text(raw, "tenant", what),
            "raw": MappingProxyType(raw),
        }
        return _frozen(cls, fields)
