"""Covered components and their values (RFC 9421 §2).

A component the verifier cannot resolve exactly is an error, never a guess: absent fields,
unknown derived names, unknown parameters, ``;req`` on a request, a missing ``;key`` member.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from typing import TypeAlias
from urllib.parse import quote, unquote_to_bytes

import http_sf
from http_sf.innerlist import ser_item_or_inner_list

from .._structured import BareItem, Params, serialize_params, serialize_string
from ..errors import InvalidSignature
from ..message import Fields, HttpRequest, HttpResponse

__all__ = [
    "STRUCTURED_FIELDS",
    "Component",
    "ComponentError",
    "RequestResolver",
    "Resolver",
    "component_value",
]

#: Fields known to be structured, with their top-level type, for the ``;sf`` and ``;key``
#: parameters. RFC 9421 §2.1.1 requires the signer to know the type; a field not listed here
#: cannot be covered with ``;sf``. ``example-dict`` is the field of the RFC's own examples.
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

_FLAGS = frozenset({"sf", "bs", "req", "tr"})
_FIELD_PARAMS = _FLAGS | {"key"}
_DERIVED_PARAMS = frozenset({"req"})
_QUERY_PARAM_PARAMS = frozenset({"req", "name"})
# RFC 9112 §5.2: obs-fold = OWS CRLF RWS, replaced as a whole by one space.
_OBS_FOLD = re.compile(r"[ \t]*\r?\n[ \t]+")


class ComponentError(InvalidSignature):
    """A covered component cannot be resolved on this message."""


Resolver: TypeAlias = Callable[[HttpRequest | HttpResponse], str]
RequestResolver: TypeAlias = Callable[[HttpRequest], str]


@dataclass(frozen=True, slots=True)
class Component:
    """One covered component: a lowercase name plus its ordered parameters.

    ``identifier`` is the serialized component identifier, as in the signature base; a name
    that a structured String cannot carry is refused when the component is built. ``whole``
    is False for a ``;key`` member or a ``;req`` value, which cover only part of a field or
    a field of another message. ``resolve`` (any message) and ``resolve_request`` (a
    request) are picked once here, so building a signature base does no dispatch.
    """

    name: str
    params: Params = ()
    identifier: str = field(init=False, repr=False, compare=False)
    whole: bool = field(init=False, repr=False, compare=False)
    resolve: Resolver = field(init=False, repr=False, compare=False)
    resolve_request: RequestResolver = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            identifier = serialize_string(self.name) + serialize_params(self.params)
        except (ValueError, TypeError) as exc:
            raise ComponentError(f"invalid component {self.name!r}: {exc}") from None
        object.__setattr__(self, "identifier", identifier)
        keys = {key for key, _ in self.params}
        object.__setattr__(self, "whole", "key" not in keys and "req" not in keys)
        object.__setattr__(self, "resolve", _resolver(self))
        object.__setattr__(self, "resolve_request", _request_resolver(self))

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


def _form_encode(text: str) -> str:
    """The application/x-www-form-urlencoded percent-encode set, space as ``%20``."""
    return quote(text, safe="*-._", encoding="utf-8").replace("~", "%7E")


def _form_decode(text: str) -> str:
    """HTML URL §5.1: ``+`` is a space, then percent-decode and UTF-8 decode (lossy)."""
    return unquote_to_bytes(text.replace("+", " ")).decode("utf-8", "replace")


def _query_param(query: str | None, name: BareItem | None) -> str:
    """RFC 9421 §2.2.8: parse as HTML form data, re-encode; a repeated name is refused."""
    if not isinstance(name, str):
        raise ComponentError('"@query-param" requires a string "name" parameter')
    values = []
    for pair in (query or "").split("&"):
        if pair:
            key, _, value = pair.partition("=")
            if _form_encode(_form_decode(key)) == name:
                values.append(_form_encode(_form_decode(value)))
    if not values:
        raise ComponentError(f"query parameter {name!r} is not present")
    if len(values) > 1:
        raise ComponentError(f"query parameter {name!r} occurs more than once; cover @query")
    return values[0]


def _request_target(request: HttpRequest) -> str:
    target = request.target
    return target.path if target.query is None else f"{target.path}?{target.query}"


_REQUEST_DERIVED: dict[str, Callable[[HttpRequest], str]] = {
    "@method": attrgetter("method"),
    "@target-uri": attrgetter("target_uri"),
    "@authority": attrgetter("target.authority"),
    "@scheme": attrgetter("target.scheme"),
    "@request-target": _request_target,
    "@path": attrgetter("target.path"),
    "@query": lambda request: "?" + (request.target.query or ""),
}


def _check_params(component: Component) -> None:
    """Every parameter must be defined for this component, and flags must be true."""
    name = component.name
    if name.startswith("@"):
        allowed = _QUERY_PARAM_PARAMS if name == "@query-param" else _DERIVED_PARAMS
    else:
        allowed = _FIELD_PARAMS
    for key, value in component.params:
        if key not in allowed:
            raise ComponentError(f"parameter {key!r} is not defined for {name!r}")
        if key in _FLAGS and value is not True:
            raise ComponentError(f"parameter {key!r} of {name!r} must be a true boolean")


def _related_request(message: HttpRequest | HttpResponse) -> HttpRequest:
    if not isinstance(message, HttpResponse):
        raise ComponentError(";req is only valid when signing a response")
    if message.request is None:
        raise ComponentError(";req needs the related request")
    return message.request


def _derived_value(component: Component, message: HttpRequest | HttpResponse) -> str:
    name = component.name
    if name == "@status":
        if not isinstance(message, HttpResponse):
            raise ComponentError("@status applies to responses only")
        return f"{message.status:03d}"
    derive = _REQUEST_DERIVED.get(name)
    if derive is None and name != "@query-param":
        raise ComponentError(f"unknown derived component {name!r}")
    if not isinstance(message, HttpRequest):
        raise ComponentError(f"{name} applies to requests; use ;req on a response")
    if derive is None:
        return _query_param(message.target.query, component.param("name"))
    return derive(message)


def _structured_value(component: Component, combined: str) -> str:
    name, key = component.name, component.param("key")
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


def _absent(name: str) -> ComponentError:
    if name != name.lower():
        return ComponentError(f"component name {name!r} must be lowercase")
    return ComponentError(f"field {name!r} is not present")


def _plain_field_value(name: str, message: HttpRequest | HttpResponse) -> str:
    """RFC 9421 §2.1: lines trimmed, obs-fold replaced by a space, joined by ``", "``."""
    lines = message.headers.get_all(name)
    if len(lines) == 1 and "\n" not in lines[0]:
        return lines[0].strip(" \t")
    if not lines:
        raise _absent(name)
    return ", ".join([_OBS_FOLD.sub(" ", line).strip(" \t") for line in lines])


def _field_value(component: Component, fields: Fields) -> str:
    name = component.name
    lines = fields.get_all(name)
    if not lines:
        raise _absent(name)
    cleaned = [_OBS_FOLD.sub(" ", line).strip(" \t") for line in lines]
    if component.param("tr") is not None:
        raise ComponentError("trailer fields (;tr) are not supported")
    if component.param("bs") is not None:
        if component.param("sf") is not None or component.param("key") is not None:
            raise ComponentError(";bs cannot be combined with ;sf or ;key")
        try:
            return ", ".join(
                ":" + base64.b64encode(line.encode("latin-1")).decode("ascii") + ":"
                for line in cleaned
            )
        except UnicodeEncodeError:
            raise ComponentError(f"field {name!r} has characters beyond latin-1") from None
    combined = ", ".join(cleaned)
    if component.param("sf") is None and component.param("key") is None:
        return combined
    return _structured_value(component, combined)


def _any_value(component: Component, message: HttpRequest | HttpResponse) -> str:
    if component.params:
        _check_params(component)
        if component.param("req") is not None:
            message = _related_request(message)
    if component.name.startswith("@"):
        return _derived_value(component, message)
    return _field_value(component, message.headers)


def _resolver(component: Component) -> Resolver:
    """The cheapest correct way to resolve ``component`` on any message."""
    if not component.params and not component.name.startswith("@"):
        return partial(_plain_field_value, component.name)
    return partial(_any_value, component)


def _request_resolver(component: Component) -> RequestResolver:
    """As :func:`_resolver`, for a message known to be a request (no type checks left)."""
    if not component.params:
        derive = _REQUEST_DERIVED.get(component.name)
        if derive is not None:
            return derive
    return component.resolve


def component_value(component: Component, message: HttpRequest | HttpResponse) -> str:
    """The value of ``component`` on ``message``, as it appears in the signature base."""
    return component.resolve(message)
