"""A resource's own agent identity, for calling resources downstream (RS-19, §B.1, §D.4).

A resource that calls onward is an agent too: it publishes ``aauth-agent.json`` and signs
with an agent token of its own. Here the resource is its own agent provider: it issues that
token with its key set, so the token's ``iss`` is the resource's identifier — exactly what a
person server checks an ``upstream_token``'s ``aud`` against. The token names the person
server the downstream resource must address its resource token to (``ps``): the issuer of
the upstream grant being extended, so one token is kept per person server.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from aauth_signing import SigningKey

from ..agent.signer import AgentSigner
from ..identifiers import agent_identifier
from ..keys import KeySet, generate_key
from ..metadata import AgentProviderMetadata, well_known_url
from ..tokens import issue_agent_token

__all__ = ["ResourceAgent"]

_MAX_SIGNERS = 64


class ResourceAgent:
    """The agent ``aauth:{local}@{resource host}`` that ``resource`` calls onward as.

    ``keys`` (the resource's key set) signs its agent tokens; ``key`` is the agent's own
    request-signing key (a fresh one by default). Tokens live ``lifetime`` seconds and are
    replaced ``margin`` seconds before they expire.
    """

    def __init__(
        self,
        resource: str,
        keys: KeySet,
        *,
        local: str = "resource",
        key: SigningKey | None = None,
        name: str | None = None,
        lifetime: int = 3600,
        margin: float = 300.0,
        allow_loopback_http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < margin < lifetime:
            raise ValueError("margin must be positive and shorter than lifetime")
        self.resource = resource
        self.agent_id = agent_identifier(local, resource)
        self.name = name
        self._keys = keys
        self._key = key or generate_key()
        self._lifetime = lifetime
        self._margin = margin
        self._loopback = allow_loopback_http
        self._clock = clock
        self._signers: OrderedDict[str | None, tuple[AgentSigner, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def callback_endpoint(self) -> str:
        """Where person servers send people back to after a chained interaction (phase 9)."""
        return f"{self.resource}/interact/callback"

    def metadata(self) -> AgentProviderMetadata:
        """This resource's ``aauth-agent.json``: it vouches for its own agent (AP-01)."""
        return AgentProviderMetadata(
            issuer=self.resource,
            jwks_uri=well_known_url(self.resource, "jwks.json"),
            name=self.name,
            callback_endpoint=self.callback_endpoint,
        )

    def signer(self, ps: str | None = None) -> AgentSigner:
        """A signer presenting a current agent token that names ``ps``."""
        now = self._clock()
        with self._lock:
            entry = self._signers.get(ps)
            if entry is not None and entry[1] - self._margin > now:
                self._signers.move_to_end(ps)
                return entry[0]
            token = issue_agent_token(
                self._keys,
                iss=self.resource,
                sub=self.agent_id,
                cnf_jwk=self._key.public_key(),
                ps=ps,
                lifetime=self._lifetime,
                now=now,
                allow_loopback_http=self._loopback,
            )
            signer = AgentSigner(self._key, token)
            self._signers[ps] = (signer, now + self._lifetime)
            while len(self._signers) > _MAX_SIGNERS:
                self._signers.popitem(last=False)
            return signer
