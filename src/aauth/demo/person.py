"""A simulated person: signs in at the person server and approves (or denies) over HTTP,
through the same login and consent pages a person uses in a browser."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable
from html import unescape

import httpx

from ..agent.poller import InteractionPrompt
from .printer import Printer

__all__ = ["Person", "PersonAtTheScreen"]

_FORM = re.compile(r"<form method=post action='([^']+)'")
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

    def decide(self, prompt: InteractionPrompt, decision: str = "approve") -> httpx.Response:
        """Open the agent's link, sign in when asked, check the code, press the button."""
        page = self.client.get(prompt.link, follow_redirects=True)
        if "name=password" in page.text:
            action, fields = _form(page)
            fields.update(username=self.username, password=self.password)
            page = self.client.post(str(page.url.join(action)), data=fields, follow_redirects=True)
        if prompt.code not in page.text:
            raise AssertionError("the consent page does not show the agent's code")
        action, fields = _form(page)
        fields["decision"] = decision
        return self.client.post(str(page.url.join(action)), data=fields, follow_redirects=True)


class PersonAtTheScreen:
    """The ``on_interaction`` callback of a demo agent: the agent shows the page and code, and
    a simulated person completes it on their own thread while the agent long-polls (with
    ``manual``, the link and ``hint`` are printed for a person with a browser instead).
    ``done`` says what completing a page means; failures are re-raised by :meth:`check`."""

    def __init__(
        self,
        printer: Printer,
        username: str,
        password: str,
        *,
        manual: bool,
        hint: str,
        done: Callable[[InteractionPrompt], str],
    ) -> None:
        self.printer = printer
        self.username, self.password = username, password
        self.manual, self.hint, self.done = manual, hint, done
        self.completed: list[int] = []
        self.failures: list[BaseException] = []

    def __call__(self, prompt: InteractionPrompt) -> None:
        self.printer.note(f"the agent shows its person: open {prompt.url}  code {prompt.code}")
        if self.manual:
            print(f"\n  Open {prompt.link} in a browser; {self.hint}\n", file=sys.stderr)
            return
        threading.Thread(target=self._complete, args=(prompt,), daemon=True).start()

    def _complete(self, prompt: InteractionPrompt) -> None:
        try:
            with httpx.Client() as browser:
                outcome = Person(self.username, self.password, browser).decide(prompt)
            self.completed.append(outcome.status_code)
            self.printer.note(f"{self.username} {self.done(prompt)} (HTTP {outcome.status_code})")
        except BaseException as exc:  # reported by the main thread
            self.failures.append(exc)

    def check(self) -> None:
        """Re-raise the first failure of the simulated person."""
        if self.failures:
            raise self.failures[0]
