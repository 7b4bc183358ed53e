"""Mission documents (protocol-10 §F.8, §E.2): the proposal an agent sends, the blob a person
server approves, and the digest that names it everywhere.

The approved mission is a JSON object, the **mission blob**. Its ``s256`` is the unpadded
base64url SHA-256 of the exact bytes the PS sent (PS-20); the agent keeps those bytes as
received and never re-serialises them (AG-30, §H.6). Both sides use this module: the PS to
build the blob, the agent to check the approval it received.

Beyond -10 (``description``, ``tools``) a proposal here may name the ``resources`` it expects
to need, each with its scopes, and an ``expires_at`` deadline (ISO 8601, the -11 name). An
approval records them in the blob as ``approved_resources`` (resource identifiers, the -11
shape), ``approved_scopes`` (resource → scopes) and ``expires_at``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aauth_signing import b64url_encode

from .errors import InvalidRequest, InvalidToken, ServerError
from .headers.mission import MissionRef
from .identifiers import is_server_identifier
from .json_body import parse_json_object

__all__ = [
    "ApprovedMission",
    "MissionProposal",
    "Tool",
    "build_blob",
    "iso8601",
    "markdown_text",
    "mission_s256",
    "parse_approval",
]

MAX_DESCRIPTION = 8000
MAX_TOOLS = 32
MAX_RESOURCES = 16
MAX_SCOPES = 32
MAX_NAME = 200
MAX_SCOPE_TOKEN = 128
MAX_BLOB = 64 * 1024


def mission_s256(blob: bytes) -> str:
    """The mission identifier: unpadded base64url SHA-256 of the blob's exact bytes."""
    return b64url_encode(hashlib.sha256(blob).digest())


