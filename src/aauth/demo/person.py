"""A simulated person: signs in at the person server and approves (or denies) over HTTP,
through the same login and consent pages a person uses in a browser."""

from __future__ import annotations

import re
from html import unescape

import httpx

from ..agent.poller import InteractionPrompt

__all__ = ["Person"]

_FORM = re.compile(r"<form method=post action='([^']+)'")
_FORMS = re.compile(r"<form method=post action='([^']+)'>(.*?)</form>", re.S)
_HIDDEN = re.compile(r"<input type=hidden name='?(\w+)'? value='([^']*)'>")


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

    def open(self, url: str) -> httpx.Response:
        """Open a page of the person server, signing in when it asks."""
        page = self.client.get(url, follow_redirects=True)
        if "name=password" in page.text:
            action, fields = _form(page)
            fields.update(username=self.username, password=self.password)
            page = self.client.post(str(page.url.join(action)), data=fields, follow_redirects=True)
        return page

    def press(self, url: str, button: str) -> httpx.Response:
        """Open ``url`` and press the button with id ``button`` (its form's hidden fields and
        the button's own name and value are sent, as a browser does)."""
        page = self.open(url)
        for action, block in _FORMS.findall(page.text):
            found = re.search(rf"<button type=submit name=(\w+) value=(\w+) id={button}>", block)
            if found is not None:
                fields = {name: unescape(value) for name, value in _HIDDEN.findall(block)}
                fields[found.group(1)] = found.group(2)
                target = str(page.url.join(unescape(action)))
                return self.client.post(target, data=fields, follow_redirects=True)
        raise AssertionError(f"no button {button!r} on {page.url} (HTTP {page.status_code})")

    def decide(self, prompt: InteractionPrompt, decision: str = "approve") -> httpx.Response:
        """Open the agent's link, sign in when asked, check the code, press the button."""
        page = self.open(prompt.link)
        if prompt.code not in page.text:
            raise AssertionError("the consent page does not show the agent's code")
        action, fields = _form(page)
        fields["decision"] = decision
        return self.client.post(str(page.url.join(action)), data=fields, follow_redirects=True)
