"""V-43: every outbound HTTPS client this package builds requires TLS 1.2 or later."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from aauth.agent.auth import AgentAuth
from aauth.agent.signer import AgentSigner
from aauth.egress import AsyncPinnedTransport, EgressClient, EgressPolicy
from aauth.keys import KeySet, generate_key
from aauth.tls import tls_context
from aauth.tokens import issue_agent_token


def _context_of(transport: Any) -> ssl.SSLContext:
    """The SSL context below an httpx transport (pinned transports wrap the real one)."""
    inner = getattr(transport, "_inner", transport)
    context: ssl.SSLContext = inner._pool._ssl_context
    return context


def test_v43_the_shared_context_verifies_and_refuses_below_tls_1_2() -> None:
    context = tls_context()
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_v43_discovery_egress_clients_use_it() -> None:
    with EgressClient(EgressPolicy()) as client:
        assert _context_of(client._transport) is tls_context()
    assert _context_of(AsyncPinnedTransport(EgressPolicy())) is tls_context()


def test_v43_the_agents_own_client_to_the_person_server_uses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = generate_key()
    token = issue_agent_token(
        KeySet.generate(),
        iss="https://ap.example",
        sub="aauth:bot@ap.example",
        cnf_jwk=key.public_key(),
        ps="https://ps.example",
    )
    auth = AgentAuth(AgentSigner(key, token))
    seen: list[ssl.SSLContext] = []
    original = httpx.Client.__init__

    def spy(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        seen.append(_context_of(self._transport))

    monkeypatch.setattr(httpx.Client, "__init__", spy)
    flow = auth.sync_auth_flow(httpx.Request("GET", "https://api.example/x"))
    next(flow)
    flow.close()
    assert seen
    assert all(context is tls_context() for context in seen)
