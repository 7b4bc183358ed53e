"""A simulated person: signs in at the person server and approves (or denies) over HTTP,
through the same login and consent pages a person uses in a browser, and may first ask the
agent questions there (phase 8). When the agent's link leads to a resource that chains the
interaction (phase 9), they check the code there and continue to the person server it names.
They also answer the questions agents ask them through the person server (§F.6)."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from html import unescape

import httpx

from ..agent.poller import InteractionPrompt
from .printer import Printer

__all__ = ["Person", "PersonAtHand"]

_FORM = re.compile(r"<form method=post action='([^']+)'")
_FORMS = re.compile(r"<form method=post action='([^']+)'>(.*?)</form>", re.S)
_HIDDEN = re.compile(r"<input type=hidden name='?(\w+)'? value='([^']*)'>")
_CONTINUE = re.compile(r"<a id=continue href='([^']+)'>")
_QUESTION = re.compile(r"<a href='(/relays/[^']+)'><code>[^<]*</code> asks you a question</a>")
MAX_HOPS = 5


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

    def visit(self, url: str) -> httpx.Response:
        """Open a page of the person server, signing in when it asks."""
        return self._signed_in(self.client.get(url, follow_redirects=True))

    def _signed_in(self, page: httpx.Response) -> httpx.Response:
        """``page``, or where signing in on it leads when it is the login form."""
        if "name=password" in page.text:
            action, fields = _form(page)
            fields.update(username=self.username, password=self.password)
            page = self.client.post(str(page.url.join(action)), data=fields, follow_redirects=True)
        return page

    def click(self, url: str, button: str) -> httpx.Response:
        """Open ``url`` and press the button with id ``button`` (its form's hidden fields and
        the button's own name and value are sent, as a browser does)."""
        page = self.visit(url)
        for action, block in _FORMS.findall(page.text):
            found = re.search(rf"<button type=submit name=(\w+) value=(\w+) id={button}>", block)
            if found is not None:
                fields = {name: unescape(value) for name, value in _HIDDEN.findall(block)}
                fields[found.group(1)] = found.group(2)
                target = str(page.url.join(unescape(action)))
                return self.client.post(target, data=fields, follow_redirects=True)
        raise AssertionError(f"no button {button!r} on {page.url} (HTTP {page.status_code})")

    def open(self, prompt: InteractionPrompt, callback: str | None = None) -> httpx.Response:
        """Open the agent's link (with the agent's ``callback``, if it gives one), sign in when
        asked, check the code: the consent page. A resource that chains the interaction
        (phase 9) shows the code first and links on to its person server, whose page shows
        the code of its own request."""
        link = prompt.link
        if callback is not None:
            link += f"&{httpx.QueryParams({'callback': callback})}"
        page = self._signed_in(self.client.get(link, follow_redirects=True))
        onward = _CONTINUE.search(page.text)
        expected = prompt.code
        if onward is not None:
            if prompt.code not in page.text:
                raise AssertionError("the page sending the person on does not show the code")
            page = self._through(self.client.get(str(page.url.join(unescape(onward.group(1))))))
            expected = ""
        if expected not in page.text:
            raise AssertionError("the consent page does not show the agent's code")
        return page

    def _through(self, page: httpx.Response) -> httpx.Response:
        """Where ``page`` leads: its redirects followed, signing in where asked, and on
        through a person server's hand-off to an access server (a second "Continue")."""
        for _ in range(MAX_HOPS):
            while page.is_redirect:
                page = self.client.get(str(page.url.join(page.headers["location"])))
            onward = _CONTINUE.search(page.text)
            if "name=password" in page.text:
                page = self._signed_in(page)
            elif onward is not None and "name=decision" not in page.text:
                page = self.client.get(str(page.url.join(unescape(onward.group(1)))))
            else:
                return page
        raise AssertionError(f"no consent page after {MAX_HOPS} pages")

    def press(self, page: httpx.Response, decision: str, **fields: str) -> httpx.Response:
        """Submit the consent page with ``decision`` (approve, deny or ask)."""
        action, hidden = _form(page)
        data = {**hidden, **fields, "decision": decision}
        return self.client.post(str(page.url.join(action)), data=data, follow_redirects=True)

    def decide(
        self,
        prompt: InteractionPrompt,
        decision: str = "approve",
        callback: str | None = None,
        *,
        onward: str | None = None,
    ) -> httpx.Response:
        """Open the agent's link and press approve (or deny); the page the browser ends on.
        When the person server sends the person on to an access server's pages (it relays
        what the AS asks), they sign in there and press ``onward`` (default: the same
        decision) on each page of a server other than the link's."""
        own = httpx.URL(prompt.url)
        page = self.open(prompt, callback)
        for _ in range(MAX_HOPS):
            here = (page.url.host, page.url.port) == (own.host, own.port)
            page = self._signed_in(self.press(page, decision if here else onward or decision))
            if "name=decision" not in page.text:
                return page
        raise AssertionError(f"still asked to decide after {MAX_HOPS} pages")

    def ask(self, page: httpx.Response, question: str) -> httpx.Response:
        """Ask the agent ``question`` from the consent page; the page that follows."""
        return self.press(page, "ask", question=question)

    def await_answer(self, page: httpx.Response, timeout: float = 30.0) -> httpx.Response:
        """Reload the consent page, as its refresh does, until no answer is awaited."""
        deadline = time.monotonic() + timeout
        while page.status_code == 200 and "id=waiting" in page.text:
            if time.monotonic() > deadline:
                raise AssertionError("the agent did not answer in time")
            time.sleep(0.05)
            page = self.client.get(page.url)
        return page

    def answer_question(
        self, person_server: str, answer: str | None, timeout: float = 30.0
    ) -> httpx.Response:
        """Wait for an agent's question in the inbox at ``person_server``'s ``/relays``
        (§F.6), then answer it, or decline it when ``answer`` is None; the page that follows."""
        deadline = time.monotonic() + timeout
        page = self.visit(f"{person_server}/relays")
        while (found := _QUESTION.search(page.text)) is None:
            if time.monotonic() > deadline:
                raise AssertionError("no question from the agent arrived in time")
            time.sleep(0.05)
            page = self.client.get(page.url)
        page = self.client.get(str(page.url.join(unescape(found.group(1)))))
        if answer is None:
            return self.press(page, "decline")
        return self.press(page, "answer", answer=answer)

    def converse(
        self, prompt: InteractionPrompt, questions: Sequence[str], decision: str = "approve"
    ) -> httpx.Response:
        """Ask each question in turn, waiting for each answer, then decide."""
        page = self.open(prompt)
        for question in questions:
            page = self.await_answer(self.ask(page, question))
        return self.press(page, decision)


class PersonAtHand:
    """The demo's person as the agent reaches them: ``on_interaction`` shows the link, then
    the simulated person does ``act`` on the consent page on their own thread (the agent is
    long-polling meanwhile), noted as ``did``; with ``manual`` the reader is told to do
    ``task`` in a browser."""

    def __init__(
        self,
        printer: Printer,
        username: str,
        password: str,
        act: Callable[[Person, InteractionPrompt], httpx.Response],
        *,
        task: str,
        did: str,
        manual: bool = False,
    ) -> None:
        self.printer, self.username, self.password = printer, username, password
        self.act, self.task, self.did, self.manual = act, task, did, manual
        self.outcomes: list[int] = []
        self._failures: list[BaseException] = []

    def _act(self, prompt: InteractionPrompt) -> None:
        try:
            with httpx.Client(timeout=30) as browser:
                outcome = self.act(Person(self.username, self.password, browser), prompt)
            self.outcomes.append(outcome.status_code)
            self.printer.note(
                f"{self.username} {self.did} on the consent page (HTTP {outcome.status_code})"
            )
        except BaseException as exc:  # re-raised on the demo's thread by check()
            self._failures.append(exc)

    def on_interaction(self, prompt: InteractionPrompt) -> None:
        self.printer.note(f"the agent shows its person: open {prompt.url}  code {prompt.code}")
        if self.manual:
            print(
                f"\n  Open {prompt.link} in a browser, sign in as '{self.username}' with "
                f"password '{self.password}', check the code {prompt.code}, then {self.task}.\n",
                file=sys.stderr,
            )
            return
        threading.Thread(target=self._act, args=(prompt,), daemon=True).start()

    def check(self) -> None:
        """Re-raise what went wrong on the person's thread."""
        if self._failures:
            raise self._failures[0]
