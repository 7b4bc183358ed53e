"""Mission documents: proposals (parsed strictly), the blob and its s256 (PS-19, PS-20), and
the agent's check of an approval (AG-29, AG-30)."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aauth.errors import InvalidRequest, ServerError
from aauth.headers import MissionRef
from aauth.missions import (
    ApprovedMission,
    MissionProposal,
    Tool,
    build_blob,
    iso8601,
    mission_s256,
    parse_approval,
)

PS = "https://ps.example"
AGENT = "aauth:planner@ap.example"
NOW = 1_800_000_000.0


def test_ps20_s256_of_the_draft_example_bytes() -> None:
    """§G phase 5: the s256 is the SHA-256 of these exact bytes, base64url, unpadded."""
    blob = (
        b'{"approver":"https://ps.example","agent":"aauth:planner@ap.example",'
        b'"approved_at":"2026-09-01T10:00:00Z","description":"Summarise Q3 reports"}'
    )
    assert mission_s256(blob) == "_RALkiy8GSiBPx7QuQMmAEoDKq8rBgYBWTJQCc6E5xQ"


def test_ps19_blob_members_in_order_compact() -> None:
    proposal = MissionProposal(
        "# Q3\n\nSummarise",
        tools=(Tool("Read", "Read files"),),
        resources={"https://docs.example": ("docs.read",)},
        expires_at=NOW + 3600,
    )
    blob = build_blob(PS, AGENT, NOW, proposal)
    document = json.loads(blob)
    assert list(document) == [
        "approver",
        "agent",
        "approved_at",
        "expires_at",
        "description",
        "approved_tools",
        "approved_resources",
        "approved_scopes",
    ]
    assert document["approved_at"] == iso8601(NOW) == "2027-01-15T08:00:00Z"
    assert document["approved_resources"] == ["https://docs.example"]
    assert document["approved_scopes"] == {"https://docs.example": ["docs.read"]}
    assert blob == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def test_proposal_round_trip() -> None:
    proposal = MissionProposal(
        "Plan the trip",
        tools=(Tool("Search", "Search the web"),),
        resources={"https://flights.example": ("book", "read")},
        expires_at=NOW + 60,
    )
    parsed = MissionProposal.parse(proposal.body(), now=NOW)
    assert parsed == proposal
    assert MissionProposal.from_json(proposal.to_json()) == proposal


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "JSON object"),
        (b"[]", "JSON object"),
        (b"{}", "'description'"),
        (b'{"description": "   "}', "'description'"),
        (b'{"description": "a\\u0000b"}', "control characters"),
        (json.dumps({"description": "x" * 8001}).encode(), "'description'"),
        (b'{"description": "d", "tools": {}}', "'tools'"),
        (b'{"description": "d", "tools": [{"name": "x"}]}', "tools[].description"),
        (b'{"description": "d", "resources": ["https://a.example"]}', "each resource"),
        (b'{"description": "d", "resources": [{"resource": "http://a.example"}]}', "identifier"),
        (
            b'{"description": "d", "resources": [{"resource": "https://a.example", '
            b'"scopes": ["a b"]}]}',
            "scope tokens",
        ),
        (
            b'{"description": "d", "resources": [{"resource": "https://a.example", "scopes": []},'
            b'{"resource": "https://a.example", "scopes": []}]}',
            "twice",
        ),
        (b'{"description": "d", "expires_at": "tomorrow"}', "ISO 8601"),
        (b'{"description": "d", "expires_at": "2027-01-01T00:00:00"}', "time zone"),
        (b'{"description": "d", "expires_at": "2020-01-01T00:00:00Z"}', "past"),
    ],
)
def test_malformed_proposals_are_invalid_requests(body: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        MissionProposal.parse(body, now=NOW)


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_invalid_request(raw: bytes) -> None:
    with contextlib.suppress(InvalidRequest):
        MissionProposal.parse(raw, now=NOW)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
        max_leaves=12,
    )
)
def test_any_json_parses_or_raises_invalid_request(document: object) -> None:
    with contextlib.suppress(InvalidRequest):
        MissionProposal.parse(json.dumps(document).encode(), now=NOW)


def _approval(blob: bytes) -> tuple[MissionRef, bytes]:
    return MissionRef(PS, mission_s256(blob)), blob


def test_ag30_approval_keeps_the_exact_bytes() -> None:
    blob = build_blob(PS, AGENT, NOW, MissionProposal("Summarise  Q3"))
    ref, body = _approval(blob)
    approved = parse_approval(ref, body, agent=AGENT, approver=PS)
    assert approved.blob is body
    assert approved.ref == ref
    assert approved.document["description"] == "Summarise  Q3"
    again = ApprovedMission.from_json(json.loads(json.dumps(approved.to_json())))
    assert again == approved


def test_a_digest_that_does_not_match_the_approved_bytes_fails() -> None:
    blob = build_blob(PS, AGENT, NOW, MissionProposal("Summarise Q3"))
    ref, _ = _approval(blob)
    reserialised = json.dumps(json.loads(blob)).encode()  # same JSON, other bytes
    with pytest.raises(ServerError, match="does not match"):
        parse_approval(ref, reserialised, agent=AGENT, approver=PS)


@pytest.mark.parametrize(
    ("agent", "approver", "blob_approver", "message"),
    [
        ("aauth:other@ap.example", PS, PS, "another approver or agent"),
        (AGENT, PS, "https://evil.example", "another approver or agent"),
        (AGENT, "https://other-ps.example", PS, "approved by"),
    ],
)
def test_approval_for_someone_else_fails(
    agent: str, approver: str, blob_approver: str, message: str
) -> None:
    blob = build_blob(blob_approver, AGENT, NOW, MissionProposal("x"))
    ref = MissionRef(PS, mission_s256(blob))
    with pytest.raises(ServerError, match=message):
        parse_approval(ref, blob, agent=agent, approver=approver)


@pytest.mark.parametrize(
    "blob", [b"[1]", b"not json", json.dumps({"approver": PS, "agent": AGENT}).encode()]
)
def test_approval_that_is_not_a_mission_blob_fails(blob: bytes) -> None:
    ref, body = _approval(blob)
    with pytest.raises(ServerError):
        parse_approval(ref, body, agent=AGENT, approver=PS)


def test_mission_file_that_was_tampered_with_is_refused() -> None:
    approved = ApprovedMission(*_approval(build_blob(PS, AGENT, NOW, MissionProposal("x"))))
    document = approved.to_json()
    document["blob"] = document["blob"].replace('"x"', '"y"')
    with pytest.raises(InvalidRequest, match="does not match"):
        ApprovedMission.from_json(document)
    with pytest.raises(InvalidRequest, match="needs"):
        ApprovedMission.from_json({"approver": PS})
    with pytest.raises(InvalidRequest, match="mission file"):
        ApprovedMission.from_json({**approved.to_json(), "s256": "short"})
