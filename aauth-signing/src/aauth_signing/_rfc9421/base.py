"""Signature parameters and the signature base (RFC 9421 §2.3, §2.5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

from .._structured import BareItem, Params, serialize_params
from ..errors import InvalidSignature
from ..message import HttpRequest, HttpResponse
from .components import Component, ComponentError, RequestResolver

__all__ = ["SignatureParams", "signature_base"]

_PARAM_TYPES: dict[str, type] = {
    "created": int,
    "expires": int,
    "nonce": str,
    "alg": str,
    "keyid": str,
    "tag": str,
}


def _check_param_types(params: Params) -> None:
    for key, value in params:
        expected = _PARAM_TYPES.get(key)
        if expected is not None and type(value) is not expected:
            raise InvalidSignature(f"signature parameter {key!r} must be {expected.__name__}")


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """One ``Signature-Input`` member: covered components plus ordered parameters.

    The order of both is kept exactly, because ``@signature-params`` is their canonical
    re-serialization and any reordering changes the signature base. The registered
    parameters (``created``, ``expires``, ``keyid``, ``tag``, ``nonce``) are attributes,
    None when absent.
    """

    components: tuple[Component, ...]
    params: Params = ()
    names: frozenset[str] = field(init=False, repr=False, compare=False)
    """Names of the covered components (parameters dropped)."""
    whole: frozenset[str] = field(init=False, repr=False, compare=False)
    """Names of the components covered in full (see :attr:`Component.whole`)."""
    created: int | None = field(init=False, repr=False, compare=False)
    expires: int | None = field(init=False, repr=False, compare=False)
    keyid: str | None = field(init=False, repr=False, compare=False)
    tag: str | None = field(init=False, repr=False, compare=False)
    nonce: str | None = field(init=False, repr=False, compare=False)
    _values: dict[str, BareItem] = field(init=False, repr=False, compare=False)
    _template: str = field(init=False, repr=False, compare=False)
    _request_resolvers: tuple[RequestResolver, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        components = self.components
        names = frozenset([c.name for c in components])
        if "@signature-params" in names:
            raise InvalidSignature("@signature-params cannot be a covered component")
        if len(names) != len(components):
            seen: set[tuple[str, Params]] = set()
            for component in components:
                identity = component.canonical_key
                if identity in seen:
                    raise InvalidSignature(f"component {component.identifier} is listed twice")
                seen.add(identity)
        _check_param_types(self.params)
        values = dict(self.params)
        object.__setattr__(self, "_values", values)
        for name in ("created", "expires", "keyid", "tag", "nonce"):
            object.__setattr__(self, name, values.get(name))
        object.__setattr__(self, "names", names)
        whole = [c.name for c in components if c.whole]
        all_whole = len(whole) == len(components)
        object.__setattr__(self, "whole", names if all_whole else frozenset(whole))
        # The signature base with %s for each value, so building it is one formatting call.
        lines = [c.identifier.replace("%", "%%") + ": %s\n" for c in components]
        object.__setattr__(self, "_template", "".join(lines) + '"@signature-params": %s')
        object.__setattr__(self, "_request_resolvers", tuple(c.resolve_request for c in components))

    def get(self, key: str) -> BareItem | None:
        return self._values.get(key)

    def serialize(self) -> str:
        """Canonical inner list: the value of ``@signature-params`` and of the member."""
        inner = " ".join(c.identifier for c in self.components)
        return f"({inner}){serialize_params(self.params)}"


def _refuse_line_break(params: SignatureParams, values: list[str]) -> NoReturn:
    for component, value in zip(params.components, values, strict=False):
        if "\n" in value or "\r" in value:
            raise ComponentError(f"component {component.identifier} contains a line break")
    raise AssertionError("no value has a line break")  # pragma: no cover


def signature_base(
    message: HttpRequest | HttpResponse,
    params: SignatureParams,
    serialized_params: str | None = None,
) -> bytes:
    """The exact bytes that are signed.

    ``serialized_params`` may pass a known-canonical serialization of ``params`` to skip
    re-serializing it; it must equal ``params.serialize()``.
    """
    values = []
    if isinstance(message, HttpRequest):
        for resolve in params._request_resolvers:  # a plain loop: cheapest on the hot path
            values.append(resolve(message))
    else:
        for component in params.components:
            values.append(component.resolve(message))
    for value in values:
        if "\n" in value or "\r" in value:  # one memchr each: cheaper than counting lines
            _refuse_line_break(params, values)
    values.append(serialized_params or params.serialize())
    base = params._template % tuple(values)
    try:
        return base.encode("ascii")
    except UnicodeEncodeError:
        raise ComponentError("the signature base contains non-ASCII characters") from None
