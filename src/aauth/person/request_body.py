"""The body of a token request (protocol-10 §F.3), checked before anything is verified or stored.

Every member an agent sends is untrusted: display text is capped and may not carry control
characters (it is escaped again when shown, V-42), ``platform`` and ``prompt`` must use their
registry values, ``device`` is at most 64 printable characters (§H.6). Unknown members are
ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequest
from ..json_body import parse_json_object

__all__ = ["PLATFORMS", "PROMPTS", "TokenRequestBody", "capabilities_member"]

PLATFORMS = frozenset({"web", "mobile", "desktop", "workload", "self-hosted"})
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_JUSTIFICATION = 4000
MAX_HINT = 256
MAX_DEVICE = 64
MAX_CAPABILITIES = 32


def _text(body: dict[str, Any], name: str, limit: int, *, multiline: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidRequest(f"'{name}' must be a non-empty string of at most {limit} characters")
    allowed = "\n\r\t" if multiline else ""
    if any(not (ch.isprintable() or ch in allowed) for ch in value):
        raise InvalidRequest(f"'{name}' must not contain control characters")
    return value


def _prompt(body: dict[str, Any]) -> frozenset[str]:
    value = _text(body, "prompt", MAX_HINT)
    if value is None:
        return frozenset()
    values = value.split(" ")
    if not set(values) <= PROMPTS or len(set(values)) != len(values):
        raise InvalidRequest(f"'prompt' must list distinct values from {sorted(PROMPTS)}")
    if "none" in values and len(values) > 1:
        raise InvalidRequest("'prompt' value 'none' cannot be combined with others")
    return frozenset(values)


def capabilities_member(body: dict[str, Any]) -> frozenset[str]:
    """The ``capabilities`` body parameter of a PS endpoint (§E.4); unknown names kept."""
    value = body.get("capabilities")
    if value is None:
        return frozenset()
    if (
        not isinstance(value, list)
        or len(value) > MAX_CAPABILITIES
        or not all(isinstance(item, str) and 0 < len(item) <= MAX_HINT for item in value)
    ):
        raise InvalidRequest("'capabilities' must be an array of capability names")
    return frozenset(value)


@dataclass(frozen=True)
class TokenRequestBody:
    """A token request's members, checked; ``capabilities`` keeps unknown values (ignored).

    The OIDC hints (``login_hint``, ``tenant``, ``domain_hint``) are checked but not used:
    each session here is one person of one tenant.
    """

    resource_token: str
    justification: str | None = None
    prompt: frozenset[str] = frozenset()
    platform: str | None = None
    device: str | None = None
    capabilities: frozenset[str] = frozenset()
    upstream_token: str | None = None
    subagent_token: str | None = None

    @classmethod
    def parse(cls, raw: bytes) -> TokenRequestBody:
        """The members of a JSON token request body; InvalidRequest for anything malformed."""
        body = parse_json_object(raw, what="the token request body")
        token = body.get("resource_token")
        if not isinstance(token, str) or not token:
            raise InvalidRequest("'resource_token' is required")
        upstream = body.get("upstream_token")
        if upstream is not None and (not isinstance(upstream, str) or not upstream):
            raise InvalidRequest("'upstream_token' must be a non-empty string")
        for hint in ("login_hint", "tenant", "domain_hint"):
            _text(body, hint, MAX_HINT)
        subagent = body.get("subagent_token")
        if subagent is not None and (not isinstance(subagent, str) or not subagent):
            raise InvalidRequest("'subagent_token' must be an agent token (a string)")
        platform = _text(body, "platform", MAX_HINT)
        if platform is not None and platform not in PLATFORMS:
            raise InvalidRequest(f"'platform' must be one of {sorted(PLATFORMS)}")
        return cls(
            resource_token=token,
            justification=_text(body, "justification", MAX_JUSTIFICATION, multiline=True),
            prompt=_prompt(body),
            platform=platform,
            device=_text(body, "device", MAX_DEVICE),
            capabilities=capabilities_member(body),
            upstream_token=upstream,
            subagent_token=subagent,
        )
