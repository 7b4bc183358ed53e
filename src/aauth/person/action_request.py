"""The body of a permission or audit request (protocol-10 §F.9), checked before anything is
decided or stored.

Both name an ``action`` (a tool name, REQUIRED), may describe it (untrusted Markdown) and may
carry the ``parameters`` used (and, for audit, the ``result``) as JSON objects; both may bind
to a ``mission`` ``{approver, s256}``, which audit requires (PS-22). The objects are kept as
compact JSON text of bounded size, so a log entry never grows without limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequest, InvalidToken
from ..headers.mission import MissionRef
from ..json_body import parse_json_object
from ..missions import MAX_DESCRIPTION, MAX_NAME, markdown_text

__all__ = ["MAX_OBJECT", "ActionRequest"]

MAX_OBJECT = 8 * 1024
"""The largest ``parameters`` or ``result`` accepted, as compact JSON (characters)."""


def _object(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest(f"'{name}' must be a JSON object")
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_OBJECT:
        raise InvalidRequest(f"'{name}' exceeds {MAX_OBJECT} characters")
    return text


@dataclass(frozen=True)
class ActionRequest:
    """An action the agent asks permission for, or reports having performed.

    ``parameters`` and ``result`` are compact JSON text (objects), None when absent.
    """

    action: str
    description: str | None = None
    parameters: str | None = None
    result: str | None = None
    mission: MissionRef | None = None

    @classmethod
    def parse(
        cls, raw: bytes, *, mission_required: bool, allow_loopback_http: bool = False
    ) -> ActionRequest:
        """The members of a JSON request body; InvalidRequest for anything missing or
        malformed (PS-22: audit needs ``mission`` and ``action``)."""
        body = parse_json_object(raw, what="the request body")
        if body.get("action") is None:
            raise InvalidRequest("'action' is required (the tool or action name)")
        action = markdown_text(body["action"], "action", MAX_NAME)
        description = body.get("description")
        if description is not None:
            description = markdown_text(description, "description", MAX_DESCRIPTION)
        mission = None
        if body.get("mission") is not None:
            try:
                mission = MissionRef.from_claim(
                    body["mission"], allow_loopback_http=allow_loopback_http
                )
            except InvalidToken:
                raise InvalidRequest('\'mission\' must be {"approver": …, "s256": …}') from None
        elif mission_required:
            raise InvalidRequest("'mission' is required: there is no audit outside a mission")
        return cls(
            action=action,
            description=description,
            parameters=_object(body, "parameters"),
            result=_object(body, "result"),
            mission=mission,
        )

    @property
    def summary(self) -> str:
        """One line for a log: the action and the first line of its description."""
        if not self.description:
            return self.action
        first = self.description.strip().splitlines()[0][:200]
        return f"{self.action}: {first}"

    def to_json(self) -> dict[str, Any]:
        """For storage (a pending permission request survives a restart)."""
        return {
            "action": self.action,
            "description": self.description,
            "parameters": self.parameters,
            "result": self.result,
            "mission": None if self.mission is None else self.mission.to_claim(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActionRequest:
        """A request this server stored with :meth:`to_json`."""
        mission = data.get("mission")
        return cls(
            action=str(data["action"]),
            description=data.get("description"),
            parameters=data.get("parameters"),
            result=data.get("result"),
            mission=None if mission is None else MissionRef(mission["approver"], mission["s256"]),
        )
