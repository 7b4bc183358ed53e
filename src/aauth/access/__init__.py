"""The access server's protocol logic (phases 7 and 11), independent of any web framework.

:class:`AccessServerConfig` says what a deployment decides (the resources it serves, the
person servers it trusts, the steps before a token); :class:`AccessService` wires the parts
over a store: the person-server signature check and trust list, the token endpoint, the
steps on the pending URL (payment, interaction, clarification, claims) and the minting of
``aauth-access.json`` auth tokens. :mod:`aauth.server.access_server` serves them over HTTP.
"""

from .config import CLAIMS_SUPPORTED, AccessServerConfig
from .flow import AccessFlow
from .issuance import AccessTokenMinter
from .request import CLAIMS, CLARIFICATION, INTERACTION, PAYMENT, AccessRequest
from .service import AccessService
from .token_endpoint import AccessTokenEndpoint
from .trust import PersonServerVerifier

__all__ = [
    "CLAIMS",
    "CLAIMS_SUPPORTED",
    "CLARIFICATION",
    "INTERACTION",
    "PAYMENT",
    "AccessFlow",
    "AccessRequest",
    "AccessServerConfig",
    "AccessService",
    "AccessTokenEndpoint",
    "AccessTokenMinter",
    "PersonServerVerifier",
]
