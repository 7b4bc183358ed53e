"""The access log of ``aauth serve``: one line per request with the AAuth outcome (scheme,
agent, decision, error code), as text or JSON, and never a token, a query or a body."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from aauth.keys import KeySet
from aauth.keysource import StaticKeySource
from aauth.server.access_log import (
    AccessLog,
    AccessRecord,
    JsonAccessFormatter,
    TextAccessFormatter,
    logging_config,
)
from aauth.server.resource_server import ResourceServerConfig, create_resource_server

from ..resource_server.conftest import AGENT, AP, API, PS, Api


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def access(self) -> list[AccessRecord]:
        found = (getattr(record, "access", None) for record in self.records)
        return [access for access in found if isinstance(access, AccessRecord)]


@pytest.fixture
def logged(asgi_client: Callable[..., httpx.Client]) -> Iterator[tuple[Api, _Lines]]:
    lines = _Lines()
    logger = logging.getLogger("aauth.access.test")
    logger.setLevel(logging.INFO)
    logger.addHandler(lines)
    ap, ps = KeySet.generate(), KeySet.generate()
    keys = StaticKeySource({AP: ap.jwks(), PS: ps.jwks()})
    config = ResourceServerConfig(identifier=API, trusted_issuers=(PS,))
    app = AccessLog(create_resource_server(config, key_source=keys), logger)
    yield Api(asgi_client(app, API), ap, ps), lines
    logger.removeHandler(lines)


def test_a_challenge_then_an_allowed_request(logged: tuple[Api, _Lines]) -> None:
    api, lines = logged
    assert api.request("GET", "/data").status_code == 401
    assert api.request("GET", "/data", token=api.auth_token()).status_code == 200
    challenged, allowed = lines.access()
    assert (challenged.method, challenged.path, challenged.status) == ("GET", "/data", 401)
    assert challenged.scheme == "jwt"
    assert challenged.decision == "challenged"
    assert challenged.requirement == "auth-token"
    assert challenged.error == "auth_token_required"
    assert challenged.agent == AGENT  # named by the resource token it was challenged with
    assert (allowed.status, allowed.decision, allowed.agent) == (200, "allowed", AGENT)
    assert allowed.error is None


def test_a_bad_signature_is_refused_with_its_code(logged: tuple[Api, _Lines]) -> None:
    api, lines = logged
    headers = api.signer.sign("GET", API + "/whoami")
    headers["Signature"] = "sig=:" + "A" * 86 + "==:"
    assert api.client.get("/whoami", headers=headers).status_code == 401
    (record,) = lines.access()
    assert record.decision == "refused"
    assert record.error == "invalid_signature"
    assert record.agent is None


def test_a_problem_body_gives_the_error_code(logged: tuple[Api, _Lines]) -> None:
    api, lines = logged
    assert api.client.get("/public/hello").status_code == 401  # unsigned
    (record,) = lines.access()
    assert record.scheme is None
    assert record.decision in ("challenged", "refused")
    assert record.error is not None


def test_text_lines_never_carry_tokens_or_queries(logged: tuple[Api, _Lines]) -> None:
    api, lines = logged
    token = api.auth_token()
    api.request("GET", "/data?code=SECRET", token=token)
    formatter = TextAccessFormatter()
    (record,) = lines.records
    text = formatter.format(record)
    assert '"GET /data" 200' in text
    assert "scheme=jwt" in text
    assert f"agent={AGENT} decision=allowed error=- requirement=-" in text
    assert "SECRET" not in text
    assert token not in text
    assert "eyJ" not in text


def test_json_lines_hold_every_member(logged: tuple[Api, _Lines]) -> None:
    api, lines = logged
    api.request("GET", "/data")
    document = json.loads(JsonAccessFormatter().format(lines.records[0]))
    assert document["logger"] == "aauth.access.test"
    assert document["level"] == "info"
    assert {k: document[k] for k in ("method", "path", "status", "scheme", "decision")} == {
        "method": "GET",
        "path": "/data",
        "status": 401,
        "scheme": "jwt",
        "decision": "challenged",
    }
    assert document["requirement"] == "auth-token"
    assert isinstance(document["duration_ms"], float)
    other = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started", None, None)
    assert json.loads(JsonAccessFormatter().format(other))["message"] == "Started"


def test_the_serve_logging_configuration() -> None:
    config = logging_config("warning", "json")
    assert config["loggers"]["aauth"]["level"] == "WARNING"
    assert config["formatters"]["aauth"]["()"].endswith("JsonAccessFormatter")
    assert logging_config("info", "text")["formatters"]["aauth"]["()"].endswith(
        "TextAccessFormatter"
    )


def test_log_level_warning_writes_no_access_lines(logged: tuple[Api, _Lines]) -> None:
    api, lines = logged
    logging.getLogger("aauth.access.test").setLevel(logging.WARNING)
    assert api.request("GET", "/data").status_code == 401
    assert lines.records == []
