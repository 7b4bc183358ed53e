"""The person server's protocol logic (phases 3, 4, 5, 6, 8 and 12), independent of any web
framework.

:class:`PersonServerConfig` says what a deployment decides; :class:`PersonService` wires
the parts over a store: the token endpoint (verify, decide, grant or defer), the pending URL
(poll, long-poll, cancel, answer), the clarification chat, the consent flow a signed-in
person drives, the minting of auth tokens, and missions: proposals, the person's review, the
mission log, completion and revocation. :mod:`aauth.server.person_server` serves them over
HTTP.
"""

from .bindings import AgentBindings
from .clarification import ClarificationChat, ClarificationLimits, ClarificationRule
from .config import ANY, AutoApproval, ConfigError, PersonServerConfig
from .consent import IDENTITY_SCOPES, ConsentFlow, LoginRequired, Outcome, Review
from .consents import Consents
from .grant import Grant
from .issuance import AuthTokenMinter, token_response
from .mission_endpoint import MissionEndpoint
from .mission_review import MissionReview, ProposalView
from .missions import Mission, Missions
from .polling import PendingEndpoint, Reply, prefer_wait
from .request_body import PLATFORMS, PROMPTS, TokenRequestBody
from .revocation import TokenRevoker
from .service import PersonService
from .subjects import PairwiseSubjects
from .token_endpoint import TokenEndpoint
from .trust import TrustedAgentProviders

__all__ = [
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
]
