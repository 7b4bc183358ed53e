"""aauth 0.3's identifier validators and metadata helpers.

Documents are generated with protocol-10 member names (0.3's ``resource_token_endpoint`` is
written as ``authorization_endpoint``). Every fetch goes through the egress policy in
``aauth.compat.keys.EGRESS`` (https only, no private addresses, size and time caps) and
checks the document's ``issuer`` where the URL names the server (§B.3).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..egress import AsyncEgressClient, EgressClient, EgressPolicy
from ..identifiers import is_endpoint_url, is_server_identifier
from ..metadata import check_issuer
from ..tokens.wire import PERSON_DWK
from . import keys
from .errors import MetadataError

__all__ = [
    "fetch_auth_metadata",
    "fetch_metadata",
    "fetch_mm_metadata",
    "fetch_mm_metadata_async",
    "generate_agent_metadata",
    "generate_auth_metadata",
    "generate_mm_metadata",
    "generate_resource_metadata",
    "validate_endpoint_url",
    "validate_other_url",
    "validate_server_identifier",
]


def validate_server_identifier(url: str) -> str:
    """``url`` when it is a server identifier (``https://host``, lowercase, nothing else);
    ValueError otherwise."""
    if not is_server_identifier(url):
        raise ValueError(
            f"Server identifier must be https://host in lowercase, without port, path, "
            f"query, fragment or trailing slash: {url!r}"
        )
    return url


def validate_endpoint_url(url: str) -> str:
    """``url`` when it is an https URL without query or fragment; ValueError otherwise."""
    if not is_endpoint_url(url):
        raise ValueError(f"Endpoint URL must be https without query or fragment: {url!r}")
    return url


def validate_other_url(url: str) -> str:
    """``url`` when it is an https URL; ValueError otherwise."""
    if not isinstance(url, str) or urlsplit(url).scheme != "https" or not urlsplit(url).netloc:
        raise ValueError(f"URL must use https scheme: {url!r}")
    return url


def _document(issuer: str, **members: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"issuer": issuer}
    document.update({name: value for name, value in members.items() if value is not None})
    return document


def generate_agent_metadata(
    agent_id: str,
    jwks_uri: str,
    client_name: str | None = None,
    logo_uri: str | None = None,
    logo_dark_uri: str | None = None,
    callback_endpoint: str | None = None,
    login_endpoint: str | None = None,
    localhost_callback_allowed: bool | None = None,
    clarification_supported: bool | None = None,
    tos_uri: str | None = None,
    policy_uri: str | None = None,
) -> dict[str, Any]:
    """An agent provider's ``aauth-agent.json``."""
    return _document(
        agent_id,
        jwks_uri=jwks_uri,
        client_name=client_name,
        logo_uri=logo_uri,
        logo_dark_uri=logo_dark_uri,
        callback_endpoint=callback_endpoint,
        login_endpoint=login_endpoint,
        localhost_callback_allowed=localhost_callback_allowed,
        clarification_supported=clarification_supported,
        tos_uri=tos_uri,
        policy_uri=policy_uri,
    )


def generate_resource_metadata(
    resource_id: str,
    jwks_uri: str,
    client_name: str | None = None,
    logo_uri: str | None = None,
    logo_dark_uri: str | None = None,
    authorization_endpoint: str | None = None,
    resource_token_endpoint: str | None = None,
    interaction_endpoint: str | None = None,
    scope_descriptions: dict[str, str] | None = None,
    additional_signature_components: list[str] | None = None,
    signature_window: int | None = None,
    login_endpoint: str | None = None,
    revocation_endpoint: str | None = None,
) -> dict[str, Any]:
    """A resource's ``aauth-resource.json``; 0.3's ``resource_token_endpoint`` is
    protocol-10's ``authorization_endpoint``."""
    return _document(
        resource_id,
        jwks_uri=jwks_uri,
        client_name=client_name,
        logo_uri=logo_uri,
        logo_dark_uri=logo_dark_uri,
        authorization_endpoint=authorization_endpoint or resource_token_endpoint,
        interaction_endpoint=interaction_endpoint,
        scope_descriptions=scope_descriptions,
        additional_signature_components=additional_signature_components,
        signature_window=signature_window,
        login_endpoint=login_endpoint,
        revocation_endpoint=revocation_endpoint,
    )


def generate_auth_metadata(
    auth_id: str,
    jwks_uri: str,
    token_endpoint: str,
    interaction_endpoint: str,
    login_endpoint: str | None = None,
    revocation_endpoint: str | None = None,
) -> dict[str, Any]:
    """An access server's ``aauth-access.json``."""
    return _document(
        auth_id,
        token_endpoint=token_endpoint,
        interaction_endpoint=interaction_endpoint,
        jwks_uri=jwks_uri,
        login_endpoint=login_endpoint or None,
        revocation_endpoint=revocation_endpoint or None,
    )


def generate_mm_metadata(
    person_server: str,
    token_endpoint: str,
    jwks_uri: str,
    mission_endpoint: str | None = None,
    permission_endpoint: str | None = None,
    audit_endpoint: str | None = None,
    interaction_endpoint: str | None = None,
    mission_control_endpoint: str | None = None,
    login_endpoint: str | None = None,
    revocation_endpoint: str | None = None,
    scopes_supported: list[str] | None = None,
    claims_supported: list[str] | None = None,
) -> dict[str, Any]:
    """A person server's ``aauth-person.json`` (0.3 called it the mission manager)."""
    return _document(
        person_server,
        token_endpoint=token_endpoint,
        jwks_uri=jwks_uri,
        mission_endpoint=mission_endpoint or None,
        permission_endpoint=permission_endpoint or None,
        audit_endpoint=audit_endpoint or None,
        interaction_endpoint=interaction_endpoint or None,
        mission_control_endpoint=mission_control_endpoint or None,
        login_endpoint=login_endpoint or None,
        revocation_endpoint=revocation_endpoint or None,
        scopes_supported=scopes_supported,
        claims_supported=claims_supported,
    )


def egress_policy(timeout: float | None = None) -> EgressPolicy:
    """``aauth.compat.keys.EGRESS`` with the caller's timeout."""
    policy = keys.EGRESS
    if timeout is None:
        return policy
    return EgressPolicy(
        allow_loopback_http=policy.allow_loopback_http,
        allowed_networks=policy.allowed_networks,
        max_bytes=policy.max_bytes,
        connect_timeout=timeout,
        read_timeout=timeout,
        total_timeout=timeout,
        resolver=policy.resolver,
    )


def fetch_metadata(url: str) -> dict[str, Any]:
    """The JSON document at ``url``; MetadataError when it cannot be fetched."""
    try:
        with EgressClient(egress_policy()) as client:
            return client.fetch_json(url)[0]
    except Exception as exc:  # 0.3 reported every failure as MetadataError
        raise MetadataError(
            f"Failed to fetch metadata from {url}: {exc}", metadata_url=url
        ) from exc


async def fetch_auth_metadata(url: str, http_client: Any = None) -> dict[str, Any]:
    """The JSON document at ``url`` through ``http_client.fetch_json`` (default: the
    egress-checked client); MetadataError when it cannot be fetched."""
    client = http_client or keys.DefaultHTTPClient()
    try:
        document: dict[str, Any] = await client.fetch_json(url)
    except Exception as exc:
        raise MetadataError(
            f"Failed to fetch metadata from {url}: {exc}", metadata_url=url
        ) from exc
    return document


def _person_url(ps_url: str) -> tuple[str, str]:
    identifier = ps_url.rstrip("/")
    return identifier, f"{identifier}/.well-known/{PERSON_DWK}"


def fetch_mm_metadata(ps_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The person server's ``aauth-person.json``, its ``issuer`` checked; MetadataError."""
    identifier, url = _person_url(ps_url)
    try:
        with EgressClient(egress_policy(timeout)) as client:
            document = client.fetch_json(url)[0]
        check_issuer(document, identifier, allow_loopback_http=keys.EGRESS.allow_loopback_http)
    except Exception as exc:
        raise MetadataError(
            f"Could not fetch PS metadata from {ps_url}: {exc}", metadata_url=url
        ) from exc
    return document


async def fetch_mm_metadata_async(ps_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """:func:`fetch_mm_metadata`, awaited."""
    identifier, url = _person_url(ps_url)
    try:
        async with AsyncEgressClient(egress_policy(timeout)) as client:
            document = (await client.fetch_json(url))[0]
        check_issuer(document, identifier, allow_loopback_http=keys.EGRESS.allow_loopback_http)
    except Exception as exc:
        raise MetadataError(
            f"Could not fetch PS metadata from {ps_url}: {exc}", metadata_url=url
        ) from exc
    return document
