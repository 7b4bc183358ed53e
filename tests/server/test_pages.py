"""Consent pages show untrusted text escaped, never as HTML (V-42)."""

from __future__ import annotations

from aauth.person.consent import ConsentView
from aauth.server.pages import PAGE_HEADERS, consent_page, login_page


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
