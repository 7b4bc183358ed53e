"""The Agent Provider (protocol-10 §B.5, §D.1): it vouches for its agents with agent tokens.

An agent is enrolled by the thumbprint of a long-term key it holds (ideally in hardware). Each
running instance of the agent makes a fresh request key and proves, with the Signature-Key
``jkt-jwt`` scheme, that the enrolled key delegated to it: the JWT header carries the enrolled
public key, the JWT's ``cnf.jwk`` the instance key, and the HTTP request is signed with the
instance key (SIGNATURE-KEY.md §2.2). The provider then issues an agent token whose ``sub``
is the agent (stable across instances and key changes) and whose ``cnf.jwk`` is the instance
key (AP-02 … AP-06).

Each instance may name itself (``instance`` in the proof): its agent token then names that
instance, ``aauth:assistant.laptop@ap.example``, and keeps naming it when the instance comes
back with a new key (phase 6, "delegates"). An instance may in turn ask for tokens for its
sub-agents: the proof is then signed by the instance's current key and carries a
``discriminator``; the sub-agent's token has ``parent_agent`` set to the instance and the
local name ``assistant.laptop+search1`` (§D.1, AP-05). A sub-agent's key never obtains a
token for a further sub-agent (AP-06).

The provider's signing keys rotate on demand or on a schedule; a retired key stays in the
JWKS until every token it signed has expired, then it is removed (AP-07).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aauth_signing import InvalidJWT

from .delegates import Delegate, Delegates, is_delegate_name
from .errors import Forbidden
from .identifiers import agent_identifier, is_endpoint_url, is_server_identifier
from .keys import KeySet
from .metadata import AgentProviderMetadata, well_known_url
from .replay import StoreReplayGuard
from .resource import RequestVerifier, ResourcePolicy, VerifiedCaller
from .store import SQLiteStore
from .store.base import Store
from .tokens import decode_unverified, issue_agent_token
from .tokens.agent import MAX_AGENT_TOKEN_LIFETIME
from .tokens.claims import is_s256
from .tokens.verifier import AGENT_TOKEN

__all__ = [
    "CallbackOutcome",
    "callback_outcome",
    "AGENT_TOKEN_PATH",
    "JKT_S256_PREFIX",
    "MAX_PROOF_LIFETIME",
    "AgentProvider",
    "AgentTokenGrant",
    "EnrolledAgent",
]

AGENT_TOKEN_PATH = "/agent-token"  # noqa: S105 (a URL path, not a secret)
"""Where an agent provider built on this module takes enrollment proofs (not in -10's
metadata; agents append it to the provider's identifier)."""

JKT_S256_PREFIX = "urn:jkt:sha-256:"
MAX_PROOF_LIFETIME = 3600
"""A ``jkt-jwt`` enrollment proof is a short delegation; one living longer is refused."""

_EXPIRY_LEEWAY = 60
MAX_LOCAL_LENGTH = 255
"""AP-04: an instance or sub-agent name that would make the local part longer is refused."""


@dataclass(frozen=True)
class CallbackOutcome:
    """What a person's return to ``callback_endpoint`` means (§F.5, AG-37).

    ``error`` is the polling error the callback's ``error`` maps to (``denied``,
    ``abandoned``, ``expired``, ``server_error``), None when the flow completed. A callback
    with an error is never a completion: the agent learns the result from its pending URL,
    and the person is told plainly that nothing was done.
    """

    error: str | None
    title: str
    message: str

    @property
    def completed(self) -> bool:
        return self.error is None


_CALLBACK_ERRORS = {
    "access_denied": "denied",
    "user_abandoned": "abandoned",
    "interaction_expired": "expired",
}


def callback_outcome(query: Mapping[str, str]) -> CallbackOutcome:
    """The outcome of a callback request with ``query``; an unknown or malformed ``error``
    counts as ``server_error`` (PS-26's mapping, applied on the receiving side)."""
    raw = query.get("error")
    if raw is None:
        return CallbackOutcome(None, "Done", "You can return to your agent.")
    error = _CALLBACK_ERRORS.get(raw, "server_error")
    return CallbackOutcome(
        error, "Not completed", f"The request was not completed ({error}). Nothing was granted."
    )


@dataclass(frozen=True)
class EnrolledAgent:
    """An agent this provider vouches for: its local name, the RFC 7638 SHA-256 thumbprint
    of its enrolled key, and the Person Server its tokens name (``ps``)."""

    local: str
    enrollment_jkt: str
    ps: str | None = None


@dataclass(frozen=True)
class AgentTokenGrant:
    """An issued agent token, as the enrollment endpoint returns it."""

    agent_token: str
    expires_in: int
    agent: str

    def to_json(self) -> dict[str, Any]:
        return {"agent_token": self.agent_token, "expires_in": self.expires_in}


class AgentProvider:
    """Issues agent tokens to instances of enrolled agents, and owns the signing keys.

    ``rotation_interval`` (seconds) rotates the signing key when it is that old, checked
    whenever tokens are issued or the JWKS is served; ``key_file`` is rewritten after each
    change so a restart keeps every published key. ``verifier`` checks enrollment requests
    (``jkt-jwt`` only, no discovery); serve it with :class:`~aauth.resource.AAuthMiddleware`.
    ``store`` keeps the :class:`~aauth.delegates.Delegates` and the replay guard (default: in
    memory).
    """

    def __init__(
        self,
        identifier: str,
        keys: KeySet,
        agents: Iterable[EnrolledAgent],
        *,
        token_lifetime: int = 3600,
        rotation_interval: float | None = None,
        canonical_authorities: tuple[str, ...] = (),
        signature_window: int = 60,
        name: str | None = None,
        callback_endpoint: str | None = None,
        key_file: str | os.PathLike[str] | None = None,
        allow_loopback_http: bool = False,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        loop = allow_loopback_http
        if not is_server_identifier(identifier, allow_loopback_http=loop):
            raise ValueError(f"identifier {identifier!r} is not a server identifier")
        if not 0 < token_lifetime <= MAX_AGENT_TOKEN_LIFETIME:
            raise ValueError(f"token_lifetime must be 1..{MAX_AGENT_TOKEN_LIFETIME} seconds")
        if rotation_interval is not None and rotation_interval <= 0:
            raise ValueError("rotation_interval must be positive")
        if callback_endpoint is not None and not is_endpoint_url(
            callback_endpoint, allow_loopback_http=loop
        ):
            raise ValueError("callback_endpoint must be https without query or fragment (AP-08)")
        if callback_endpoint is not None and not callback_endpoint.startswith(identifier + "/"):
            # AG-37: what is advertised is served, and only this provider serves it.
            raise ValueError(f"callback_endpoint must be a path under {identifier}")
        self.identifier = identifier
        self.keys = keys
        self.token_lifetime = token_lifetime
        self.rotation_interval = rotation_interval
        self._key_file = key_file
        self._loopback = loop
        self._clock = clock
        self._agents = _index(agents, identifier, loop)
        store = store if store is not None else SQLiteStore(clock=clock)
        self.delegates = Delegates(store)
        self._document = AgentProviderMetadata(
            issuer=identifier,
            jwks_uri=well_known_url(identifier, "jwks.json"),
            name=name,
            callback_endpoint=callback_endpoint,
        )
        now = clock()
        self._current_since = now
        self._retired = {kid: now for kid in keys.kids if kid != keys.current_kid}
        self.policy = ResourcePolicy(
            resource=identifier,
            canonical_authorities=canonical_authorities,
            accepted_schemes=("jkt-jwt",),
            require_identity=False,
            signature_window=signature_window,
            allow_loopback_http=loop,
        )
        # In the store, so a request replayed at another instance or after a restart is refused.
        replay = StoreReplayGuard(store, clock=clock)
        self.verifier = RequestVerifier(self.policy, replay_guard=replay, clock=clock)

    @property
    def callback_path(self) -> str | None:
        """The path of the advertised ``callback_endpoint`` this provider serves (AG-37)."""
        endpoint = self._document.callback_endpoint
        return None if endpoint is None else urlsplit(endpoint).path

    def metadata(self) -> dict[str, Any]:
        """``aauth-agent.json`` (AP-01)."""
        return self._document.to_json()

    def jwks(self) -> dict[str, Any]:
        """Every published key, current and retired, with ``kid`` and ``alg`` (AP-07)."""
        self.maintain()
        return self.keys.jwks()

    def rotate(self) -> str:
        """Sign with a new key from now on; the old one stays published until its tokens
        have expired. Returns the new ``kid``."""
        now = self._clock()
        self._retired[self.keys.current_kid] = now
        kid = self.keys.rotate()
        self._current_since = now
        self._save()
        return kid

    def maintain(self) -> None:
        """Rotate when the schedule says so; drop retired keys no token can still need."""
        now = self._clock()
        if (
            self.rotation_interval is not None
            and now - self._current_since >= self.rotation_interval
        ):
            self.rotate()
        horizon = now - self.token_lifetime - _EXPIRY_LEEWAY
        expired = [kid for kid, since in self._retired.items() if since <= horizon]
        for kid in expired:
            self.keys.remove(kid)
            del self._retired[kid]
        if expired:
            self._save()

    def issue(self, caller: VerifiedCaller) -> AgentTokenGrant:
        """The agent token for a request :attr:`verifier` accepted.

        The ``jkt-jwt`` must be a SHA-256 proof (``jkt-s256+jwt``) with ``iat`` and a short
        life (``invalid_jwt`` otherwise). Signed by an enrolled key it yields a token for that
        agent (or its named ``instance``); signed by a delegate's current key, with a
        ``discriminator``, a token for a sub-agent of that delegate. Any other key gets 403,
        as does a sub-agent asking for a sub-agent of its own (AP-06).
        """
        resolved = caller.signature.signature_key
        signer = resolved.signer if resolved is not None else None
        if resolved is None or signer is None or not signer.startswith(JKT_S256_PREFIX):
            raise InvalidJWT("enrollment needs a jkt-s256+jwt proof")
        claims = resolved.claims or {}
        iat, exp = claims.get("iat"), claims.get("exp")
        if type(iat) is not int or type(exp) is not int:
            raise InvalidJWT("the enrollment proof needs integer 'iat' and 'exp'")
        if exp - iat > MAX_PROOF_LIFETIME:
            raise InvalidJWT(f"the enrollment proof may live at most {MAX_PROOF_LIFETIME} s")
        for name in ("instance", "discriminator"):
            if name in claims and not is_delegate_name(claims[name]):
                raise InvalidJWT(f"'{name}' must be 1-64 characters of [a-z0-9_-]")
        proven_by = signer.removeprefix(JKT_S256_PREFIX)
        agent = self._agents.get(proven_by)
        parent: Delegate | None = None
        if agent is not None:
            if "discriminator" in claims:
                raise InvalidJWT("a sub-agent's proof is signed by its parent instance's key")
            local = agent.local
            if "instance" in claims:
                local = f"{local}.{claims['instance']}"
            ps = agent.ps
        else:
            parent = self.delegates.by_key(proven_by)
            if parent is None:
                raise Forbidden("this key is not registered with the agent provider")
            if parent.parent_agent is not None:
                raise Forbidden("a sub-agent cannot obtain tokens for sub-agents (AP-06)")
            if "discriminator" not in claims or "instance" in claims:
                raise InvalidJWT(
                    "a proof signed by an agent's key names a sub-agent 'discriminator' "
                    "(and no 'instance')"
                )
            local = _local(parent.sub) + "+" + str(claims["discriminator"])
            ps = parent.ps
        if len(local) > MAX_LOCAL_LENGTH:
            raise InvalidJWT(f"the agent's local name would pass {MAX_LOCAL_LENGTH} characters")
        self.maintain()
        sub = agent_identifier(local, self.identifier)
        now = self._clock()
        token = issue_agent_token(
            self.keys,
            iss=self.identifier,
            sub=sub,
            cnf_jwk=resolved.jwk,
            ps=ps,
            parent_agent=None if parent is None else parent.sub,
            lifetime=self.token_lifetime,
            now=now,
            allow_loopback_http=self._loopback,
        )
        issued = decode_unverified(AGENT_TOKEN, token, now=now, allow_loopback_http=self._loopback)
        self.delegates.record(
            sub,
            jkt=issued.jkt,
            parent_agent=issued.parent_agent,
            ps=ps,
            expires_at=issued.exp,
        )
        return AgentTokenGrant(token, self.token_lifetime, sub)

    def _save(self) -> None:
        if self._key_file is not None:
            self.keys.save(self._key_file)


def _local(agent: str) -> str:
    return agent.removeprefix("aauth:").rpartition("@")[0]


def _index(
    agents: Iterable[EnrolledAgent], identifier: str, loop: bool
) -> dict[str, EnrolledAgent]:
    """Enrolled agents by key thumbprint, after checking each entry (AP-04, AP-05)."""
    index: dict[str, EnrolledAgent] = {}
    for agent in agents:
        if "+" in agent.local:
            raise ValueError(f"agent {agent.local!r}: a top-level local name has no '+'")
        if "." in agent.local:
            # '.' joins an agent to its instance: "a.b" would be agent a's instance b
            raise ValueError(f"agent {agent.local!r}: a top-level local name has no '.'")
        agent_identifier(agent.local, identifier)
        if not is_s256(agent.enrollment_jkt):
            raise ValueError(f"agent {agent.local!r}: enrollment_jkt is not a SHA-256 thumbprint")
        if agent.ps is not None and not is_server_identifier(agent.ps, allow_loopback_http=loop):
            raise ValueError(f"agent {agent.local!r}: ps {agent.ps!r} is not a server identifier")
        if agent.enrollment_jkt in index:
            raise ValueError(f"agent {agent.local!r}: enrollment key is already registered")
        index[agent.enrollment_jkt] = agent
    return index
