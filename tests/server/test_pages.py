"""Consent pages show untrusted text escaped, never as HTML (V-42)."""

from __future__ import annotations

from aauth.person.consent import ConsentView
from aauth.server.pages import PAGE_HEADERS, consent_page, duration, login_page, message_page


def test_v42_untrusted_markdown_is_escaped() -> None:
    view = ConsentView(
        agent_id="aauth:bot@ap.example",
        agent_name="<script>alert(1)</script>",
        resource_id="https://docs.example",
        resource_name="Docs",
        scopes=[("docs.read", "Read <b>your</b> docs")],
        justification="# Why\n<img src=x onerror=alert(1)>",
        code="ABCD-EFGH",
    )
    html = consent_page(view, "/interact/x", "csrf-token", "Alice")
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;your&lt;/b&gt;" in html
    assert "ABCD-EFGH" in html


def test_pages_forbid_scripts() -> None:
    assert "default-src 'none'" in PAGE_HEADERS["Content-Security-Policy"]
    assert "<script" not in login_page("/login", error="<bad>")


def _view(**changes: object) -> ConsentView:
    values: dict[str, object] = {
        "agent_id": "aauth:planner@ap.example",
        "agent_name": "Trip <Planner>",
        "resource_id": "https://docs.example",
        "resource_name": "Docs",
        "scopes": [("docs.read", None)],
        "justification": None,
        "code": "ABCD-EFGH",
        "token_lifetime": 3599,
        "remembered_for": 30 * 86400,
    }
    values.update(changes)
    return ConsentView(**values)  # type: ignore[arg-type]


def test_consent_headline_names_the_agent_then_its_provider() -> None:
    """The agent itself first, then its provider, whose name stays escaped text (V-42)."""
    html = consent_page(_view(), "/interact/x", "csrf", "Alice")
    assert "<h1>The agent <code>planner</code> is asking for access to Docs</h1>" in html
    assert "an agent from <strong>Trip &lt;Planner&gt;</strong>" in html


def test_consent_offers_this_request_only_or_remembering_and_shows_the_token_lifetime() -> None:
    html = consent_page(_view(), "/interact/x", "csrf", "Alice")
    assert "access lasts 1 hour" in html
    assert "name=remember value=once" in html
    assert "Remember for 30 days" in html
    assert "id=sign-out" in html
    quiet = consent_page(_view(remembered_for=None), "/interact/x", "csrf", "Alice")
    assert "This approval is not remembered." in quiet
    assert "name=remember" not in quiet


def test_login_page_names_the_server_and_results_can_sign_out() -> None:
    assert "Sign in to Alice&#x27;s server" in login_page("/login", server_name="Alice's server")
    page = message_page("Access approved", "Done.", signed_in=("Alice", "tok"))
    assert "name=csrf value='tok'" in page
    assert "id=sign-out" in page
    assert "sign-out" not in message_page("Signed out", "You are signed out.")


def test_durations_read_as_whole_units() -> None:
    assert [duration(s) for s in (3599, 3600, 5400, 86400 * 30, 45, 60, 7200)] == [
        "1 hour",
        "1 hour",
        "90 minutes",
        "30 days",
        "45 seconds",
        "1 minute",
        "2 hours",
    ]
