"""The public surface of aauth.headers changes only on purpose."""

from __future__ import annotations

import importlib

import aauth.headers

EXPECTED = {
    "ACCEPT_SIGNATURE_ALG_HEADER",
    "ACCEPT_SIGNATURE_HEADER",
    "ACCEPT_SIGNATURE_SCHEME_HEADER",
    "ACCESS_HEADER",
    "AUTHORIZATION_SCHEME",
    "CAPABILITIES",
    "CAPABILITIES_HEADER",
    "MISSION_HEADER",
    "REQUIREMENT_HEADER",
    "SIGNATURE_ERROR_HEADER",
    "AgentTokenRequirement",
    "ApprovalRequirement",
    "AuthTokenRequirement",
    "BuildableRequirement",
    "Capability",
    "ClaimsRequirement",
    "ClarificationRequirement",
    "HeaderError",
    "InteractionRequirement",
    "LegacyAcceptSignature",
    "MissionRef",
    "PersonTokenRequirement",
    "PseudonymousRequirement",
    "Requirement",
    "SignatureErrorInfo",
    "UnknownRequirement",
    "build_accept_signature_alg",
    "build_accept_signature_scheme",
    "build_access",
    "build_authorization",
    "build_capabilities",
    "build_challenge",
    "build_mission",
    "build_requirement",
    "find_requirement",
    "is_forbidden_algorithm",
    "parse_access",
    "parse_accept_signature",
    "parse_accept_signature_alg",
    "parse_accept_signature_scheme",
    "parse_agent_auth",
    "parse_authorization",
    "parse_capabilities",
    "parse_challenge",
    "parse_legacy_accept_signature",
    "parse_mission",
    "parse_requirement",
    "parse_signature_error",
}


def test_exported_names_are_pinned() -> None:
    assert set(aauth.headers.__all__) == EXPECTED
    assert len(aauth.headers.__all__) == len(EXPECTED)
    for name in EXPECTED:
        assert hasattr(aauth.headers, name)


def test_every_module_export_is_re_exported() -> None:
    for module in ("accept_signature", "access", "capabilities", "mission", "requirement"):
        names = set(importlib.import_module(f"aauth.headers.{module}").__all__)
        assert names <= EXPECTED, names - EXPECTED
