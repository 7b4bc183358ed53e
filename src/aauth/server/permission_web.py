"""The person server's permission page (§F.9): grant or deny an action an agent asks about.

The agent's code leads here from the code page (``/permissions/{id}?code=…``); the page shows
the agent, the action, its description and parameters (untrusted, escaped, V-42) and the
mission it falls under. Deciding is a POST with the session's CSRF token (PS-27) by the person
the agent is bound to (PS-28); a denial may carry the person's reason, which the agent gets.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import InvalidRequest
from ..person import PersonService
from ..person.permission import PermissionView
from .mission_web import code_page, decision_form
from .pages import _page, _text
from .person_web import PersonWeb, _message, _pages

__all__ = ["PermissionWeb", "permission_page"]


def permission_page(view: PermissionView, action: str, csrf: str, person_name: str) -> str:
    """Grant or deny one action; deny may say why."""
    asked = view.action
    mission = (
        f"<p>Under the mission:</p>{_text(view.mission.description)}"
        if view.mission is not None
        else "<p>Outside any mission.</p>"
    )
    parameters = (
        f"<p>With parameters:</p><pre id=parameters>{escape(asked.parameters)}</pre>"
        if asked.parameters
        else ""
    )
    return _page(
        "Allow this action?",
        f"<h1>An agent asks to act</h1><p>Code <code id=code>{escape(view.code)}</code> — check "
        f"it matches what your agent shows.</p><div class=box>"
        f"<p>Agent: <code>{escape(view.agent)}</code></p>"
        f"<p>Action: <code id=action>{escape(asked.action)}</code></p>"
        f"{_text(asked.description or '')}{parameters}{mission}</div>"
        f"<form method=post action='{escape(action)}'>"
        f"<input type=hidden name=csrf value='{escape(csrf)}'>"
        f"<input type=hidden name=code value='{escape(view.code)}'>"
        "<label>Reason, if you deny (the agent is told)<br><textarea name=reason id=reason "
        "rows=3 cols=60></textarea></label>"
        "<button type=submit name=decision value=approve id=approve>Allow</button>"
        "<button type=submit name=decision value=deny id=deny>Deny</button></form>",
        signed_in=(person_name, csrf),
    )


class PermissionWeb:
    """Permission routes on top of the person pages' sessions."""

    def __init__(self, web: PersonWeb) -> None:
        self.web = web
        self.service: PersonService = web.service

    def routes(self) -> list[Route]:
        return [
            Route("/permissions/{interaction_id}", _pages(self.review), methods=["GET"]),
            Route(
                "/permissions/{interaction_id}",
                _pages(self.web._same_site(self.decide)),
                methods=["POST"],
            ),
        ]

    async def review(self, request: Request) -> Response:
        """GET: the permission request the code names."""
        review = self.service.permission_endpoint.review
        return code_page(self.web, request, review, "/permissions", permission_page)

    async def decide(self, request: Request) -> Response:
        """POST: allow, or deny with an optional reason."""
        person, pairs = await decision_form(self.web, request)
        form = dict(pairs)
        decision = form.get("decision")
        if decision not in ("approve", "deny"):
            raise InvalidRequest("choose allow or deny")
        answer = self.service.permission_endpoint.decide(
            request.path_params["interaction_id"],
            form.get("code", ""),
            person,
            grant=decision == "approve",
            reason=form.get("reason"),
        )
        if answer["permission"] == "granted":
            return _message(request, "Action allowed", "You can return to your agent.", 200)
        return _message(
            request, "Action denied", "The agent has been told and must not do it.", 200
        )
