"""``AAuth-Mission`` (protocol-10 §E.2; removed in -11): which mission a request belongs to.

``approver="https://ps.example";s256="…"`` is an SF Dictionary whose ``approver`` member
carries ``s256`` as a parameter. The same pair is the ``mission`` claim of resource and auth
tokens, so :class:`MissionRef` serves both. For compatibility the parser also reads ``s256``
as a separate member and the pre-PS ``manager=`` key; the builder emits only the canonical form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aauth_signing._structured import serialize_string

from ..errors import InvalidToken
from ..identifiers import is_server_identifier
from ._common import HeaderError, dictionary, member, string_param

__all__ = ["MISSION_HEADER", "MissionRef", "build_mission", "parse_mission"]

MISSION_HEADER = "AAuth-Mission"

_S256 = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class MissionRef:
    """A mission's PS (``approver``) and the unpadded base64url SHA-256 of its blob (``s256``).

    Both are copied verbatim, never recomputed or normalised (AG-29, RS-08).
    """

    approver: str
    s256: str

    def to_claim(self) -> dict[str, str]:
        """The ``mission`` claim a resource puts in its resource token."""
        return {"approver": self.approver, "s256": self.s256}

    @classmethod
    def from_claim(cls, claim: object, *, allow_loopback_http: bool = False) -> MissionRef:
        """Read a token's ``mission`` claim; InvalidToken when it is not a valid pair."""
        ref = None
        if isinstance(claim, dict):
            ref = _checked(claim.get("approver"), claim.get("s256"), allow_loopback_http)
        if ref is None:
            raise InvalidToken("the mission claim needs a server-identifier approver and an s256")
        return ref


def _checked(approver: object, s256: object, allow_loopback_http: bool) -> MissionRef | None:
    """The pair as a MissionRef when the approver is a server identifier and s256 has 43
    base64url characters (protocol-10 §E.2), else None."""
    if (
        isinstance(approver, str)
        and isinstance(s256, str)
        and _S256.fullmatch(s256) is not None
        and is_server_identifier(approver, allow_loopback_http=allow_loopback_http)
    ):
        return MissionRef(approver, s256)
    return None


def _s256_member(members: dict[str, Any], from_param: str | None) -> str | None:
    """Compat: ``s256`` as its own member; it must agree with the parameter when both exist."""
    if "s256" not in members:
        return from_param
    value = member(members["s256"])[0]
    if not isinstance(value, str) or (from_param is not None and from_param != value):
        raise HeaderError("AAuth-Mission has a conflicting or non-string s256")
    return value


def parse_mission(text: str, *, allow_loopback_http: bool = False) -> MissionRef:
    """Parse ``AAuth-Mission``; HeaderError unless it names a server identifier and a
    43-character s256.

    >>> parse_mission('approver="https://ps.example"; s256="' + "A" * 43 + '"').approver
    'https://ps.example'
    """
    members = dictionary(text, MISSION_HEADER)
    entry = members.get("approver", members.get("manager"))
    if entry is None:
        raise HeaderError("AAuth-Mission has no approver")
    approver, params = member(entry)
    s256 = _s256_member(members, string_param(params, "s256", MISSION_HEADER))
    ref = _checked(approver, s256, allow_loopback_http)
    if ref is None:
        raise HeaderError("AAuth-Mission needs a server-identifier approver and a 43-char s256")
    return ref


def build_mission(mission: MissionRef, *, allow_loopback_http: bool = False) -> str:
    """The canonical value ``approver="…";s256="…"``; ValueError for an invalid pair."""
    if _checked(mission.approver, mission.s256, allow_loopback_http) is None:
        raise ValueError("a mission needs a server-identifier approver and a 43-char s256")
    return f"approver={serialize_string(mission.approver)};s256={serialize_string(mission.s256)}"
