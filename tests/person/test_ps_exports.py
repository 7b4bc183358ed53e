"""The public surface of aauth.person (and the server module) changes only on purpose."""

from __future__ import annotations

import aauth.person
import aauth.server.person_server

PERSON = {
    "ANY",
    "IDENTITY_SCOPES",
    "PLATFORMS",
    "PROMPTS",
    "AgentBindings",
    "AuthTokenMinter",
    "AutoApproval",
    "ClarificationChat",
    "ClarificationLimits",
    "ClarificationRule",
    "ConfigError",
    "ConsentFlow",
    "Consents",
    "Grant",
    "LoginRequired",
    "Mission",
    "MissionEndpoint",
    "MissionReview",
    "Missions",
    "Outcome",
    "PairwiseSubjects",
    "PendingEndpoint",
    "PersonServerConfig",
    "PersonService",
    "ProposalView",
    "Reply",
    "Review",
    "TokenEndpoint",
    "TokenRequestBody",
    "TokenRevoker",
    "TrustedAgentProviders",
    "prefer_wait",
    "token_response",
}


def test_person_exports_exactly_these_names() -> None:
    assert set(aauth.person.__all__) == PERSON
    assert all(hasattr(aauth.person, name) for name in PERSON)
    assert set(aauth.server.person_server.__all__) == {"create_person_server", "main", "serve"}
