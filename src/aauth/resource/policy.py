"""What a resource demands of a request, as one immutable object (per resource or per route).

The strictest choice is the default: only AAuth's ``jwt`` scheme, an agent identity
required. Routes relax (``hwk`` for pseudonymous access) or tighten (auth token, scopes)
with :meth:`ResourcePolicy.with_`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from urllib.parse import urlsplit

from aauth_signing import VerificationPolicy

from ..identifiers import server_host

__all__ = ["BASE_COMPONENTS", "ResourcePolicy", "check_components", "published_components"]

#: What every AAuth signature covers; never listed in ``additional_signature_components``.
BASE_COMPONENTS = ("@method", "@authority", "@path", "signature-key")
#: Required by the AAuth profile whenever the request has a query or a body (§C.2).
CONDITIONAL_COMPONENTS = ("@query", "content-digest")
_DERIVED = frozenset(
    {"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"}
)
_FIELD_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")


@dataclass(frozen=True)
class ResourcePolicy:
    """Requirements for one resource (or one route of it).

    ``resource`` is this resource's identifier (auth tokens must name it in ``aud``);
    ``canonical_authorities`` are the ``@authority`` values it answers to (normalised: lowercase,
    no default port; default: the identifier's host) — a signature made for another host is
    refused even if valid. ``trusted_issuers`` are the PS/AS identifiers
    whose auth tokens are accepted (None: any, which fetches keys from any issuer — avoid);
    ``access_server`` is set when an AS issues this resource's auth tokens (the ``aud`` of its
    resource tokens, RS-05). ``allow_legacy`` reads what the 0.3-era seed emitted (``EdDSA``
    tokens, JWKs without ``alg``, URL-form agent identifiers) — for interoperating with it
    only, never a default.
    """

    resource: str
    canonical_authorities: tuple[str, ...] = ()
    accepted_schemes: tuple[str, ...] = ("jwt",)
    require_identity: bool = True
    require_auth_token: bool = False
    required_scopes: tuple[str, ...] = ()
    trusted_issuers: tuple[str, ...] | None = ()
    access_server: str | None = None
    signature_window: int = 60
    additional_components: tuple[str, ...] = ()
    replay_protection: bool = True
    allow_legacy: bool = False
    allow_loopback_http: bool = False

    def __post_init__(self) -> None:
        """Wrong types fail here, not at the first request (a string is not a set of scopes)."""
        resource = self.resource
        parts = urlsplit(resource) if isinstance(resource, str) else None
        if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                f"resource must be this resource's identifier, e.g. 'https://api.example', "
                f"not {resource!r}"
            )
        for name in (
            "canonical_authorities",
            "accepted_schemes",
            "required_scopes",
            "trusted_issuers",
            "additional_components",
        ):
            value = getattr(self, name)
            if value is not None or name != "trusted_issuers":
                object.__setattr__(self, name, _strings(name, value))
        for name in ("require_identity", "require_auth_token", "replay_protection"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, not {getattr(self, name)!r}")
        # 0.3's verifier (allow_legacy) asked for "any auth token"; protocol-10 needs a scope
        # to challenge for, so a typed policy must name one.
        if self.require_auth_token and not self.required_scopes and not self.allow_legacy:
            raise ValueError(
                "require_auth_token=True needs required_scopes: the scopes an agent asks its "
                "person server for"
            )
        check_components(self.additional_components, "additional_components")

    @property
    def signature_components(self) -> tuple[str, ...]:
        """What this policy requires beyond the four base components, as a resource
        publishes it in ``additional_signature_components`` (V-46): ``@query`` and
        ``content-digest`` (required when there is a query or a body), then its own."""
        extra = (*CONDITIONAL_COMPONENTS, *self.additional_components)
        return tuple(n for n in dict.fromkeys(extra) if n not in BASE_COMPONENTS)

    def with_(self, **changes: object) -> ResourcePolicy:
        """A copy with ``changes`` (e.g. ``policy.with_(require_auth_token=True)``)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @cached_property
    def authorities(self) -> tuple[str, ...]:
        """The ``@authority`` values accepted: the configured ones, else the identifier's."""
        return self.canonical_authorities or (server_host(self.resource).lower(),)

    @cached_property
    def required_scope_set(self) -> frozenset[str]:
        """``required_scopes`` as a set, built once (every request checks it)."""
        return frozenset(self.required_scopes)

    @cached_property
    def signature_policy(self) -> VerificationPolicy:
        """The RFC 9421 layer's policy for these requirements (AAuth profile, §C)."""
        return VerificationPolicy.aauth(
            accepted_schemes=self.accepted_schemes,
            max_age=self.signature_window,
            max_future_skew=self.signature_window,
            allow_legacy_keys=self.allow_legacy,
        ).with_components(*self.additional_components)


def _strings(name: str, value: object) -> tuple[str, ...]:
    """``value`` as a tuple of strings; TypeError for one string (which would otherwise be
    read as its characters) or for anything else that is not a collection of strings."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a tuple of strings, e.g. ({value!r},), not {value!r}")
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise TypeError(f"{name} must hold only strings, not {items!r}")
    return items


def check_components(names: Iterable[object], what: str) -> None:
    """ValueError unless every name is a derived component or a lowercase field name."""
    for name in names:
        if not isinstance(name, str) or not (name in _DERIVED or _FIELD_NAME.fullmatch(name)):
            raise ValueError(f"{what}: {name!r} is neither a derived component nor a field name")


def published_components(policies: Iterable[ResourcePolicy | None]) -> tuple[str, ...]:
    """``additional_signature_components`` for a resource whose routes have ``policies``:
    everything any of them requires beyond the four (V-46), in first-seen order."""
    names: dict[str, None] = {}
    for policy in policies:
        if policy is not None:
            names.update(dict.fromkeys(policy.signature_components))
    return tuple(names)
