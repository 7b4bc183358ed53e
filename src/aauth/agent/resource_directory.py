"""What an agent reads from a resource before it trusts the resource's answers.

A resource publishes ``/.well-known/aauth-resource.json``: the components every signature
must cover (``additional_signature_components``, AG-05/V-46) and the ``jwks_uri`` whose keys
sign its resource tokens. The agent reads both once per resource, and verifies a challenge's
resource token against that JWKS before using it (AG-11), refetching the JWKS once when the
token names a key it does not list (the resource rotated).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import httpx
from aauth_signing import SignatureError

from ..errors import AAuthError, InvalidToken
from ..keysource import StaticKeySource
from ..metadata import ResourceMetadata, well_known_url
from ..tokens import ResourceTokenClaims, TokenVerifier
from ..tokens.verifier import RESOURCE_TOKEN
from ..tokens.wire import RESOURCE_DWK
from .flow import Flow
from .signer import AAUTH_COVERED

__all__ = ["ResourceDirectory"]

_NOT_ITS_KEY = "resource token is not signed by a key its resource publishes"


def _json(response: httpx.Response | None) -> Any:
    if response is None or response.status_code != 200:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


class ResourceDirectory:
    """Resource metadata and JWKS by resource identifier, bounded (LRU).

    A resource without readable metadata has no published components (it says so with
    ``required_input`` when it wants more) and no verifiable resource tokens. Metadata is
    read again after ``ttl`` seconds, a failed read after ``retry`` seconds.
    """

    def __init__(
        self,
        *,
        allow_loopback_http: bool = False,
        max_entries: int = 256,
        ttl: float = 3600.0,
        retry: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loopback = allow_loopback_http
        self._max = max_entries
        self._ttl, self._retry, self._clock = ttl, retry, clock
        self._metadata: OrderedDict[str, tuple[ResourceMetadata | None, float]] = OrderedDict()
        self._jwks: OrderedDict[str, Any] = OrderedDict()

    def _remember(self, table: OrderedDict[str, Any], resource: str, value: Any) -> None:
        table[resource] = value
        table.move_to_end(resource)
        while len(table) > self._max:
            table.popitem(last=False)

    def metadata(self, resource: str) -> Flow[ResourceMetadata | None]:
        """The resource's checked metadata, cached; None when it publishes none."""
        cached = self._metadata.get(resource)
        if cached is not None and cached[1] > self._clock():
            self._metadata.move_to_end(resource)
            return cached[0]
        document = _json((yield httpx.Request("GET", well_known_url(resource, RESOURCE_DWK))))
        try:
            found: ResourceMetadata | None = ResourceMetadata.from_json(
                document, resource, allow_loopback_http=self._loopback
            )
        except (AAuthError, SignatureError):
            found = None
        until = self._clock() + (self._retry if found is None else self._ttl)
        self._remember(self._metadata, resource, (found, until))
        return found

    def components(self, resource: str) -> Flow[tuple[str, ...]]:
        """The resource's ``additional_signature_components`` (AG-05) beyond those every AAuth
        signature covers anyway (``@query``/``content-digest`` when there is a query/body)."""
        metadata = yield from self.metadata(resource)
        published = () if metadata is None else metadata.additional_signature_components or ()
        return tuple(name for name in published if name not in AAUTH_COVERED)

    def _fetch_jwks(self, resource: str) -> Flow[Any]:
        metadata = yield from self.metadata(resource)
        if metadata is None or metadata.jwks_uri is None:
            raise InvalidToken(f"{resource} publishes no jwks_uri to verify its resource token")
        jwks = _json((yield httpx.Request("GET", metadata.jwks_uri)))
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise InvalidToken(f"{resource} JWKS at {metadata.jwks_uri} cannot be read")
        self._remember(self._jwks, resource, jwks)
        return jwks

    def verify_resource_token(self, resource: str, token: str) -> Flow[ResourceTokenClaims]:
        """AG-11: the resource token's claims once its signature verifies against the
        resource's JWKS (typ, dwk, times too); InvalidToken otherwise."""
        cached = self._jwks.get(resource)
        if cached is not None:
            try:
                return self._verify(resource, token, cached)
            except SignatureError:
                pass  # an unknown kid: the resource may have rotated its keys since
        jwks = yield from self._fetch_jwks(resource)
        try:
            return self._verify(resource, token, jwks)
        except SignatureError:
            raise InvalidToken(_NOT_ITS_KEY) from None

    def _verify(self, resource: str, token: str, jwks: Any) -> ResourceTokenClaims:
        verifier = TokenVerifier(
            StaticKeySource({resource: jwks}), allow_loopback_http=self._loopback, cache_size=0
        )
        claims = verifier.verify(RESOURCE_TOKEN, token)
        if claims.iss != resource:
            raise InvalidToken(f"resource token 'iss' {claims.iss!r} is not the resource called")
        return claims
