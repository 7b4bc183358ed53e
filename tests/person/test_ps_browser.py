"""The consent and mission pages in a real browser: headless Chromium signs in, checks the code
the agent shows, approves, and the agent waiting on its pending URL receives its auth token (or
its mission); the person asks the agent a question; the mission page lists the mission and
revokes it; a relayed interaction's form sends the person on to another origin.

Uses Debian's ``chromium`` and ``chromium-driver`` (installed here when missing and running
as root) driven by selenium with an explicit driver path, so nothing is ever downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ALICE_PASSWORD, Agent, World, interaction_of, live_servers

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _install_chromium() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("needs Debian's chromium and chromium-driver (install them as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    install = ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"]
    subprocess.run(install, check=True, env=env, timeout=900)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    _install_chromium()
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(argument)
    from selenium.common.exceptions import SessionNotCreatedException

    service = Service(executable_path=str(CHROMEDRIVER))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except SessionNotCreatedException:  # a browser that failed to start: try once more
        driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)), options=options
        )
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def shown(browser: Any, element_id: str, by: str = "id") -> Any:
    """The element once the page that has it has loaded (a click returns before that)."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, 15).until(lambda d: d.find_element(by, element_id))


def token_request(world: World, agent: Agent, justification: str) -> bytes:
    """The body of a token request from an agent that can send its person to a page."""
    return json.dumps(
        {
            "resource_token": world.resource_token(agent),
            "capabilities": ["interaction"],
            "justification": justification,
        }
    ).encode()


def deferred(http: httpx.Client, agent: Agent, url: str, body: bytes) -> tuple[str, str, str]:
    """POST ``body`` to ``url`` as the agent; the 202's ``(pending URL, url, code)``."""
    first = http.post(url, content=body, headers=agent.headers("POST", url, body))
    assert first.status_code == 202, first.text
    return (first.headers["location"], *interaction_of(first))


def wait_for_decision(
    http: httpx.Client, agent: Agent, location: str, outcome: list[httpx.Response]
) -> threading.Thread:
    """The agent long-polls ``location`` on a thread; the final answer lands in ``outcome``."""

    def poll() -> None:
        for _ in range(20):
            headers = agent.headers("GET", location, prefer="wait=30")
            answer = http.get(location, headers=headers)
            if answer.status_code != 202:
                outcome.append(answer)
                return

    waiting = threading.Thread(target=poll)
    waiting.start()
    return waiting


