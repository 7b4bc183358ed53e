"""The HTML of the mission pages: a proposal to review (with the consent page's questions to
the agent), the person's missions, one mission with its log. Agent text (descriptions,
summaries, justifications, tool names, answers) is untrusted Markdown shown as escaped text
(V-42); forms carry the session's CSRF token."""

from __future__ import annotations

from html import escape
from typing import Any

from ..missions import iso8601
from ..person.mission_review import ProposalView
from ..person.missions import ACTIVE, Mission
from .pages import ANSWER_REFRESH, SignedIn, _page, _text, conversation_box

__all__ = ["mission_list_page", "mission_page", "proposal_page"]


def _hidden(csrf: str, **extra: str) -> str:
    fields = {"csrf": csrf, **extra}
    return "".join(
        f"<input type=hidden name={escape(k)} value='{escape(v)}'>" for k, v in fields.items()
    )


def _resources(resources: Any, *, checkboxes: bool = False) -> str:
    if not resources:
        return "<p>No resources named.</p>"
    rows = []
    for resource, scopes in resources.items():
        scope_text = " ".join(f"<code>{escape(s)}</code>" for s in scopes) or "(no scopes)"
        box = (
            f"<input type=checkbox name=resource value='{escape(resource)}' checked> "
            if checkboxes
            else ""
        )
        rows.append(f"<li><label>{box}<code>{escape(resource)}</code>: {scope_text}</label></li>")
    return f"<ul class=resources>{''.join(rows)}</ul>"


def proposal_page(view: ProposalView, action: str, csrf: str, person_name: str) -> str:
    """Approve (after editing the description or dropping resources) or deny a proposal, or
    ask the agent about it first."""
    proposal = view.proposal
    tools = "".join(
        f"<li><code>{escape(t.name)}</code>{_text(t.description)}</li>" for t in proposal.tools
    )
    deadline = (
        f"<p>Ends on its own at <time>{iso8601(proposal.expires_at)}</time>.</p>"
        if proposal.expires_at is not None
        else ""
    )
    return _page(
        "Approve mission?",
        f"<h1>An agent proposes a mission</h1><p>Code <code id=code>{escape(view.code)}</code> "
        "— check it matches what your agent shows.</p><div class=box><p>Agent: <code>"
        f"{escape(view.agent)}</code></p><p><strong>What it proposes to do</strong></p>"
        f"<div id=proposed>{_text(proposal.description)}</div>{deadline}"
        f"{f'<p>Tools:</p><ul>{tools}</ul>' if tools else ''}</div>"
        f"<form method=post action='{escape(action)}'>{_hidden(csrf, code=view.code)}"
        "<label>Approved description (you may edit it)<br><textarea name=description id="
        f"description rows=6 cols=60>{escape(proposal.description)}</textarea></label>"
        f"<p>Resources and scopes the mission may use without asking again:</p>"
        f"{_resources(proposal.resources, checkboxes=True)}"
        "<button type=submit name=decision value=approve id=approve>Approve</button>"
        "<button type=submit name=decision value=deny id=deny>Deny</button></form>"
        f"{conversation_box(view, action, csrf, person_name)}",
        refresh=ANSWER_REFRESH if view.awaiting_answer else None,
        signed_in=(person_name, csrf),
    )


def _state(mission: Mission) -> str:
    if mission.state == ACTIVE:
        return "active"
    return f"terminated ({escape(mission.reason or 'unknown')})"


def mission_list_page(missions: list[Mission], signed_in: SignedIn) -> str:
    rows = "".join(
        f"<li><a href='/missions/{escape(m.s256)}'>"
        f"{escape(m.description.strip().splitlines()[0][:80])}</a> — "
        f"<code>{escape(m.agent)}</code> — <span class=state>{_state(m)}</span></li>"
        for m in missions
    )
    return _page(
        "Your missions",
        f"<h1>Missions of {escape(signed_in[0])}</h1>"
        + (f"<ul id=missions>{rows}</ul>" if rows else "<p id=missions>No missions yet.</p>"),
        signed_in=signed_in,
    )


def _entry(entry: dict[str, Any]) -> str:
    details = " ".join(
        f"{escape(k)}=<code>{escape(str(v))}</code>"
        for k, v in entry.items()
        if k not in ("at", "event") and v is not None
    )
    moment, event = iso8601(entry["at"]), escape(entry["event"])
    return f"<li><time>{moment}</time> <strong>{event}</strong> {details}</li>"


def mission_page(mission: Mission, log: list[dict[str, Any]], signed_in: SignedIn) -> str:
    """A mission: state, approved description and resources, open completion, the log."""
    csrf = signed_in[1]
    action = f"/missions/{escape(mission.s256)}"
    buttons = ""
    if mission.state == ACTIVE and mission.completion is not None:
        buttons += (
            f"<div class=box id=completion><strong>The agent reports the mission done</strong>"
            f"{_text(mission.summary or '')}<form method=post action='{action}'>"
            f"{_hidden(csrf)}<button type=submit name=action value=accept id=accept>"
            "Accept: end the mission</button><button type=submit name=action value=decline "
            "id=decline>Not yet</button></form></div>"
        )
    if mission.state == ACTIVE:
        buttons += (
            f"<form method=post action='{action}'>{_hidden(csrf)}<button type=submit "
            "name=action value=revoke id=revoke>Revoke this mission</button></form>"
        )
    entries = "".join(_entry(e) for e in log)
    return _page(
        "Mission",
        f"<h1>Mission</h1><p>State: <strong id=state>{_state(mission)}</strong></p>"
        f"<div class=box><p>Agent: <code>{escape(mission.agent)}</code></p>"
        f"<p>Approved at <time>{iso8601(mission.approved_at)}</time>; "
        f"<code>s256={escape(mission.s256)}</code></p>{_text(mission.description)}"
        f"{_resources(mission.resources)}</div>{buttons}"
        f"<h2>Log</h2><ol id=log>{entries}</ol><p><a href='/missions'>All missions</a></p>",
        signed_in=signed_in,
    )
