"""The four well-known metadata documents (protocol-10 §B.3-B.8) as typed values.

Each role publishes one JSON document at ``{identifier}/.well-known/{dwk}``. ``from_json``
checks a fetched document the way every reader must (``issuer`` present and byte-equal to the
identifier the URL was built from, V-21/V-22/V-30; URLs well-formed; members of the right type;
unknown members ignored); ``to_json`` renders one for a server to publish.

Member names are the -10 ones: the -11 ``auth_token_endpoint`` rename is not emitted or read.

    doc = PersonServerMetadata.from_json(fetched, "https://ps.example")
    doc.token_endpoint
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Self

from aauth_signing import IssuerMismatch, IssuerMissing

from .errors import AAuthError
from .identifiers import is_endpoint_url, is_server_identifier
from .tokens.wire import ACCESS_DWK, AGENT_DWK, PERSON_DWK, RESOURCE_DWK

__all__ = [
    "ACCESS_DWK",
    "AGENT_DWK",
    "DOCUMENT_TYPES",
    "PERSON_DWK",
    "RESOURCE_DWK",
    "AccessServerMetadata",
    "AgentProviderMetadata",
    "MetadataDocument",
    "MetadataError",
    "PersonServerMetadata",
    "ResourceMetadata",
    "check_issuer",
    "well_known_url",
]


class MetadataError(AAuthError):
    """A metadata document is unusable: not an object, a required member missing, a bad value.

    The document came from another server, hence 502 like any bad upstream answer.
    """

    code, status = "server_error", 502


def well_known_url(identifier: str, dwk: str) -> str:
    """Where the server ``identifier`` publishes the document named ``dwk``."""
    return f"{identifier}/.well-known/{dwk}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_issuer(
    document: Mapping[str, Any], identifier: str, *, allow_loopback_http: bool = False
) -> None:
    """The ``issuer`` checks every fetched document needs (V-21, V-22, V-29, V-30).

    ``identifier`` is the one the document's URL was built from.
    """
    issuer = document.get("issuer")
    if issuer is None:
        raise IssuerMissing(f"metadata for {_short(identifier)} has no 'issuer'")
    if issuer != identifier:
        raise IssuerMismatch(f"metadata 'issuer' {_short(issuer)} is not {_short(identifier)}")
    if not is_server_identifier(issuer, allow_loopback_http=allow_loopback_http):
        raise MetadataError(f"metadata 'issuer' {_short(issuer)} is not a server identifier")


def _is_url(value: object, allow_loopback_http: bool) -> bool:
    """An https URL (query allowed), or loopback http in development; printable ASCII only."""
    if not isinstance(value, str) or not (value.isascii() and value.isprintable()):
        return False
    if " " in value:
        return False
    base = value.split("#", 1)[0].split("?", 1)[0]
    return is_endpoint_url(base, allow_loopback_http=allow_loopback_http)


def _is_endpoint(value: object, allow_loopback_http: bool) -> bool:
    return _is_url(value, allow_loopback_http) and is_endpoint_url(
        value, allow_loopback_http=allow_loopback_http
    )


def _is_strings(value: object, allow_loopback_http: bool) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_string_map(value: object, allow_loopback_http: bool) -> bool:
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())


_KINDS: dict[str, tuple[Callable[[Any, bool], bool], str]] = {
    "url": (_is_url, "an https URL"),
    "endpoint": (_is_endpoint, "an https URL without query or fragment"),
    "string": (lambda value, _: isinstance(value, str), "a string"),
    "bool": (lambda value, _: isinstance(value, bool), "a boolean"),
    "seconds": (lambda value, _: type(value) is int and value > 0, "a positive integer"),
    "strings": (_is_strings, "an array of strings"),
    "string_map": (_is_string_map, "an object of strings"),
}
"""Member kind → (check, what the check wants); the dataclass fields name their kind."""


def _parse(kind: str, name: str, value: Any, allow_loopback_http: bool) -> Any:
    """``value`` as its member type (arrays become tuples), or MetadataError naming it."""
    check, expected = _KINDS[kind]
    if not check(value, allow_loopback_http):
        raise MetadataError(f"metadata member '{name}' must be {expected}")
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def _member(kind: str, default: Any = None) -> Any:
    return field(default=default, metadata={"kind": kind})


def _required(kind: str) -> Any:
    return field(metadata={"kind": kind})


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


@dataclass(frozen=True, kw_only=True)
class MetadataDocument:
    """Members every role's document may carry (protocol-10 §B.4)."""

    dwk: ClassVar[str] = ""

    issuer: str = _required("identifier")
    jwks_uri: str | None = _member("url")
    name: str | None = _member("string")
    description: str | None = _member("string")
    logo_uri: str | None = _member("url")
    logo_dark_uri: str | None = _member("url")
    documentation_uri: str | None = _member("url")
    tos_uri: str | None = _member("url")
    policy_uri: str | None = _member("url")

    @classmethod
    def from_json(
        cls, document: Any, identifier: str, *, allow_loopback_http: bool = False
    ) -> Self:
        """The checked document fetched from ``well_known_url(identifier, cls.dwk)``.

        Raises IssuerMissing / IssuerMismatch (signature errors, as discovery reports them)
        or MetadataError. A JSON ``null`` counts as an absent member.
        """
        if not isinstance(document, Mapping):
            raise MetadataError("a metadata document must be a JSON object")
        check_issuer(document, identifier, allow_loopback_http=allow_loopback_http)
        values: dict[str, Any] = {"issuer": identifier}
        for member in fields(cls):
            kind = member.metadata["kind"]
            value = document.get(member.name)
            if kind == "identifier":
                continue
            if value is not None:
                values[member.name] = _parse(kind, member.name, value, allow_loopback_http)
            elif member.default is MISSING:
                raise MetadataError(f"metadata for {_short(identifier)} lacks '{member.name}'")
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The JSON object to publish; absent members are omitted."""
        return {
            member.name: _to_json(value)
            for member in fields(self)
            if (value := getattr(self, member.name)) is not None
        }


@dataclass(frozen=True, kw_only=True)
class AgentProviderMetadata(MetadataDocument):
    """``aauth-agent.json`` (§B.5, AP-01); also published by resources that call onward."""

    dwk: ClassVar[str] = AGENT_DWK

    jwks_uri: str = _required("url")
    callback_endpoint: str | None = _member("endpoint")
    login_endpoint: str | None = _member("endpoint")
    localhost_callback_allowed: bool = _member("bool", False)
    event_endpoint: str | None = _member("endpoint")


@dataclass(frozen=True, kw_only=True)
class PersonServerMetadata(MetadataDocument):
    """``aauth-person.json`` (§B.6, PS-01)."""

    dwk: ClassVar[str] = PERSON_DWK

    jwks_uri: str = _required("url")
    token_endpoint: str = _required("endpoint")
    mission_endpoint: str | None = _member("endpoint")
    permission_endpoint: str | None = _member("endpoint")
    audit_endpoint: str | None = _member("endpoint")
    interaction_endpoint: str | None = _member("endpoint")
    mission_control_endpoint: str | None = _member("endpoint")
    revocation_endpoint: str | None = _member("endpoint")
    login_endpoint: str | None = _member("endpoint")
    scopes_supported: tuple[str, ...] | None = _member("strings")
    claims_supported: tuple[str, ...] | None = _member("strings")


@dataclass(frozen=True, kw_only=True)
class AccessServerMetadata(MetadataDocument):
    """``aauth-access.json`` (§B.7, AS-01); ``interaction_endpoint`` is a seed extra."""

    dwk: ClassVar[str] = ACCESS_DWK

    jwks_uri: str = _required("url")
    token_endpoint: str = _required("endpoint")
    revocation_endpoint: str | None = _member("endpoint")
    interaction_endpoint: str | None = _member("endpoint")
    login_endpoint: str | None = _member("endpoint")


@dataclass(frozen=True, kw_only=True)
class ResourceMetadata(MetadataDocument):
    """``aauth-resource.json`` (§B.8, RS-21).

    ``jwks_uri`` stays optional here: it is required only of a resource that issues resource
    tokens or signs requests, which the document alone cannot tell; key discovery demands it.
    ``access_mode`` is advisory and kept as sent.
    """

    dwk: ClassVar[str] = RESOURCE_DWK

    access_mode: str | None = _member("string")
    authorization_endpoint: str | None = _member("endpoint")
    login_endpoint: str | None = _member("endpoint")
    revocation_endpoint: str | None = _member("endpoint")
    scope_descriptions: Mapping[str, str] | None = _member("string_map")
    signature_window: int = _member("seconds", 60)
    additional_signature_components: tuple[str, ...] | None = _member("strings")


DOCUMENT_TYPES: Mapping[str, type[MetadataDocument]] = {
    kind.dwk: kind
    for kind in (
        AgentProviderMetadata,
        PersonServerMetadata,
        AccessServerMetadata,
        ResourceMetadata,
    )
}
"""Well-known document name → its type; discovery checks these documents in full."""
