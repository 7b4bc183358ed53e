"""aauth 0.3's challenge, requirement, mission and Signature-Error header helpers.

Builders emit protocol-10 / signature-key-08 forms (``AAuth-Requirement``,
``requirement=agent-token``, ``Accept-Signature-Scheme``); parsers also read every older form
0.3 callers meet, including the January 2026 ``Agent-Auth`` syntax. Results are 0.3's dicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aauth_signing import InvalidInput

from ..headers import (
    ACCEPT_SIGNATURE_SCHEME_HEADER,
    REQUIREMENT_HEADER,
    AgentTokenRequirement,
    ApprovalRequirement,
    AuthTokenRequirement,
    BuildableRequirement,
    ClaimsRequirement,
    ClarificationRequirement,
    HeaderError,
    InteractionRequirement,
    MissionRef,
    PseudonymousRequirement,
    Requirement,
    build_accept_signature_scheme,
    build_mission,
    build_requirement,
    parse_challenge,
    parse_legacy_accept_signature,
    parse_mission,
)
from ..headers import parse_signature_error as _parse_signature_error
from .errors import ChallengeError

__all__ = [
    "HEADER_AAUTH_REQUIREMENT",
    "HEADER_SIGNATURE_REQUIREMENT",
    "REQUIRE_APPROVAL",
    "REQUIRE_AUTH_TOKEN",
    "REQUIRE_CLAIMS",
    "REQUIRE_CLARIFICATION",
    "REQUIRE_IDENTITY",
    "REQUIRE_INTERACTION",
    "REQUIRE_PSEUDONYM",
    "build_aauth_error",
    "build_aauth_mission_header",
    "build_agent_auth_challenge",
    "build_approval_requirement",
    "build_auth_token_requirement",
    "build_claims_requirement",
    "build_clarification_requirement",
    "build_identity_requirement",
    "build_interaction_requirement",
    "build_pseudonym_requirement",
    "build_signature_error",
    "get_challenge_header_value",
    "parse_aauth_error",
    "parse_aauth_header",
    "parse_aauth_mission_header",
    "parse_aauth_requirement",
    "parse_agent_auth_header",
    "parse_signature_error",
    "parse_signature_requirement",
    "requirement_header_for_level",
]

REQUIRE_PSEUDONYM = "pseudonym"
REQUIRE_IDENTITY = "identity"
REQUIRE_AUTH_TOKEN = "auth-token"  # noqa: S105
REQUIRE_INTERACTION = "interaction"
REQUIRE_APPROVAL = "approval"
REQUIRE_CLARIFICATION = "clarification"
REQUIRE_CLAIMS = "claims"
HEADER_SIGNATURE_REQUIREMENT = "Signature-Requirement"
HEADER_AAUTH_REQUIREMENT = REQUIREMENT_HEADER


def _build(requirement: BuildableRequirement) -> str:
    try:
        return build_requirement(requirement, allow_loopback_http=True)
    except ValueError as exc:
        raise ChallengeError(str(exc), challenge_type=requirement.name) from exc


# -- builders ----------------------------------------------------------------------------------


def build_pseudonym_requirement(
    algorithms: list[str] | None = None, required_input: list[str] | None = None
) -> str:
    """Pseudonymous access is ``Accept-Signature-Scheme: hwk`` in signature-key-08; this is
    that header's value. ``algorithms`` and ``required_input`` have no place in it (send
    ``Accept-Signature-Alg`` and ``Signature-Error`` instead) and are ignored."""
    del algorithms, required_input
    return build_accept_signature_scheme(("hwk",))


def build_identity_requirement(
    algorithms: list[str] | None = None, required_input: list[str] | None = None
) -> str:
    """``requirement=agent-token`` (protocol-10's form of 0.3's ``identity``); the
    ``algorithms`` and ``required_input`` lists are ignored as in
    :func:`build_pseudonym_requirement`."""
    del algorithms, required_input
    return _build(AgentTokenRequirement())


def build_auth_token_requirement(resource_token: str, auth_server: str | None = None) -> str:
    """``requirement=auth-token; resource-token="…"`` (``auth_server`` is not sent: the
    agent finds the server from the resource token's ``aud``)."""
    del auth_server
    return _build(AuthTokenRequirement(resource_token))


def build_interaction_requirement(url: str, code: str) -> str:
    return _build(InteractionRequirement(url, code))


def build_approval_requirement() -> str:
    return _build(ApprovalRequirement())


def build_clarification_requirement() -> str:
    return _build(ClarificationRequirement())


def build_claims_requirement() -> str:
    return _build(ClaimsRequirement())


def build_agent_auth_challenge(
    require_signature: bool = True,
    require_identity: bool = False,
    require_auth_token: bool = False,
    resource_token: str | None = None,
    auth_server: str | None = None,
    **kwargs: Any,
) -> str:
    """The challenge value: ``requirement=auth-token`` with the resource token, else
    ``requirement=agent-token`` for identity, else the pseudonymous ``hwk`` scheme (the
    value of ``Accept-Signature-Scheme``)."""
    del require_signature, auth_server, kwargs
    if require_auth_token and resource_token:
        return build_auth_token_requirement(resource_token)
    if require_identity or require_auth_token:
        return build_identity_requirement()
    return build_pseudonym_requirement()


def build_aauth_mission_header(approver: str, s256: str) -> str:
    """``AAuth-Mission: approver="…"; s256="…"``."""
    try:
        return build_mission(MissionRef(approver, s256), allow_loopback_http=True)
    except ValueError as exc:
        raise ChallengeError(str(exc), challenge_type="mission") from exc


def parse_aauth_mission_header(header_value: str) -> dict[str, str | None]:
    """``{"approver", "s256"}``; both None when the value is not a mission reference."""
    try:
        mission = parse_mission(header_value, allow_loopback_http=True)
    except HeaderError:
        return {"approver": None, "s256": None}
    return {"approver": mission.approver, "s256": mission.s256}


def requirement_header_for_level(requirement_level: str) -> str:
    """The header that carries a requirement level: ``Accept-Signature-Scheme`` for
    pseudonymous access, ``AAuth-Requirement`` for everything else (identity is
    ``requirement=agent-token`` there)."""
    if requirement_level == REQUIRE_PSEUDONYM:
        return ACCEPT_SIGNATURE_SCHEME_HEADER
    return REQUIREMENT_HEADER


_CHALLENGE_HEADERS = (
    "aauth-requirement",
    "accept-signature-scheme",
    "accept-signature",
    "signature-requirement",
    "aauth",
    "agent-auth",
)


def get_challenge_header_value(headers: Mapping[str, Any] | None) -> str:
    """The first challenge header present (current, then legacy names), or ``""``."""
    if headers is None or not hasattr(headers, "items"):
        return ""
    lower = {str(name).lower(): value for name, value in headers.items()}
    for name in _CHALLENGE_HEADERS:
        if lower.get(name):
            return str(lower[name])
    return ""


# -- parsers -----------------------------------------------------------------------------------

_IDENTITY_FLAG = re.compile(r"(?:^|;)\s*identity\s*(?:=\s*\?1)?\s*(?:;|$)")


def _requirement(header_value: str) -> Requirement:
    if not isinstance(header_value, str):
        raise ChallengeError("a challenge header must be a string")
    if header_value.strip() == "hwk":
        return PseudonymousRequirement()
    try:
        return parse_challenge(header_value, allow_loopback_http=True)
    except HeaderError as exc:
        raise ChallengeError(f"Failed to parse challenge header: {exc}") from exc


def _fields(requirement: Requirement) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "requirement": REQUIRE_IDENTITY
        if isinstance(requirement, AgentTokenRequirement)
        else requirement.name,
        "resource_token": None,
        "auth_server": None,
        "url": None,
        "code": None,
    }
    if isinstance(requirement, AuthTokenRequirement):
        fields["resource_token"] = requirement.resource_token
        fields["auth_server"] = requirement.auth_server
    if isinstance(requirement, InteractionRequirement):
        fields["url"], fields["code"] = requirement.url, requirement.code
    return fields


