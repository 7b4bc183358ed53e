"""Person server configuration: loaded from JSON, checked at load, never at the first request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aauth.person import ANY, AutoApproval, ConfigError, PersonServerConfig
from aauth.person.passwords import DEFAULT_SCRYPT, hash_password
from aauth.person.persons import PersonDirectory
from aauth.server.person_server import main
from aauth.store import SQLiteStore

FAST_N = 2**10  # explicit low scrypt cost keeps these tests fast
BASE: dict[str, Any] = {"identifier": "https://ps.example", "password_scrypt_n": FAST_N}


def test_full_configuration_file(tmp_path: Path) -> None:
    hashed = hash_password("builder", DEFAULT_SCRYPT)
    path = tmp_path / "ps.json"
    path.write_text(
        json.dumps(
            {
                "identifier": "http://127.0.0.1:8443",
                "allow_loopback_http": True,
                "name": "Home",
                "db": "state/ps.db",
                "key_file": "keys.json",
                "people": [
                    {"id": "alice", "name": "Alice", "password": "wonderland"},
                    {"id": "bob", "password_hash": hashed},
                ],
                "bindings": {"aauth:bot@127.0.0.1:9000": "alice"},
                "bind_on_first_approval": False,
                "auto_approve": [
                    {"agent": "aauth:bot@127.0.0.1:9000", "resource": "*", "scopes": ["a"]},
                    {"scopes": ["b", "c"]},
                ],
                "trusted_agent_providers": ["http://127.0.0.1:9000"],
                "scopes_supported": ["openid"],
                "auth_token_lifetime": 900,
                "pending_lifetime": 120,
                "max_wait": 30,
                "password_scrypt_n": FAST_N,
            }
        )
    )
    config = PersonServerConfig.load(path)
    assert config.db == str(tmp_path.resolve() / "state/ps.db")
    assert config.key_file == str(tmp_path.resolve() / "keys.json")
    assert config.loopback
    assert [p.name for p in config.people] == ["Alice", "bob"]
    assert config.people[1].password_hash == hashed
    assert config.people[0].password_hash.startswith("scrypt$n=1024,")
    people = PersonDirectory(config.people, SQLiteStore(), password_params=config.password_params)
    assert people.authenticate("alice", "wonderland") is not None
    assert people.authenticate("bob", "builder") is not None
    assert config.auto_approve[1] == AutoApproval(ANY, ANY, frozenset({"b", "c"}))
    assert config.auto_approve[0].covers("aauth:bot@127.0.0.1:9000", "https://x.example", ("a",))
    assert not config.auto_approve[0].covers("aauth:bot@127.0.0.1:9000", "https://x", ("b",))
    assert config.trusted_agent_providers == ("http://127.0.0.1:9000",)
    assert config.auth_token_lifetime == 900


def test_defaults_are_strict_and_in_memory() -> None:
    config = PersonServerConfig.from_json({"identifier": BASE["identifier"]})
    assert config.password_params == DEFAULT_SCRYPT
    assert config.db == ":memory:"
    assert config.with_db("ps.db").db == "ps.db"
    assert config.key_file is None
    assert not config.loopback
    assert config.auth_token_lifetime == 3600
    assert config.trusted_agent_providers is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"identifier": "https://PS.example"}, "identifier"),
        ({"identifier": "http://127.0.0.1:8000"}, "identifier"),  # loopback not allowed
        ({"surprise": 1}, "unknown"),
        ({"people": [{"id": "a", "password": "x"}, {"id": "a", "password": "y"}]}, "unique"),
        ({"people": [{"id": "a"}]}, "password"),
        ({"people": [{"id": "a", "password": "x", "password_hash": "y"}]}, "password"),
        ({"people": [{"id": "a", "password_hash": "plain"}]}, "scrypt"),
        ({"people": [{"id": "a", "password": ""}]}, "password"),
        ({"people": "alice"}, "array"),
        ({"bindings": {"aauth:bot@ap.example": "nobody"}}, "unknown person"),
        ({"bindings": {"bot": "alice"}}, "agent identifier"),
        ({"bindings": ["x"]}, "bindings"),
        ({"auto_approve": [{"agent": "*"}]}, "scopes"),
        ({"auto_approve": ["x"]}, "object"),
        ({"auto_approve": [{"scopes": [""]}]}, "non-empty"),
        ({"trusted_agent_providers": ["ap.example"]}, "trusted_agent_providers"),
        ({"auth_token_lifetime": 7200}, "auth_token_lifetime"),
        ({"max_wait": 1000}, "max_wait"),
        ({"pending_lifetime": 0}, "pending_lifetime"),
        ({"poll_interval": -1}, "poll_interval"),
        ({"pending_lifetime": "600"}, "wrong type"),
        ({"allow_loopback_http": 1}, "wrong type"),
        ({"password_scrypt_n": 1000}, "password_scrypt_n"),
        ({"password_scrypt_n": 2**21}, "password_scrypt_n"),
        ({"password_scrypt_n": "131072"}, "password_scrypt_n"),
        ({"password_scrypt_n": True}, "password_scrypt_n"),
    ],
)
def test_mistakes_are_named_at_load(change: dict[str, Any], words: str) -> None:
    document = {**BASE, "people": [{"id": "alice", "password": "pw"}], **change}
    with pytest.raises(ConfigError, match=words):
        PersonServerConfig.from_json(document)


def test_unreadable_files_and_documents(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        PersonServerConfig.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="cannot read"):
        PersonServerConfig.load(broken)
    with pytest.raises(ConfigError, match="object"):
        PersonServerConfig.from_json([])
    with pytest.raises(ConfigError, match="identifier"):
        PersonServerConfig.from_json({})


def test_main_reports_configuration_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ps.json"
    path.write_text(json.dumps({"identifier": "http://ps.example"}))
    assert main(["--config", str(path), "--port", "1"]) == 2
    assert "identifier" in capsys.readouterr().err
