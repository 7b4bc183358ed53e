"""``AAuth-Requirement`` (protocol-10 §E.1): what a resource, PS or AS needs before it answers.

An SF Dictionary whose ``requirement`` member is a Token; the data each requirement needs are
parameters on that member, e.g. ``requirement=auth-token;resource-token="eyJ…"``. Builders emit
only that form. Parsers also read what older servers send (AAUTH.md §A.2): ``require=`` in the
Mar 2026 ``AAuth`` header, ``identity``/``pseudonym`` from ``Signature-Requirement``,
``required_claims``, the Jan 2026 ``Agent-Auth`` header and ``Accept-Signature …;sigkey=``.

A value this module does not know parses into :class:`UnknownRequirement`; an agent must not
treat it as satisfiable (AG-14).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from aauth_signing import Fields
from aauth_signing._structured import BareItem, serialize_params
from aauth_signing.message import HeadersInput

from ..identifiers import is_endpoint_url
from ._common import (
    HeaderError,
    dictionary,
    inner_strings,
    member,
    string_param,
    token_of,
    visible_ascii,
)
from .accept_signature import ACCEPT_SIGNATURE_HEADER, parse_legacy_accept_signature

__all__ = [
    "REQUIREMENT_HEADER",
    "AgentTokenRequirement",
    "ApprovalRequirement",
    "AuthTokenRequirement",
    "BuildableRequirement",
    "ClaimsRequirement",
    "ClarificationRequirement",
    "InteractionRequirement",
    "PersonTokenRequirement",
    "PseudonymousRequirement",
    "Requirement",
    "UnknownRequirement",
    "build_challenge",
    "build_requirement",
    "find_requirement",
    "parse_agent_auth",
    "parse_challenge",
    "parse_requirement",
]

REQUIREMENT_HEADER = "AAuth-Requirement"


@dataclass(frozen=True)
class AgentTokenRequirement:
    """401: sign with an agent token (RS-01). Legacy ``identity`` means the same."""

    name: ClassVar[str] = "agent-token"
    status: ClassVar[int] = 401


@dataclass(frozen=True)
class AuthTokenRequirement:
    """401: get an auth token for ``resource_token`` (RS-02, AG-11).

    ``auth_server`` comes only from legacy headers and is never emitted: since -01 the agent
    finds the server from the resource token's ``aud``.
    """

    resource_token: str
    auth_server: str | None = None

    name: ClassVar[str] = "auth-token"
    status: ClassVar[int] = 401


@dataclass(frozen=True)
class InteractionRequirement:
    """202: send the user to ``url`` with ``code`` (V-40).

    ``url`` is None only from the Mar 2026 ``AAuth: require=interaction`` header, where the
    agent used the server's ``interaction_endpoint`` instead.
    """

    url: str | None
    code: str

    name: ClassVar[str] = "interaction"
    status: ClassVar[int] = 202


@dataclass(frozen=True)
class ApprovalRequirement:
    """202: waiting for someone to approve; keep polling."""

    name: ClassVar[str] = "approval"
    status: ClassVar[int] = 202


@dataclass(frozen=True)
class ClarificationRequirement:
    """202: the question is in the body; answer it at the pending URL."""

    name: ClassVar[str] = "clarification"
    status: ClassVar[int] = 202


@dataclass(frozen=True)
class ClaimsRequirement:
    """202 from an AS: the PS must supply claims (AS-07).

    -10 lists them in the body's ``required_claims``; ``required_claims`` here is filled only
    from old headers that carried them, and is never emitted.
    """

    required_claims: tuple[str, ...] = ()

    name: ClassVar[str] = "claims"
    status: ClassVar[int] = 202


@dataclass(frozen=True)
class PersonTokenRequirement:
    """[-11] 401: sign with a person token."""

    name: ClassVar[str] = "person-token"
    status: ClassVar[int] = 401


@dataclass(frozen=True)
class PseudonymousRequirement:
    """Legacy ``pseudonym`` (or ``Agent-Auth: httpsig``): any signature will do. Never emitted;
    AAuth itself does not use pseudonymous access."""

    name: ClassVar[str] = "pseudonym"


@dataclass(frozen=True)
class UnknownRequirement:
    """A requirement this implementation does not know: not satisfiable (AG-14)."""

    name: str


BuildableRequirement: TypeAlias = (
    AgentTokenRequirement
    | AuthTokenRequirement
    | InteractionRequirement
    | ApprovalRequirement
    | ClarificationRequirement
    | ClaimsRequirement
    | PersonTokenRequirement
)
Requirement: TypeAlias = BuildableRequirement | PseudonymousRequirement | UnknownRequirement

_NO_PARAMS: dict[str, Requirement] = {
    "agent-token": AgentTokenRequirement(),
    "identity": AgentTokenRequirement(),
    "pseudonym": PseudonymousRequirement(),
    "approval": ApprovalRequirement(),
    "clarification": ClarificationRequirement(),
    "person-token": PersonTokenRequirement(),
}

# `requirement=claims; required_claims=("email" "tenant")`: old servers put an inner list where
# RFC 8941 allows only a bare item; read it as the member it must have meant.
_LEGACY_CLAIMS = re.compile(r"(\s*requir(?:e|ement)=claims)\s*;\s*(required_claims=\(.*)", re.S)


def _interaction_url_ok(url: str, allow_loopback_http: bool) -> bool:
    return visible_ascii(url) and is_endpoint_url(url, allow_loopback_http=allow_loopback_http)


def _members(text: str, field: str) -> dict[str, Any]:
    try:
        return dictionary(text, field)
    except HeaderError:
        legacy = _LEGACY_CLAIMS.fullmatch(text)
        if legacy is None:
            raise
        return dictionary(f"{legacy.group(1)}, {legacy.group(2)}", field)


def _interaction(params: dict[str, Any], legacy: bool, allow_loopback_http: bool) -> Requirement:
    url = string_param(params, "url", REQUIREMENT_HEADER)
    code = string_param(params, "code", REQUIREMENT_HEADER)
    if not code:
        raise HeaderError("requirement=interaction needs a code (V-40)")
    if url is None and not legacy:
        raise HeaderError("requirement=interaction needs a url (V-40)")
    if url is not None and not _interaction_url_ok(url, allow_loopback_http):
        raise HeaderError("the interaction url must be https without query or fragment (V-40)")
    return InteractionRequirement(url, code)


def _from_members(members: dict[str, Any], allow_loopback_http: bool) -> Requirement:
    legacy = "requirement" not in members
    entry = members.get("requirement", members.get("require"))
    if entry is None:
        raise HeaderError(f"{REQUIREMENT_HEADER} has no requirement member")
    value, params = member(entry)
    name = token_of(value)
    if name is None:
        raise HeaderError(f"{REQUIREMENT_HEADER} requirement must be a token")
    if name == "auth-token":
        token = string_param(params, "resource-token", REQUIREMENT_HEADER)
        if not token:
            raise HeaderError("requirement=auth-token needs a resource-token (RS-02)")
        server = string_param(params, "auth-server", REQUIREMENT_HEADER) if legacy else None
        return AuthTokenRequirement(token, server)
    if name == "interaction":
        return _interaction(params, legacy, allow_loopback_http)
    if name == "claims":
        listed = members.get("required_claims")
        claims = () if listed is None else inner_strings(listed, "required_claims", tokens=True)
        return ClaimsRequirement(claims)
    return _NO_PARAMS.get(name, UnknownRequirement(name))


def parse_requirement(text: str, *, allow_loopback_http: bool = False) -> Requirement:
    """Parse an ``AAuth-Requirement`` value (also ``AAuth`` and ``Signature-Requirement``).

    ``allow_loopback_http`` admits ``http://localhost`` interaction URLs, for development only.

    >>> parse_requirement('requirement=auth-token;resource-token="eyJ.e30.c2ln"')
    AuthTokenRequirement(resource_token='eyJ.e30.c2ln', auth_server=None)
    """
    return _from_members(_members(text, REQUIREMENT_HEADER), allow_loopback_http)


def _from_agent_auth(members: dict[str, Any]) -> Requirement:
    if "httpsig" not in members:
        raise HeaderError("Agent-Auth has no httpsig member")
    params = member(members["httpsig"])[1]
    if params.get("auth-token") is True:
        token = string_param(params, "resource_token", "Agent-Auth")
        if not token:
            raise HeaderError("Agent-Auth auth-token needs a resource_token")
        return AuthTokenRequirement(token, string_param(params, "auth_server", "Agent-Auth"))
    if params.get("identity") is True:
        return AgentTokenRequirement()
    return PseudonymousRequirement()


def parse_agent_auth(text: str) -> Requirement:
    """The Jan 2026 ``Agent-Auth`` challenge (input only), e.g.
    ``httpsig; auth-token; resource_token="…"; auth_server="…"``."""
    return _from_agent_auth(dictionary(text, "Agent-Auth"))


def _from_accept_signature(text: str) -> Requirement | None:
    legacy = parse_legacy_accept_signature(text)
    if legacy is None:
        return None
    return PseudonymousRequirement() if legacy.scheme == "hwk" else AgentTokenRequirement()


def parse_challenge(text: str, *, allow_loopback_http: bool = False) -> Requirement:
    """Any challenge value, current or legacy, recognised by its shape.

    For callers that hold a value but not its header name (the seed's
    ``parse_agent_auth_header``). ``sigkey=jkt`` reads as pseudonymous, ``uri``/``x509`` as
    an agent-token requirement.
    """
    members = _members(text, "challenge")
    if "requirement" in members or "require" in members:
        return _from_members(members, allow_loopback_http)
    if "httpsig" in members:
        return _from_agent_auth(members)
    found = _from_accept_signature(text)
    if found is None:
        raise HeaderError("not a recognised AAuth challenge")
    return found


def find_requirement(
    headers: HeadersInput, *, allow_loopback_http: bool = False
) -> Requirement | None:
    """The requirement a response carries, or None when it carries none.

    ``AAuth-Requirement`` wins; then the legacy ``AAuth``, ``Agent-Auth``,
    ``Signature-Requirement`` and ``Accept-Signature …;sigkey=``. The first header present
    decides: when it is malformed this raises rather than fall back to an older one.
    """
    fields = Fields(headers)
    for name in ("aauth-requirement", "aauth", "agent-auth", "signature-requirement"):
        value = fields.get(name)
        if value is None:
            continue
        if name == "agent-auth":
            return parse_agent_auth(value)
        return parse_requirement(value, allow_loopback_http=allow_loopback_http)
    accept = fields.get(ACCEPT_SIGNATURE_HEADER.lower())
    return None if accept is None else _from_accept_signature(accept)


def build_requirement(requirement: Requirement, *, allow_loopback_http: bool = False) -> str:
    """The canonical ``AAuth-Requirement`` value; ValueError for legacy or unknown values and
    for missing or invalid parameters.

    >>> build_requirement(AuthTokenRequirement("eyJ.e30.c2ln"))
    'requirement=auth-token;resource-token="eyJ.e30.c2ln"'
    """
    if not isinstance(requirement, BuildableRequirement):
        raise ValueError(f"requirement {requirement.name!r} is never emitted")
    params: list[tuple[str, BareItem]] = []
    if isinstance(requirement, AuthTokenRequirement):
        if not requirement.resource_token:
            raise ValueError("requirement=auth-token needs a resource token (RS-02)")
        params.append(("resource-token", requirement.resource_token))
    elif isinstance(requirement, InteractionRequirement):
        url = requirement.url
        if url is None or not _interaction_url_ok(url, allow_loopback_http):
            raise ValueError("the interaction url must be https without query or fragment (V-40)")
        if not requirement.code:
            raise ValueError("requirement=interaction needs a code (V-40)")
        params += [("url", url), ("code", requirement.code)]
    return f"requirement={requirement.name}{serialize_params(params)}"


def build_challenge(
    requirement: BuildableRequirement,
    *,
    location: str | None = None,
    retry_after: int = 5,
    allow_loopback_http: bool = False,
) -> dict[str, str]:
    """The headers of the response that carries ``requirement`` (its status is
    ``requirement.status``).

    A 202 needs ``location`` (the pending URL) and also gets ``Retry-After`` and
    ``Cache-Control: no-store`` (V-31); a 401 takes no ``location``.
    """
    headers = {
        REQUIREMENT_HEADER: build_requirement(requirement, allow_loopback_http=allow_loopback_http)
    }
    if requirement.status != 202:
        if location is not None:
            raise ValueError(f"a {requirement.status} challenge carries no Location")
        return headers
    if location is None or not visible_ascii(location):
        raise ValueError("a 202 needs a Location with the pending URL (V-31)")
    if retry_after < 0:
        raise ValueError("Retry-After must not be negative")
    headers.update(
        {"Location": location, "Retry-After": str(retry_after), "Cache-Control": "no-store"}
    )
    return headers
