"""Wire names of the token profile: JWT ``typ`` values and well-known document names (``dwk``).

They live here, and only here, so an opt-in -11 profile can switch them in one place.
"""

from __future__ import annotations

__all__ = [
    "ACCESS_DWK",
    "AGENT_DWK",
    "AGENT_JWT_TYP",
    "AUTH_DWKS",
    "AUTH_JWT_TYP",
    "PERSON_DWK",
    "RESOURCE_DWK",
    "RESOURCE_JWT_TYP",
]

AGENT_JWT_TYP = "aa-agent+jwt"
RESOURCE_JWT_TYP = "aa-resource+jwt"
AUTH_JWT_TYP = "aa-auth+jwt"

AGENT_DWK = "aauth-agent.json"
RESOURCE_DWK = "aauth-resource.json"
PERSON_DWK = "aauth-person.json"
ACCESS_DWK = "aauth-access.json"

AUTH_DWKS = frozenset({ACCESS_DWK, PERSON_DWK})
"""An auth token comes from a Person Server (3-party) or an Access Server (4-party)."""
