"""Signature parameters and the signature base (RFC 9421 §2.3, §2.5)."""

from __future__ import annotations

from dataclasses import dataclass

from .._structured import BareItem, Params, serialize_params
from ..errors import InvalidSignature
from ..message import HttpRequest, HttpResponse
from .components import Component, ComponentError, component_value

__all__ = ["SignatureParams", "signature_base"]

_PARAM_TYPES: dict[str, type] = {
    "created": int,
    "expires": int,
    "nonce": str,
    "alg": str,
    "keyid": str,
    "tag": str,
}


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """One ``Signature-Input`` member: covered components plus ordered parameters.

    The order of both is kept exactly, because ``@signature-params`` is their canonical
    re-serialization and any reordering changes the signature base.
    """

    components: tuple[Component, ...]
    params: Params = ()

    def __post_init__(self) -> None:
        seen: set[tuple[str, Params]] = set()
        for component in self.components:
            if component.name == "@signature-params":
                raise InvalidSignature("@signature-params cannot be a covered component")
            identity = component.canonical_key
            if identity in seen:
                raise InvalidSignature(f"component {component.identifier} is listed twice")
            seen.add(identity)
        for key, value in self.params:
            expected = _PARAM_TYPES.get(key)
            if expected is not None and (
                not isinstance(value, expected) or isinstance(value, bool)
            ):
                raise InvalidSignature(f"signature parameter {key!r} must be {expected.__name__}")

    def get(self, key: str) -> BareItem | None:
        for name, value in self.params:
            if name == key:
                return value
        return None

    @property
    def created(self) -> int | None:
        value = self.get("created")
        return value if isinstance(value, int) else None

    @property
    def expires(self) -> int | None:
        value = self.get("expires")
        return value if isinstance(value, int) else None

    @property
    def keyid(self) -> str | None:
        value = self.get("keyid")
        return value if isinstance(value, str) else None

    @property
    def tag(self) -> str | None:
        value = self.get("tag")
        return value if isinstance(value, str) else None

    @property
    def nonce(self) -> str | None:
        value = self.get("nonce")
        return value if isinstance(value, str) else None

    @property
    def names(self) -> frozenset[str]:
        """Names of the covered components (parameters dropped)."""
        return frozenset(c.name for c in self.components)

    def serialize(self) -> str:
        """Canonical inner list: the value of ``@signature-params`` and of the member."""
        inner = " ".join(c.identifier for c in self.components)
        return f"({inner}){serialize_params(self.params)}"


def signature_base(
    message: HttpRequest | HttpResponse,
    params: SignatureParams,
    serialized_params: str | None = None,
) -> bytes:
    """The exact bytes that are signed.

    ``serialized_params`` may pass a known-canonical serialization of ``params`` to skip
    re-serializing it; it must equal ``params.serialize()``.
    """
    lines = []
    for component in params.components:
        value = component_value(component, message)
        if "\n" in value or "\r" in value:
            raise ComponentError(f"component {component.identifier} contains a line break")
        lines.append(f"{component.identifier}: {value}")
    lines.append(f'"@signature-params": {serialized_params or params.serialize()}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        raise ComponentError("the signature base contains non-ASCII characters") from None
