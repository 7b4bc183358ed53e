"""``aauth serve access`` as its own process: with its configuration and database, and the
one-line refusals of a missing or broken configuration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from ..e2e.test_cli_live import assert_shut_down_cleanly, serve
from ..person.test_ps_restart import free_port


def test_serve_access_with_its_config_and_database(tmp_path: Path) -> None:
    port = free_port()
    identifier = f"http://127.0.0.1:{port}"
    config, database = tmp_path / "as.json", tmp_path / "as.db"
    settings = {
        "identifier": identifier,
        "resources": ["http://127.0.0.1:1"],
        "trusted_person_servers": ["http://127.0.0.1:2"],
        "payment": "1 USD",
        "people": [{"id": "owner", "password": "pw"}],
        "allow_loopback_http": True,
    }
    config.write_text(json.dumps(settings))
    with serve(tmp_path, "access", port, "--config", str(config), "--db", str(database)) as served:
        assert served.metadata["issuer"] == identifier
        assert served.metadata["token_endpoint"] == f"{identifier}/token"
        assert httpx.get(f"{identifier}/pay?code=AAAA-AAAA").status_code == 303  # sign in
        unsigned = httpx.post(f"{identifier}/token", json={})
        assert unsigned.status_code == 401
    assert_shut_down_cleanly(served)
    assert database.stat().st_size > 0


def _serve(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "aauth.cli", "serve", "access", "--port", str(free_port())]
    return subprocess.run(
        [*command, *arguments], capture_output=True, text=True, timeout=60, check=False
    )


def test_serve_access_without_a_config_exits_2() -> None:
    result = _serve()
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "aauth serve: error: access: the access server needs a --config naming its resources "
        "and trust list"
    )


def test_serve_access_with_a_broken_config_says_what_is_wrong(tmp_path: Path) -> None:
    config = tmp_path / "as.json"
    config.write_text(json.dumps({"identifier": "https://as.example", "resource": []}))
    result = _serve("--config", str(config))
    assert result.returncode == 2
    expected = "aauth serve: error: access: unknown configuration members ['resource']"
    assert result.stderr.strip() == expected
