"""A simulated person: signs in at the person server and approves (or denies) over HTTP,
through the same login and consent pages a person uses in a browser. When the agent's link
leads to a resource that chains the interaction (phase 9), they check the code there and
continue to the person server the resource names."""

from __future__ import annotations

import re
from html import unescape

import httpx

from ..agent.poller import InteractionPrompt

__all__ = ["Person"]

_FORM = re.compile(r"<form method=post action='([^']+)'")
_HIDDEN = re.compile(r"<input type=hidden name='?(\w+)'? value='([^']*)'>")
_CONTINUE = re.compile(r"<a id=continue href='([^']+)'>")


def _form(page: httpx.Response) -> tuple[str, dict[str, str]]:
    action = _FORM.search(page.text)
    if action is None:
        raise AssertionError(f"no form on {page.url} (HTTP {page.status_code})")
    fields = {name: unescape(value) for name, value in _HIDDEN.findall(page.text)}
    return unescape(action.group(1)), fields


class Person:
    """Someone with an account at the person server."""

    def __init__(self, username: str, password: str, client: httpx.Client) -> None:
        self.username = username
        self.password = password
        self.client = client

    def decide(
        self, prompt: InteractionPrompt, decision: str = "approve", callback: str | None = None
    ) -> httpx.Response:
        """Open the agent's link (with the agent's ``callback``, if it gives one), sign in when
        asked, check the code, press the button; the last page the browser lands on."""
        link = prompt.link
        if callback is not None:
            link += f"&{httpx.QueryParams({'callback': callback})}"
        page = self.client.get(link, follow_redirects=True)
        expected = prompt.code
        onward = _CONTINUE.search(page.text)
        if onward is not None:  # a resource's page before its person server's
            if prompt.code not in page.text:
                raise AssertionError("the resource's page does not show the agent's code")
            page = self.client.get(unescape(onward.group(1)), follow_redirects=True)
            expected = ""  # the person server shows the code of its own request
        if "name=password" in page.text:
            action, fields = _form(page)
            fields.update(username=self.username, password=self.password)
            page = self.client.post(str(page.url.join(action)), data=fields, follow_redirects=True)
        if expected not in page.text:
            raise AssertionError("the consent page does not show the agent's code")
        action, fields = _form(page)
        fields["decision"] = decision
        return self.client.post(str(page.url.join(action)), data=fields, follow_redirects=True)
