"""Telling resources that auth tokens issued under a revoked mission are revoked (§F.11).

-10 "Token Revocation": the PS calls the ``revocation_endpoint`` of the resource each token
was issued for, with the token's ``(iss, jti)``, signed as itself
(``Signature-Key: sig=jwks_uri;id="<PS>";dwk="aauth-person.json";kid=…``, §I.5). A resource
without a revocation endpoint learns nothing and the token lives out its (at most one hour)
lifetime; the PS itself refuses every later request under the mission either way, and
records each token as revoked first, so it never extends one as an ``upstream_token``
(call chaining). Each call passes egress admission (V-20) and its outcome is written to the
mission log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from aauth_signing import JwksUri, RequestSigner, SignatureError

from ..discovery import Discovery
from ..egress import AsyncEgressClient, EgressPolicy
from ..errors import AAuthError
from ..keys import KeySet
from ..metadata import ResourceMetadata
from ..resource.revocation import RevokedTokens
from ..tokens.wire import PERSON_DWK

__all__ = ["TokenRevoker"]


class TokenRevoker:
    """Sends ``{"iss", "jti"}`` to each resource's revocation endpoint, signed as the PS."""

    def __init__(
        self,
        identifier: str,
        keys: KeySet,
        discovery: Discovery | None,
        egress: EgressPolicy,
        *,
        revoked: RevokedTokens,
    ) -> None:
        self._identifier = identifier
        self._keys = keys
        self._discovery = discovery
        self._egress = egress
        self._revoked = revoked

    def _signed(self, url: str, body: bytes) -> dict[str, str]:
        member = JwksUri(self._identifier, PERSON_DWK, self._keys.current_kid)
        headers = {"content-type": "application/json"}
        headers.update(RequestSigner(self._keys.current, member).sign("POST", url, headers, body))
        return headers

    async def revoke(self, tokens: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
        """Revoke each ``{"jti", "resource"}`` at its resource; ``(jti, outcome)`` for each,
        where the outcome is ``revoked``, ``unknown`` (404) or why it could not be sent."""
        tokens = list(tokens)
        for token in tokens:  # revoked here whatever its resource hears
            self._revoked.record(self._identifier, token["jti"])
        outcomes: list[tuple[str, str]] = []
        async with AsyncEgressClient(self._egress) as client:
            for token in tokens:
                outcomes.append((token["jti"], await self._one(client, token)))
        return outcomes

    async def _one(self, client: AsyncEgressClient, token: Mapping[str, Any]) -> str:
        if self._discovery is None:
            return "no discovery configured"
        try:
            metadata = await self._discovery.aget_document(token["resource"], ResourceMetadata)
        except (AAuthError, SignatureError) as exc:
            return f"resource metadata unavailable ({exc.code})"
        endpoint = metadata.revocation_endpoint
        if endpoint is None:
            return "the resource has no revocation endpoint"
        body = json.dumps({"iss": self._identifier, "jti": token["jti"]}).encode()
        try:
            headers = self._signed(endpoint, body)
            response = await client.post(endpoint, content=body, headers=headers)
        except (httpx.HTTPError, AAuthError) as exc:
            return f"revocation request failed ({type(exc).__name__})"
        if response.status_code == 200:
            return "revoked"
        if response.status_code == 404:
            return "unknown"
        return f"refused (HTTP {response.status_code})"