def parse_signature_requirement(header_value: str) -> dict[str, Any]:
    """A requirement value as 0.3's dict (``requirement``, ``resource_token``,
    ``auth_server``, ``url``, ``code``, ``algorithms``, ``required_input``); protocol-10's
    ``agent-token`` reads as 0.3's ``identity``. ChallengeError when it is not one."""
    fields = _fields(_requirement(header_value))
    fields.update(algorithms=None, required_input=None)
    return fields


parse_aauth_requirement = parse_signature_requirement


def parse_aauth_header(header_value: str) -> dict[str, Any]:
    """Any challenge (``AAuth-Requirement``, ``AAuth``, ``Agent-Auth``, legacy
    ``Accept-Signature``) as 0.3's dict, with ``require`` as an alias of ``requirement``."""
    legacy = parse_legacy_accept_signature(header_value) if "sigkey" in header_value else None
    fields = _fields(_requirement(header_value))
    fields["require"] = fields["requirement"]
    if legacy is not None:
        fields.update(sigkey=legacy.sigkey, components=list(legacy.components), alg=None)
    return fields


def parse_agent_auth_header(header_value: str) -> dict[str, Any]:
    """A challenge as 0.3's ``Agent-Auth`` dict: ``httpsig``, ``identity``, ``auth_token``,
    ``resource_token``, ``auth_server``, ``require``/``requirement``, ``url``, ``code``.

    Reads the old ``Agent-Auth`` syntax (``httpsig; identity=?1; auth-token;
    resource_token="…"; auth_server="…"``) as well as today's ``AAuth-Requirement``.
    """
    requirement = _requirement(header_value)
    fields = _fields(requirement)
    identity = isinstance(requirement, AgentTokenRequirement) or bool(
        _IDENTITY_FLAG.search(header_value)
    )
    return {
        "httpsig": True,
        "identity": identity,
        "auth_token": isinstance(requirement, AuthTokenRequirement),
        "resource_token": fields["resource_token"],
        "auth_server": fields["auth_server"],
        "require": fields["requirement"],
        "requirement": fields["requirement"],
        "url": fields["url"],
        "code": fields["code"],
    }


