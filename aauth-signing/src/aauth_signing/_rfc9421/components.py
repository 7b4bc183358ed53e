"""Covered components and their values (RFC 9421 §2).

A component the verifier cannot resolve exactly is an error, never a guess: absent fields,
unknown derived names, unknown parameters, ``;req`` on a request, a missing ``;key`` member.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlsplit

import http_sf
from http_sf.innerlist import ser_item_or_inner_list

from .._structured import BareItem, Params, serialize_params, serialize_string
from ..errors import InvalidSignature
from ..message import Fields, HttpRequest, HttpResponse

__all__ = ["STRUCTURED_FIELDS", "Component", "ComponentError", "component_value"]

#: Fields known to be structured, with their top-level type, for the ``;sf`` and ``;key``
#: parameters. RFC 9421 §2.1.1 requires the signer to know the type; a field not listed here
#: cannot be covered with ``;sf``.
STRUCTURED_FIELDS: dict[str, str] = {
    "signature-input": "dictionary",
    "signature": "dictionary",
    "signature-key": "dictionary",
    "signature-error": "dictionary",
    "signature-key-cache": "dictionary",
    "accept-signature": "dictionary",
    "accept-signature-scheme": "list",
    "accept-signature-alg": "list",
    "content-digest": "dictionary",
    "repr-digest": "dictionary",
    "want-content-digest": "dictionary",
    "want-repr-digest": "dictionary",
    "aauth-requirement": "dictionary",
    "aauth-mission": "dictionary",
    "aauth-capabilities": "list",
    "cache-status": "list",
    "proxy-status": "list",
    "priority": "dictionary",
    "example-dict": "dictionary",
}

_DERIVED = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
        "@query-param",
        "@status",
    }
)
_FIELD_PARAMS = frozenset({"sf", "key", "bs", "req", "tr"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_OBS_FOLD = re.compile(r"\r?\n[ \t]+")


class ComponentError(InvalidSignature):
    """A covered component cannot be resolved on this message."""


@dataclass(frozen=True, slots=True)
class Component:
    """One covered component: a lowercase name plus its ordered parameters."""

    name: str
    params: Params = ()

    @property
    def identifier(self) -> str:
        """The serialized component identifier as it appears in the signature base."""
        return _identifier(self.name, self.params)

    def param(self, key: str) -> BareItem | None:
        for name, value in self.params:
            if name == key:
                return value
        return None

    @property
    def canonical_key(self) -> tuple[str, Params]:
        """Identity ignoring parameter order (RFC 9421 §2: a component is listed once)."""
        if len(self.params) < 2:
            return (self.name, self.params)
        return (self.name, tuple(sorted(self.params, key=repr)))

    @classmethod
    def parse(cls, identifier: str) -> Component:
        """A component from its serialized identifier, e.g. ``"@query-param";name="id"``."""
        try:
            item = http_sf.parse(identifier.encode("ascii"), tltype="item")
        except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError) as exc:
            raise ComponentError(f"invalid component identifier {identifier!r}: {exc}") from None
        value, params = item if isinstance(item, tuple) else (item, {})
        if not isinstance(value, str):
            raise ComponentError(f"component identifier {identifier!r} is not a string")
        return cls(value, tuple(params.items()))


@lru_cache(maxsize=1024)
def _identifier(name: str, params: Params) -> str:
    return serialize_string(name) + serialize_params(params)


@lru_cache(maxsize=4096)
def _authority(netloc: str, scheme: str) -> str:
    host = netloc.rpartition("@")[2].lower()
    if host.startswith("["):
        bracket = host.find("]")
        name, port = host[: bracket + 1], host[bracket + 2 :] if bracket + 1 < len(host) else ""
    else:
        name, _, port = host.partition(":")
    if not port or port == _DEFAULT_PORTS.get(scheme):
        return name
    return f"{name}:{port}"


def _form_encode(text: str) -> str:
    """Percent-encode with the application/x-www-form-urlencoded set (space as %20)."""
    return quote(text, safe="*-._", encoding="utf-8").replace("~", "%7E")


def _query_param(query: str, name: BareItem | None) -> str:
    if not isinstance(name, str):
        raise ComponentError('"@query-param" requires a string "name" parameter')
    values = [
        _form_encode(v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if _form_encode(k) == name
    ]
    if not values:
        raise ComponentError(f"query parameter {name!r} is not present")
    if len(values) > 1:
        raise ComponentError(f"query parameter {name!r} occurs more than once; cover @query")
    return values[0]


def _derived_value(component: Component, message: HttpRequest | HttpResponse) -> str:
    name = component.name
    allowed = {"req", "name"} if name == "@query-param" else {"req"}
    for param_name, _ in component.params:
        if param_name not in allowed:
            raise ComponentError(f"parameter {param_name!r} is not defined for {name}")
    if component.param("req") is True:
        message = _related_request(message)
    if name == "@status":
        if not isinstance(message, HttpResponse):
            raise ComponentError("@status applies to responses only")
        return f"{message.status:03d}"
    if not isinstance(message, HttpRequest):
        raise ComponentError(f"{name} applies to requests; use ;req on a response")
    if name == "@method":
        return message.method
    parts = urlsplit(message.target_uri)
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    if name == "@authority":
        return _authority(parts.netloc, parts.scheme.lower())
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@target-uri":
        return message.target_uri
    if name == "@request-target":
        return (parts.path or "/") + ("?" + parts.query if parts.query else "")
    return _query_param(parts.query, component.param("name"))


def _related_request(message: HttpRequest | HttpResponse) -> HttpRequest:
    if not isinstance(message, HttpResponse):
        raise ComponentError(";req is only valid when signing a response")
    if message.request is None:
        raise ComponentError(";req needs the related request")
    return message.request


def _field_value(component: Component, fields: Fields) -> str:
    name = component.name
    for param_name, _ in component.params:
        if param_name not in _FIELD_PARAMS:
            raise ComponentError(f"unknown component parameter {param_name!r} on {name!r}")
    if component.param("tr") is not None:
        raise ComponentError("trailer fields (;tr) are not supported")
    lines = fields.get_all(name)
    if not lines:
        raise ComponentError(f"field {name!r} is not present")
    cleaned = [_OBS_FOLD.sub(" ", line).strip(" \t") for line in lines]
    sf, key, bs = component.param("sf"), component.param("key"), component.param("bs")
    if bs is True:
        if sf is not None or key is not None:
            raise ComponentError(";bs cannot be combined with ;sf or ;key")
        try:
            return ", ".join(
                ":" + base64.b64encode(line.encode("latin-1")).decode("ascii") + ":"
                for line in cleaned
            )
        except UnicodeEncodeError:
            raise ComponentError(f"field {name!r} has characters beyond latin-1") from None
    combined = ", ".join(cleaned)
    if sf is None and key is None:
        return combined
    tltype = STRUCTURED_FIELDS.get(name)
    if tltype is None:
        raise ComponentError(f"field {name!r} is not a known structured field")
    try:
        parsed = http_sf.parse(combined.encode("ascii"), tltype=tltype)
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError) as exc:
        raise ComponentError(f"field {name!r} is not a valid structured field: {exc}") from None
    if key is None:
        return http_sf.ser(parsed)
    if not isinstance(key, str) or not isinstance(parsed, dict):
        raise ComponentError(f";key needs a dictionary field and a string key ({name!r})")
    if key not in parsed:
        raise ComponentError(f"dictionary field {name!r} has no member {key!r}")
    return str(ser_item_or_inner_list(parsed[key]))


def component_value(component: Component, message: HttpRequest | HttpResponse) -> str:
    """The value of ``component`` on ``message``, as it appears in the signature base."""
    if component.name.startswith("@"):
        if component.name not in _DERIVED:
            raise ComponentError(f"unknown derived component {component.name!r}")
        return _derived_value(component, message)
    if component.name != component.name.lower():
        raise ComponentError(f"component name {component.name!r} must be lowercase")
    source: HttpRequest | HttpResponse = message
    if component.param("req") is True:
        source = _related_request(message)
    return _field_value(component, source.headers)
