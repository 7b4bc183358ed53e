"""``AAuth-Capabilities`` (protocol-10 §E.4): what an agent can do while a request is pending.

An SF List of Tokens on requests to resources. Unknown values and all parameters are ignored,
and an absent header means no capability at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeAlias

from ._common import serialize_tokens, tokens

__all__ = [
    "CAPABILITIES",
    "CAPABILITIES_HEADER",
    "Capability",
    "build_capabilities",
    "parse_capabilities",
]

CAPABILITIES_HEADER = "AAuth-Capabilities"

Capability: TypeAlias = Literal["interaction", "clarification", "payment"]
CAPABILITIES: tuple[Capability, ...] = ("interaction", "clarification", "payment")
_BY_NAME: dict[str, Capability] = {c: c for c in CAPABILITIES}


def build_capabilities(capabilities: Iterable[Capability]) -> str:
    """``interaction, clarification``: the values in order, once each.

    ValueError for an unregistered value or an empty list (omit the header instead).
    """
    values = list(dict.fromkeys(capabilities))
    unknown = [v for v in values if v not in _BY_NAME]
    if unknown:
        raise ValueError(f"unknown AAuth capabilities {unknown}")
    return serialize_tokens(values, CAPABILITIES_HEADER)


def parse_capabilities(value: str | None) -> frozenset[Capability]:
    """The known capabilities in the header; ``None`` (header absent) means none."""
    if value is None:
        return frozenset()
    return frozenset(_BY_NAME[t] for t in tokens(value, CAPABILITIES_HEADER) if t in _BY_NAME)