def iso8601(seconds: float) -> str:
    """``2026-09-01T10:00:00Z`` for a Unix time (whole seconds, UTC)."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: object, name: str) -> float:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidRequest(f"'{name}' must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"'{name}' must be an ISO 8601 date-time string") from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"'{name}' must carry a time zone (e.g. 'Z')")
    return moment.timestamp()


def markdown_text(value: object, name: str, limit: int = MAX_DESCRIPTION) -> str:
    """Untrusted Markdown (§H.6): a non-empty string of at most ``limit`` characters with no
    control characters but line breaks and tabs; InvalidRequest naming ``name`` otherwise."""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidRequest(f"'{name}' must be a non-empty string of at most {limit} characters")
    if any(not (ch.isprintable() or ch in "\n\r\t") for ch in value):
        raise InvalidRequest(f"'{name}' must not contain control characters")
    return value


@dataclass(frozen=True)
class Tool:
    """A tool the agent means to use (``{"name", "description"}``)."""

    name: str
    description: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "description": self.description}


def _tools(value: object) -> tuple[Tool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_TOOLS:
        raise InvalidRequest(f"'tools' must be an array of at most {MAX_TOOLS} tools")
    tools = []
    for item in value:
        if not isinstance(item, dict):
            raise InvalidRequest("each tool must be an object with 'name' and 'description'")
        name = markdown_text(item.get("name"), "tools[].name", MAX_NAME)
        description = markdown_text(item.get("description"), "tools[].description", 1000)
        tools.append(Tool(name, description))
    return tuple(tools)


def _scopes(value: object) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or len(value) > MAX_SCOPES
        or not all(
            isinstance(s, str)
            and 0 < len(s) <= MAX_SCOPE_TOKEN
            and s.isascii()
            and s.isprintable()
            and " " not in s
            and '"' not in s
            and "\\" not in s
            for s in value
        )
    ):
        raise InvalidRequest("'resources[].scopes' must be an array of scope tokens")
    return tuple(dict.fromkeys(value))


def _resources(value: object, loopback: bool) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) > MAX_RESOURCES:
        raise InvalidRequest(f"'resources' must be an array of at most {MAX_RESOURCES} entries")
    resources: dict[str, tuple[str, ...]] = {}
    for item in value:
        if not isinstance(item, dict):
            raise InvalidRequest("each resource must be {'resource': <id>, 'scopes': [...]}")
        resource = item.get("resource")
        if not isinstance(resource, str) or not is_server_identifier(
            resource, allow_loopback_http=loopback
        ):
            raise InvalidRequest("'resources[].resource' must be a resource identifier")
        if resource in resources:
            raise InvalidRequest(f"resource {resource!r} is named twice")
        resources[resource] = _scopes(item.get("scopes"))
    return resources


@dataclass(frozen=True)
class MissionProposal:
    """What an agent asks to do (§F.8 proposal), checked; every text is untrusted Markdown.

    ``resources`` maps each resource identifier to the scopes the agent expects to need there;
    ``expires_at`` (Unix time) is when the mission should end on its own.
    """

    description: str
    tools: tuple[Tool, ...] = ()
    resources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    expires_at: float | None = None

    @classmethod
    def parse(cls, raw: bytes, *, now: float, allow_loopback_http: bool = False) -> MissionProposal:
        """The proposal in a request body; InvalidRequest for anything malformed."""
        try:
            body = parse_json_object(raw, what="the mission proposal")
        except InvalidRequest as exc:
            raise InvalidRequest(f"the mission proposal must be a JSON object: {exc}") from None
        expires_at = None
        if body.get("expires_at") is not None:
            expires_at = _parse_time(body["expires_at"], "expires_at")
            if expires_at <= now:
                raise InvalidRequest("'expires_at' is in the past")
        return cls(
            description=markdown_text(body.get("description"), "description", MAX_DESCRIPTION),
            tools=_tools(body.get("tools")),
            resources=_resources(body.get("resources"), allow_loopback_http),
            expires_at=expires_at,
        )

    def body(self, capabilities: Sequence[str] = ()) -> bytes:
        """The request body that proposes this mission, declaring the agent's
        ``capabilities`` (§E.4: the body parameter on PS endpoints)."""
        document: dict[str, Any] = {"description": self.description}
        if self.tools:
            document["tools"] = [tool.to_json() for tool in self.tools]
        if self.resources:
            document["resources"] = [
                {"resource": r, "scopes": list(s)} for r, s in self.resources.items()
            ]
        if self.expires_at is not None:
            document["expires_at"] = iso8601(self.expires_at)
        if capabilities:
            document["capabilities"] = list(capabilities)
        return json.dumps(document, separators=(",", ":")).encode("utf-8")

    def to_json(self) -> dict[str, Any]:
        """For storage (a pending proposal survives a restart)."""
        return {
            "description": self.description,
            "tools": [tool.to_json() for tool in self.tools],
            "resources": {r: list(s) for r, s in self.resources.items()},
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MissionProposal:
        """A proposal this server stored with :meth:`to_json`."""
        return cls(
            description=str(data["description"]),
            tools=tuple(Tool(t["name"], t["description"]) for t in data["tools"]),
            resources={r: tuple(s) for r, s in data["resources"].items()},
            expires_at=data["expires_at"],
        )


def build_blob(approver: str, agent: str, approved_at: float, proposal: MissionProposal) -> bytes:
    """The mission blob's bytes (PS-19): compact JSON, UTF-8, members in a fixed order."""
    blob: dict[str, Any] = {
        "approver": approver,
        "agent": agent,
        "approved_at": iso8601(approved_at),
    }
    if proposal.expires_at is not None:
        blob["expires_at"] = iso8601(proposal.expires_at)
    blob["description"] = proposal.description
    if proposal.tools:
        blob["approved_tools"] = [tool.to_json() for tool in proposal.tools]
    if proposal.resources:
        blob["approved_resources"] = list(proposal.resources)
        blob["approved_scopes"] = {r: list(s) for r, s in proposal.resources.items()}
    return json.dumps(blob, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class ApprovedMission:
    """An approval as the agent keeps it: the reference it sends (``AAuth-Mission``) and
    the blob bytes exactly as received (AG-29, AG-30)."""

    ref: MissionRef
    blob: bytes

    @property
    def document(self) -> dict[str, Any]:
        """The blob parsed (for reading only; never re-serialise it)."""
        parsed: dict[str, Any] = json.loads(self.blob)
        return parsed

    def to_json(self) -> dict[str, str]:
        """A file form: the reference plus the blob as text (its bytes are UTF-8 JSON)."""
        return {"approver": self.ref.approver, "s256": self.ref.s256, "blob": self.blob.decode()}

    @classmethod
    def from_json(cls, data: Any, *, allow_loopback_http: bool = False) -> ApprovedMission:
        """Read :meth:`to_json` back, checking the digest again; InvalidRequest if unusable."""
        if not isinstance(data, dict) or not isinstance(data.get("blob"), str):
            raise InvalidRequest("a mission file needs 'approver', 's256' and 'blob'")
        try:
            ref = MissionRef.from_claim(data, allow_loopback_http=allow_loopback_http)
        except InvalidToken as exc:
            raise InvalidRequest(f"mission file: {exc.description}") from None
        blob = data["blob"].encode("utf-8")
        if mission_s256(blob) != ref.s256:
            raise InvalidRequest("mission file: the blob does not match its s256")
        return cls(ref, blob)


def parse_approval(ref: MissionRef, blob: bytes, *, agent: str, approver: str) -> ApprovedMission:
    """Check a mission approval (PS-19, PS-20 from the agent's side).

    ``ref`` is the ``AAuth-Mission`` response header, ``blob`` the response body bytes. The
    digest must match those exact bytes, the header's ``approver`` must be the PS asked, and
    the blob must name that PS and this agent. ServerError (a failed approval) otherwise.
    """
    if len(blob) > MAX_BLOB:
        raise ServerError("the mission blob is too large")
    if mission_s256(blob) != ref.s256:
        raise ServerError("the AAuth-Mission s256 does not match the approved mission bytes")
    if ref.approver != approver:
        raise ServerError(f"the mission was approved by {ref.approver!r}, not {approver!r}")
    try:
        document = json.loads(blob)
    except (ValueError, RecursionError):
        raise ServerError("the mission blob is not JSON") from None
    if not isinstance(document, dict):
        raise ServerError("the mission blob is not a JSON object")
    if document.get("approver") != approver or document.get("agent") != agent:
        raise ServerError("the mission blob names another approver or agent")
    if not isinstance(document.get("description"), str) or not isinstance(
        document.get("approved_at"), str
    ):
        raise ServerError("the mission blob lacks 'description' or 'approved_at'")
    return ApprovedMission(ref, blob)