# -- Signature-Error ---------------------------------------------------------------------------


def build_signature_error(
    error: str,
    required_input: list[str] | None = None,
    supported_algorithms: list[str] | None = None,
) -> str:
    """A ``Signature-Error`` value (signature-key-08). ``required_input`` goes with
    ``invalid_input``; ``supported_algorithms`` is not a -08 member (send
    ``Accept-Signature-Alg``) and is ignored."""
    del supported_algorithms
    if not re.fullmatch(r"[a-z][a-z0-9_]*", error):
        raise ChallengeError(f"{error!r} is not an error code", challenge_type="signature-error")
    if error == InvalidInput.code and required_input:
        return InvalidInput(error, required_input).response_headers()["Signature-Error"]
    return f"error={error}"


build_aauth_error = build_signature_error


def parse_signature_error(header_value: str) -> dict[str, Any]:
    """``{"error", "required_input", "supported_algorithms"}`` (lists or None)."""
    try:
        info = _parse_signature_error(header_value)
    except HeaderError as exc:
        raise ChallengeError(f"Failed to parse Signature-Error: {exc}") from exc
    return {
        "error": info.error,
        "required_input": list(info.required_input) or None,
        "supported_algorithms": list(info.supported_algorithms) or None,
    }


parse_aauth_error = parse_signature_error
