"""The HTML a person sees: login, code entry, consent, outcome.

Everything an agent or resource supplied (names, justification, scope descriptions) is
untrusted Markdown; it is shown as escaped text with its line breaks kept, never as HTML
(V-42). Pages carry a strict Content-Security-Policy and no scripts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from html import escape
from typing import Protocol

from ..person.audit import AuditEntry
from ..person.clarification import POLICY, Round
from ..person.consent import ConsentView

__all__ = [
    "PAGE_HEADERS",
    "Conversing",
    "SignedIn",
    "audit_page",
    "code_page",
    "consent_page",
    "conversation_box",
    "duration",
    "interstitial_page",
    "login_page",
    "message_page",
    "payment_page",
    "page_headers",
]

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page_headers(form_targets: Sequence[str] = ()) -> dict[str, str]:
    """:data:`PAGE_HEADERS`, letting the page's forms also lead to ``form_targets`` (origins
    such as ``https://agent.example``): browsers apply ``form-action`` to the redirect that
    answers a form, so a consent page that ends at an agent's callback must name its origin."""
    if not form_targets:
        return dict(PAGE_HEADERS)
    policy = PAGE_HEADERS["Content-Security-Policy"].replace(
        "form-action 'self'", "form-action 'self' " + " ".join(form_targets)
    )
    return {**PAGE_HEADERS, "Content-Security-Policy": policy}


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;
color:#1d1d1f}h1{font-size:1.4rem}.box{border:1px solid #ccc;border-radius:8px;padding:1rem;
margin:1rem 0}.md{white-space:pre-wrap}code{background:#f3f3f3;padding:0 .2rem}
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}label{display:block;margin:.5rem 0}
.error{color:#b00020}.who{color:#555;font-size:.9rem;margin:.6rem 0 .1rem}
textarea{width:100%;min-height:4rem}
#approve{background:#1a7f37;color:#fff;border:1px solid #1a7f37;border-radius:6px;font-weight:600}
#deny{background:#fff;color:#b00020;border:1px solid #b00020;border-radius:6px}
.bar{display:flex;justify-content:space-between;align-items:center;color:#555;font-size:.9rem;
border-top:1px solid #eee;padding-top:.5rem;margin-top:2rem}.bar form{margin:0}
.bar button{font-size:.85rem;padding:.2rem .7rem;margin:0}.sub{color:#555;margin-top:-.6rem}
fieldset{border:1px solid #ccc;border-radius:8px;margin:1rem 0}
"""


def duration(seconds: float) -> str:
    """``seconds`` as a person reads it, in whole units: "30 days", "1 hour", "90 minutes"."""
    minutes = round(seconds / 60)
    if seconds < 60 or minutes == 0:
        count, unit = max(0, int(seconds)), "second"
    elif minutes % 1440 == 0:
        count, unit = minutes // 1440, "day"
    elif minutes % 60 == 0:
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes, "minute"
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _sign_out(person_name: str, csrf: str) -> str:
    """Who is signed in, and the control to sign out (a POST with the session's CSRF); the
    page's last form, so the page's own form comes first."""
    return (
        f"<div class=bar><span>Signed in as <strong>{escape(person_name)}</strong></span>"
        "<form method=post action='/logout'>"
        f"<input type=hidden name=csrf value='{escape(csrf)}'>"
        "<button type=submit id=sign-out>Sign out</button></form></div>"
    )


ANSWER_REFRESH = 3
"""Seconds between reloads of a consent page that waits for the agent's answer (no scripts)."""


SignedIn = tuple[str, str]
"""Who sees a page: the signed-in person's name and their session's CSRF token."""


def _page(
    title: str, body: str, *, refresh: int | None = None, signed_in: SignedIn | None = None
) -> str:
    """A whole page; ``signed_in`` ends it with who is signed in and the sign-out control."""
    reload = f"<meta http-equiv=refresh content={refresh}>" if refresh else ""
    bar = _sign_out(*signed_in) if signed_in else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"{reload}"
        f"<meta name=viewport content='width=device-width'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}{bar}</body></html>"
    )


def _text(markdown: str) -> str:
    """Untrusted Markdown as safe text: escaped, line breaks kept."""
    return f"<div class=md>{escape(markdown)}</div>"


def _problem(error: str | None, code: str | None) -> str:
    """A refusal: what went wrong, and its AAuth error code."""
    shown = f"<p class=error>{escape(error)}</p>" if error else ""
    return shown + (f"<p>Error code: <code id=error>{escape(code)}</code></p>" if code else "")


def login_page(
    action: str,
    *,
    error: str | None = None,
    code: str | None = None,
    hidden: Mapping[str, str] | None = None,
    server_name: str | None = None,
) -> str:
    """The sign-in form; ``server_name`` (the person server's name or identifier) says
    where the person is signing in."""
    fields = "".join(
        f"<input type=hidden name='{escape(k)}' value='{escape(v)}'>"
        for k, v in (hidden or {}).items()
    )
    problem = _problem(error, code)
    where = f" to {escape(server_name)}" if server_name else ""
    return _page(
        "Sign in",
        f"<h1>Sign in{where}</h1><p class=sub>to review your agent's request</p>{problem}"
        f"<form method=post action='{escape(action)}'>{fields}"
        "<label>Username <input name=username autocomplete=username required></label>"
        "<label>Password <input name=password type=password autocomplete=current-password "
        "required></label><button type=submit>Sign in</button></form>",
    )


def code_page(
    action: str,
    csrf: str,
    *,
    error: str | None = None,
    code: str | None = None,
    person_name: str | None = None,
) -> str:
    problem = _problem(error, code)
    return _page(
        "Enter code",
        f"<h1>Enter the code your agent showed you</h1>{problem}"
        f"<form method=get action='{escape(action)}'>"
        "<label>Code <input name=code autocomplete=off required></label>"
        f"<input type=hidden name=csrf value='{escape(csrf)}'>"
        "<button type=submit>Continue</button></form>",
        signed_in=(person_name, csrf) if person_name else None,
    )


def _turn(number: int, turn: Round, person_name: str) -> str:
    """One question and its answer; every word from the agent is escaped text (PS-29)."""
    who = "This server's policy" if turn.asked_by == POLICY else escape(person_name)
    html = (
        f"<p class=who>{who} asked:</p>"
        f"<div class=md id=question-{number}>{escape(turn.question)}</div>"
    )
    if turn.action == "updated_request":
        scope = " ".join(turn.scope or ())
        html += f"<p class=who>The agent narrowed its request to <code>{escape(scope)}</code>:</p>"
    elif turn.answer is not None:
        html += "<p class=who>The agent answered:</p>"
    if turn.answer is not None:
        html += f"<div class=md id=answer-{number}>{escape(turn.answer)}</div>"
    return html


class Conversing(Protocol):
    """A pending request the person may ask about: a consent, a mission proposal."""

    @property
    def code(self) -> str: ...
    @property
    def conversation(self) -> Sequence[Round]: ...
    @property
    def questions_left(self) -> int: ...
    @property
    def awaiting_answer(self) -> bool: ...
    @property
    def can_ask(self) -> bool: ...


def conversation_box(view: Conversing, action: str, csrf: str, person_name: str) -> str:
    """The questions so far, their answers, and the Ask box (empty when there is none)."""
    turns = "".join(_turn(n, t, person_name) for n, t in enumerate(view.conversation, 1))
    waiting = (
        "<p id=waiting>Waiting for the agent's answer… (this page reloads by itself)</p>"
        if view.awaiting_answer
        else ""
    )
    ask = ""
    if view.can_ask:
        ask = (
            f"<form method=post action='{escape(action)}'>"
            f"<input type=hidden name=csrf value='{escape(csrf)}'>"
            f"<input type=hidden name=code value='{escape(view.code)}'>"
            "<label>Ask the agent a question "
            f"({view.questions_left} left) "
            "<textarea name=question id=question maxlength=1000 required></textarea></label>"
            "<button type=submit name=decision value=ask id=ask>Ask</button></form>"
        )
    if not (turns or waiting or ask):
        return ""
    return f"<div class=box id=conversation><strong>Questions</strong>{turns}{waiting}{ask}</div>"


def _remember_choice(view: ConsentView) -> str:
    """How long an approval counts: the person picks this request only, or the server's
    remembered period; and how long the token itself lives."""
    lifetime = ""
    if view.token_lifetime is not None:
        lifetime = (
            f"<p id=token-lifetime>If you approve, the agent's access lasts "
            f"{duration(view.token_lifetime)} (then it must ask again, or reuse an approval "
            "you let this server remember).</p>"
        )
    if view.remembered_for is None:
        return lifetime + "<p id=remember>This approval is not remembered.</p>"
    days = duration(view.remembered_for)
    return (
        f"{lifetime}<fieldset id=remember><legend>Remember this approval?</legend>"
        "<label><input type=radio name=remember value=once id=remember-once> "
        "This request only</label>"
        "<label><input type=radio name=remember value=remember id=remember-days checked> "
        f"Remember for {days}: this agent gets the same access here again without asking"
        "</label></fieldset>"
    )


def consent_page(view: ConsentView, action: str, csrf: str, person_name: str) -> str:
    scopes = "".join(
        f"<li><code>{escape(name)}</code>{_text(desc) if desc else ''}</li>"
        for name, desc in view.scopes
    )
    local = view.agent_id.removeprefix("aauth:").rpartition("@")[0] or view.agent_id
    agent = f"<code>{escape(local)}</code>"
    provider = f" from <strong>{escape(view.agent_name)}</strong>" if view.agent_name else ""
    resource = escape(view.resource_name or view.resource_id)
    why = (
        f"<div class=box><strong>Why the agent says it needs this</strong>"
        f"{_text(view.justification)}</div>"
        if view.justification
        else ""
    )
    device = " ".join(f"<code>{escape(v)}</code>" for v in (view.device, view.platform) if v)
    running = f"<p>Running on: {device}</p>" if device else ""
    if view.subagent:
        running += f"<p>For its sub-agent: <code id=subagent>{escape(view.subagent)}</code></p>"
    if view.on_behalf_of:
        chain = " ← ".join(f"<code>{escape(agent)}</code>" for agent in view.on_behalf_of)
        running += f"<p id=chain>On behalf of: {chain}</p>"
    return _page(
        "Approve access?",
        f"<h1>The agent {agent} is asking for access to {resource}</h1>"
        f"<p class=sub id=agent-provider>an agent{provider}</p>"
        f"<p>Code <code id=code>{escape(view.code)}</code> — check it matches what your agent "
        "shows.</p><div class=box>"
        f"<p>Agent: <code>{escape(view.agent_id)}</code></p>{running}"
        f"<p>Resource: <strong>{resource}</strong> (<code>{escape(view.resource_id)}</code>)</p>"
        f"<p>Access requested:</p><ul>{scopes}</ul></div>{why}"
        f"<form method=post action='{escape(action)}'>"
        f"<input type=hidden name=csrf value='{escape(csrf)}'>"
        f"<input type=hidden name=code value='{escape(view.code)}'>"
        f"{_remember_choice(view)}"
        "<button type=submit name=decision value=approve id=approve>Approve</button>"
        "<button type=submit name=decision value=deny id=deny>Deny</button></form>"
        f"{conversation_box(view, action, csrf, person_name)}",
        refresh=ANSWER_REFRESH if view.awaiting_answer else None,
        signed_in=(person_name, csrf),
    )


def message_page(
    title: str,
    message: str,
    *,
    code: str | None = None,
    signed_in: SignedIn | None = None,
) -> str:
    """An outcome; ``code`` is the AAuth error code of a refusal, shown for support;
    ``signed_in`` adds the sign-out control."""
    body = f"<h1>{escape(title)}</h1><p id=outcome>{escape(message)}</p>"
    return _page(title, body + _problem(None, code), signed_in=signed_in)


def audit_page(entries: Sequence[AuditEntry], signed_in: SignedIn) -> str:
    """A person's audit log (PS-32), newest first; every value is escaped text."""
    rows = "".join(
        "<tr>"
        f"<td>{escape(time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(e.at)))}</td>"
        f"<td>{escape(e.event)}{f' <code>{escape(e.action)}</code>' if e.action else ''}</td>"
        f"<td><code>{escape(e.agent)}</code></td>"
        f"<td>{escape(e.resource or '')}</td><td>{escape(' '.join(e.scope))}</td>"
        f"<td>{escape(e.how)}</td></tr>"
        for e in entries
    )
    table = (
        "<table id=audit><tr><th>When</th><th>What</th><th>Agent</th><th>Resource</th>"
        f"<th>Scope</th><th>How</th></tr>{rows}</table>"
        if entries
        else "<p id=audit>Nothing has happened on your behalf yet.</p>"
    )
    title = f"<h1>Activity for {escape(signed_in[0])}</h1>"
    return _page("Your activity", title + table, signed_in=signed_in)


def interstitial_page(resource: str, code: str, person_server: str, link: str) -> str:
    """A resource's page before a chained interaction: the code to compare, then onward to the
    person server that will ask (phase 9)."""
    return _page(
        "Continue to your person server",
        f"<h1>{escape(resource)} needs your approval</h1>"
        f"<p>Code <code id=code>{escape(code)}</code> — check it matches what your agent shows."
        f"</p><p>To answer your agent, this service must call another one on your behalf. "
        f"Your person server <code>{escape(person_server)}</code> will ask you to approve.</p>"
        f"<p><a id=continue href='{escape(link)}'>Continue</a></p>",
    )


def relay_page(
    code: str, server: str, link: str, signed_in: SignedIn, *, resource: bool = False
) -> str:
    """The person server's page before another server's: the code to compare, then onward to
    the resource's own page (PS-25) or its access server's ("Interaction Chaining")."""
    who = "The resource" if resource else "The resource's access server"
    return _page(
        "Continue to the resource" if resource else "Continue to the access server",
        f"<h1>One more step</h1><p>Code <code id=code>{escape(code)}</code> — check it matches "
        f"what your agent shows.</p><p>{who} <code>{escape(server)}</code> needs you before "
        "access can be granted. You come back here when it is done.</p>"
        f"<p><a id=continue href='{escape(link)}'>Continue</a></p>",
        signed_in=signed_in,
    )


def relay_wait_page(link: str, signed_in: SignedIn) -> str:
    """The access server has not said yet what comes next: look again."""
    return _page(
        "Waiting for the access server",
        "<h1>Waiting for the access server</h1><p>Your agent has not heard back yet.</p>"
        f"<p><a id=continue href='{escape(link)}'>Look again</a></p>",
        signed_in=signed_in,
    )


def payment_page(action: str, code: str, amount: str, person_server: str, csrf: str) -> str:
    """The simulated payment step of an access server (no money moves); the form carries the
    signed-in person's CSRF token."""
    return _page(
        "Settle billing",
        "<h1>Billing required</h1><div class=box>"
        f"<p>Person server: <code>{escape(person_server)}</code></p>"
        f"<p>Amount: <strong>{escape(amount)}</strong> (simulated: no money moves)</p>"
        f"<p>Code <code id=code>{escape(code)}</code> — check it matches what your agent shows."
        f"</p></div><form method=post action='{escape(action)}'>"
        f"<input type=hidden name=csrf value='{escape(csrf)}'>"
        f"<input type=hidden name=code value='{escape(code)}'>"
        "<button type=submit name=decision value=approve id=pay>Pay</button></form>",
    )