def sign_in_at(browser: Any, url: str, code: str) -> None:
    """Open the agent's link and sign in as Alice on the login page it leads to."""
    from selenium.webdriver.common.by import By

    browser.get(f"{url}?code={code}")
    shown(browser, "username", By.NAME).send_keys("alice")
    assert "/login" in browser.current_url
    browser.find_element(By.NAME, "password").send_keys(ALICE_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


@pytest.mark.timeout(1200)  # the first run may install Chromium
def test_consent_page_in_headless_chromium(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    world, neighbour_server, ps_server = live_servers()
    agent = world.agent()
    body = token_request(world, agent, "Summarise <script>alert(1)</script> Q3")
    token_url = f"{world.ps}/token"
    outcome: list[httpx.Response] = []
    with neighbour_server, ps_server, httpx.Client(timeout=60) as http:
        location, url, code = deferred(http, agent, token_url, body)
        waiting = wait_for_decision(http, agent, location, outcome)
        sign_in_at(browser, url, code)

        assert shown(browser, "code").text == code  # the code the agent shows
        page = browser.find_element(By.TAG_NAME, "body").text
        assert "The agent bot is asking for access" in page  # the agent itself, then
        assert "an agent from Trip Planner" in page  # its provider
        assert "Read your documents" in page
        assert "<script>alert(1)</script>" in page  # shown as text, never run
        browser.save_screenshot(str(tmp_path / "consent.png"))
        browser.find_element(By.ID, "approve").click()
        assert shown(browser, "outcome").text == "You can return to your agent."

        waiting.join(timeout=30)
        assert outcome, "the waiting agent got no answer"
        assert outcome[0].status_code == 200, outcome[0].text
        assert set(outcome[0].json()) == {"auth_token", "expires_in"}


@pytest.mark.timeout(1200)  # the first run may install Chromium
def answering_agent(
    http: httpx.Client,
    agent: Agent,
    location: str,
    answer: str,
    page_waits: threading.Event,
    questions: list[str],
    outcome: list[httpx.Response],
) -> threading.Thread:
    """The agent long-polling ``location``: each question it gets is recorded in
    ``questions`` and, once ``page_waits`` is set, answered with ``answer``; the final
    answer lands in ``outcome``."""

    def agent_loop() -> None:
        try:
            for _ in range(40):
                headers = agent.headers("GET", location, prefer="wait=30")
                polled = http.get(location, headers=headers)
                if polled.status_code != 202:
                    outcome.append(polled)
                    return
                if "clarification" in polled.json():
                    questions.append(polled.json()["clarification"])
                    page_waits.wait(30)
                    reply = json.dumps(
                        {"action": "clarification_response", "clarification_response": answer}
                    ).encode()
                    signed = agent.headers("POST", location, reply)
                    http.post(location, content=reply, headers=signed)
        except httpx.HTTPError:
            return  # the test failed and closed the client; its assertion says why

    waiting = threading.Thread(target=agent_loop, daemon=True)
    waiting.start()
    return waiting


def test_clarification_conversation_in_headless_chromium(browser: Any, tmp_path: Path) -> None:
    """Phase 8 in a real browser: the person asks on the consent page, the page waits for the
    agent's answer (it reloads itself, no scripts), shows it as text, and the person
    approves (PS-29: agent text escaped)."""
    from selenium.webdriver.common.by import By

    world, neighbour_server, ps_server = live_servers()
    agent = world.agent()
    body = json.dumps(
        {
            "resource_token": world.resource_token(agent),
            "capabilities": ["interaction", "clarification"],
        }
    ).encode()
    token_url = f"{world.ps}/token"
    questions: list[str] = []
    outcome: list[httpx.Response] = []
    answer = "Only to <script>alert(2)</script> summarise"
    with neighbour_server, ps_server, httpx.Client(timeout=60) as http:
        first = http.post(token_url, content=body, headers=agent.headers("POST", token_url, body))
        assert first.status_code == 202, first.text
        location = first.headers["location"]
        url, code = interaction_of(first)

        page_waits = threading.Event()  # the agent answers once the page shows it waiting
        waiting = answering_agent(http, agent, location, answer, page_waits, questions, outcome)

        browser.get(f"{url}?code={code}")
        shown(browser, "username", By.NAME).send_keys("alice")
        browser.find_element(By.NAME, "password").send_keys(ALICE_PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        assert shown(browser, "code").text == code
        shown(browser, "question").send_keys("Why do you need <b>this</b>?")
        browser.find_element(By.ID, "ask").click()
        assert "Waiting for the agent" in shown(browser, "waiting").text
        page_waits.set()
        assert shown(browser, "answer-1").text == answer  # after the page reloaded itself
        assert browser.find_element(By.ID, "question-1").text == "Why do you need <b>this</b>?"
        browser.save_screenshot(str(tmp_path / "clarification.png"))
        browser.find_element(By.ID, "approve").click()
        assert shown(browser, "outcome").text == "You can return to your agent."

        waiting.join(timeout=60)
        assert questions == ["Why do you need <b>this</b>?"]
        assert outcome, "the waiting agent got no answer"
        assert outcome[0].status_code == 200, outcome[0].text


@pytest.mark.timeout(1200)
def test_mission_pages_in_headless_chromium(browser: Any, tmp_path: Path) -> None:
    """Review a proposal (edit its description), approve; the agent receives the mission; the
    mission page lists it with its log; the person revokes it there."""
    from selenium.webdriver.common.by import By

    world, neighbour_server, ps_server = live_servers()
    agent = world.agent()
    outcome: list[httpx.Response] = []
    with neighbour_server, ps_server, httpx.Client(timeout=60) as http:
        mission_url = f"{world.ps}/mission"
        body = json.dumps(
            {
                "description": "Summarise <img src=x onerror=alert(1)> Q3",
                "resources": [{"resource": world.resources[0], "scopes": ["docs.read"]}],
            }
        ).encode()
        location, url, code = deferred(http, agent, mission_url, body)
        waiting = wait_for_decision(http, agent, location, outcome)
        sign_in_at(browser, url, code)
        assert shown(browser, "code").text == code
        assert "<img src=x onerror=alert(1)>" in browser.find_element(By.ID, "proposed").text
        description = browser.find_element(By.ID, "description")
        description.clear()
        description.send_keys("Summarise the Q3 documents, read-only")
        browser.save_screenshot(str(tmp_path / "mission-review.png"))
        browser.find_element(By.ID, "approve").click()
        assert shown(browser, "outcome").text == "You can return to your agent."

        waiting.join(timeout=30)
        assert outcome, "the waiting agent got no answer"
        approved = outcome[0]
        assert approved.status_code == 200, approved.text
        blob = json.loads(approved.content)
        assert blob["description"] == "Summarise the Q3 documents, read-only"
        s256 = approved.headers["aauth-mission"].split('s256="')[1].rstrip('"')

        browser.get(f"{world.ps}/missions")
        link = shown(browser, f"a[href='/missions/{s256}']", By.CSS_SELECTOR)
        assert "Summarise the Q3 documents" in link.text
        link.click()
        assert shown(browser, "state").text == "active"
        assert "approved" in browser.find_element(By.ID, "log").text
        browser.find_element(By.ID, "revoke").click()
        assert shown(browser, "outcome").text == "The agent can no longer act on it."
        browser.get(f"{world.ps}/missions/{s256}")
        assert shown(browser, "state").text == "terminated (revoked)"
        browser.save_screenshot(str(tmp_path / "mission-revoked.png"))


def test_question_about_a_mission_proposal_in_headless_chromium(
    browser: Any, tmp_path: Path
) -> None:
    """Phase 12 in a real browser: the person asks on the proposal page, the page waits for
    the agent's answer, shows it as text (PS-29, V-42), and the person approves."""
    from selenium.webdriver.common.by import By

    world, neighbour_server, ps_server = live_servers()
    agent = world.agent()
    questions: list[str] = []
    outcome: list[httpx.Response] = []
    answer = "Read-only <script>alert(3)</script>"
    with neighbour_server, ps_server, httpx.Client(timeout=60) as http:
        body = json.dumps(
            {
                "description": "Summarise Q3",
                "resources": [{"resource": world.resources[0], "scopes": ["docs.read"]}],
                "capabilities": ["interaction", "clarification"],
            }
        ).encode()
        location, url, code = deferred(http, agent, f"{world.ps}/mission", body)
        page_waits = threading.Event()
        waiting = answering_agent(http, agent, location, answer, page_waits, questions, outcome)
        sign_in_at(browser, url, code)
        assert shown(browser, "code").text == code
        shown(browser, "question").send_keys("Will you <i>write</i>?")
        browser.find_element(By.ID, "ask").click()
        assert "Waiting for the agent" in shown(browser, "waiting").text
        page_waits.set()
        assert shown(browser, "answer-1").text == answer  # after the page reloaded itself
        browser.save_screenshot(str(tmp_path / "mission-question.png"))
        browser.find_element(By.ID, "approve").click()
        assert shown(browser, "outcome").text == "You can return to your agent."

        waiting.join(timeout=60)
        assert questions == ["Will you <i>write</i>?"]
        assert outcome, "the waiting agent got no answer"
        assert outcome[0].status_code == 200, outcome[0].text
        assert "aauth-mission" in outcome[0].headers


SCREENSHOTS_ENV = "AAUTH_SCREENSHOTS"
"""Set to a folder (``docs/images``) to keep the tour's screenshots there."""


@pytest.mark.timeout(1200)  # the first run may install Chromium
def test_tour_of_every_page_in_headless_chromium(browser: Any, tmp_path: Path) -> None:
    """Sign-in (naming the server), code entry, consent (the agent named in the headline,
    the token lifetime, the choice of remembering), the outcome, sign-out; one screenshot
    of each. "This request only" is honoured: the next request asks the person again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    world, neighbour_server, ps_server = live_servers(name="Alice's person server")
    agent = world.agent("planner")
    browser.set_window_size(820, 1000)  # the whole consent page in one screenshot
    body = token_request(world, agent, "Plan the **Lisbon** trip from your saved documents.")
    token_url = f"{world.ps}/token"

    with neighbour_server, ps_server, httpx.Client(timeout=60) as http:
        _, _, code = deferred(http, agent, token_url, body)

        browser.get(f"{world.ps}/interact")
        shown(browser, "username", By.NAME)
        assert "Sign in to Alice's person server" in browser.find_element(By.TAG_NAME, "h1").text
        browser.save_screenshot(str(folder / "login.png"))
        browser.find_element(By.NAME, "username").send_keys("alice")
        browser.find_element(By.NAME, "password").send_keys(ALICE_PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

        shown(browser, "code", By.NAME)
        browser.save_screenshot(str(folder / "code.png"))
        browser.find_element(By.NAME, "code").send_keys(code)
        browser.find_element(By.CSS_SELECTOR, "form[method=get] button").click()

        assert shown(browser, "code").text == code
        headline = browser.find_element(By.TAG_NAME, "h1").text
        assert headline.startswith("The agent planner is asking for access")
        assert "lasts 1 hour" in browser.find_element(By.ID, "token-lifetime").text
        remember = browser.find_element(By.ID, "remember").text
        assert "This request only" in remember
        assert "Remember for 30 days" in remember
        approve = browser.find_element(By.ID, "approve").value_of_css_property("background-color")
        deny = browser.find_element(By.ID, "deny").value_of_css_property("background-color")
        assert approve != deny  # visually distinct
        browser.save_screenshot(str(folder / "consent.png"))
        browser.find_element(By.ID, "remember-once").click()
        browser.find_element(By.ID, "approve").click()

        assert shown(browser, "outcome").text == "You can return to your agent."
        browser.save_screenshot(str(folder / "approved.png"))
        browser.find_element(By.ID, "sign-out").click()
        WebDriverWait(browser, 15).until(lambda d: d.title == "Signed out")
        assert browser.find_element(By.ID, "outcome").text == "You are signed out."
        browser.save_screenshot(str(folder / "signed-out.png"))

        deferred(http, agent, token_url, body)  # not remembered: the person is asked again


def test_relay_form_in_headless_chromium(browser: Any) -> None:
    """AG-31/PS-27: a relayed interaction in the person's inbox; *Go to the page* is a form
    (a POST with the session's CSRF token) whose redirect to the other origin's page the
    page's ``form-action`` allows; the agent's poll of the relay then says ``interacting``.
    Typing the old ``/go`` link into the address bar (a GET) is refused and changes nothing."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    world, neighbour_server, ps_server = live_servers(bound=True)
    agent = world.agent()
    page = f"{world.ap}/confirm"  # the neighbour's origin, not the person server's
    body = json.dumps({"type": "interaction", "url": page, "code": "RELAY-42"}).encode()
    with neighbour_server, ps_server, httpx.Client(timeout=60) as http:
        url = f"{world.ps}/interaction"
        answer = http.post(url, content=body, headers=agent.headers("POST", url, body))
        assert answer.status_code == 202, answer.text
        location = answer.headers["location"]

        browser.get(f"{world.ps}/relays")
        shown(browser, "username", By.NAME).send_keys("alice")
        browser.find_element(By.NAME, "password").send_keys(ALICE_PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        shown(browser, "#relays a", By.CSS_SELECTOR).click()
        assert shown(browser, "code").text == "RELAY-42"
        relay_page = browser.current_url
        browser.get(f"{relay_page}/go")
        assert shown(browser, "error").text == "method_not_allowed"
        polled = http.get(location, headers=agent.headers("GET", location))
        assert polled.json() == {"status": "pending"}

        browser.get(relay_page)
        shown(browser, "go").click()
        WebDriverWait(browser, 15).until(lambda d: d.current_url.startswith(page))
        assert "code=RELAY-42" in browser.current_url
        polled = http.get(location, headers=agent.headers("GET", location))
        assert polled.json() == {"status": "interacting"}
