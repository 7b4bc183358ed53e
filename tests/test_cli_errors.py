"""A user's mistake on the command line is one line on stderr, ``aauth VERB: error: …``, and
an exit code: 2 when the command line is wrong, 1 when the command could not do its job,
130 after Ctrl+C. Never a traceback (issue 12)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aauth import __version__
from aauth.cli import main

from .e2e.test_cli_live import stderr_until
from .person.test_ps_restart import free_port


def fails(argv: list[str], capsys: pytest.CaptureFixture[str], code: int, *needles: str) -> str:
    """Run ``aauth argv``: exit ``code``, exactly one stderr line naming the verb, holding
    every needle; returns that line."""
    try:
        result = main(argv)
    except SystemExit as exc:  # argparse's own checks exit
        result = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert result == code, err
    assert len(lines) == 1, err
    verb = next(a for a in argv if not a.startswith("-"))
    assert lines[0].startswith(f"aauth {verb}: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "agent.jwk"
    assert main(["keygen", "--out", str(path)]) == 0
    return path


URL = "https://api.example/items"


def test_missing_key_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jwk"
    fails(["sign", "--key", str(missing), "GET", URL], capsys, 1, "does not exist", "keygen")


def test_missing_token_file(key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    argv = ["fetch", "--key", str(key), "--agent-token", "@nowhere.token", URL]
    fails(argv, capsys, 1, "token file nowhere.token does not exist")


def test_key_file_that_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jwk"
    bad.write_text("{ not json")
    fails(["sign", "--key", str(bad), "GET", URL], capsys, 1, "is not valid JSON")


def test_key_file_that_is_neither_jwk_nor_pem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    fails(["sign", "--key", str(bad), "GET", URL], capsys, 1, "cannot load private key")


def test_jwk_without_alg(key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jwk = json.loads(key.read_text())
    del jwk["alg"]
    key.write_text(json.dumps(jwk))
    capsys.readouterr()
    fails(["sign", "--key", str(key), "GET", URL], capsys, 1, "no 'alg'")


def test_keygen_onto_an_existing_file(key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    before = key.read_text()
    fails(["keygen", "--out", str(key)], capsys, 1, "already exists")
    assert key.read_text() == before


def test_keygen_into_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing" / "agent.jwk"
    fails(["keygen", "--out", str(target)], capsys, 1, "does its folder exist?")


@pytest.mark.parametrize(
    "argv",
    [
        ["decode", 'sig=jwt;jwt="a.b.c"'],
        ["decode", "--header", "Signature-Key", 'sig=jwt;jwt="a.b.c"'],
        ["decode", "eyJhbGciOi.e30.sig"],
    ],
    ids=["detected", "named", "bare"],
)
def test_decode_of_a_malformed_token(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    fails(argv, capsys, 1, "not a well-formed JWT")


def test_decode_of_garbage(capsys: pytest.CaptureFixture[str]) -> None:
    fails(["decode", "definitely not a header((("], capsys, 1, "--header")


def test_decode_of_an_unknown_header(capsys: pytest.CaptureFixture[str]) -> None:
    fails(["decode", "--header", "X-Nope", "x"], capsys, 1, "cannot decode header")


def test_unknown_demo(capsys: pytest.CaptureFixture[str]) -> None:
    fails(["demo", "foo"], capsys, 2, "no demo 'foo'", "all")


def test_url_without_a_scheme(key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    fails(["sign", "--key", str(key), "GET", "api.example/items"], capsys, 2, "https://")


def test_header_argument_without_a_colon(key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    fails(["sign", "--key", str(key), "GET", URL, "-H", "no-colon"], capsys, 2, "'Name: value'")


def test_scheme_jwt_without_a_token(key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    fails(["sign", "--key", str(key), "--scheme", "jwt", "GET", URL], capsys, 2, "--token")


def test_token_with_scheme_hwk(key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    argv = ["sign", "--key", str(key), "--scheme", "hwk", "--token", "x", "GET", URL]
    fails(argv, capsys, 2, "only with --scheme jwt")


def test_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    fails(["serve", "resource", "--port", "70000"], capsys, 2, "out of range")


def test_unknown_option(capsys: pytest.CaptureFixture[str]) -> None:
    fails(["sign", "--nope"], capsys, 2, "--help")


def test_loopback_url_without_the_switch(key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    argv = ["fetch", "--key", str(key), "--agent-token", "x", "http://127.0.0.1:8001/data"]
    fails(argv, capsys, 2, "--allow-loopback")


def test_enroll_at_a_loopback_provider_without_the_switch(
    key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    argv = ["enroll", "http://127.0.0.1:8002", "--enrollment-key", str(key)]
    argv += ["--key", str(tmp_path / "i.jwk"), "--agent-token", str(tmp_path / "a.token")]
    fails(argv, capsys, 2, "--allow-loopback")


def test_connection_refused_names_the_resource(
    key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aauth import KeySet, issue_agent_token
    from aauth.commands.inputs import load_key

    token = issue_agent_token(
        KeySet.generate(),
        iss="https://ap.example",
        sub="aauth:bot@ap.example",
        cnf_jwk=load_key(str(key)).public_key(),
    )
    url = f"http://127.0.0.1:{free_port()}/data"
    capsys.readouterr()
    argv = ["fetch", "--key", str(key), "--agent-token", token, "--allow-loopback", url]
    fails(argv, capsys, 1, f"resource at {url.removesuffix('/data')} refused the connection")


def test_connection_refused_names_the_agent_provider(
    key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = f"http://127.0.0.1:{free_port()}"
    capsys.readouterr()
    argv = ["enroll", provider, "--enrollment-key", str(key), "--allow-loopback"]
    argv += ["--key", str(tmp_path / "i.jwk"), "--agent-token", str(tmp_path / "a.token")]
    fails(argv, capsys, 1, f"agent provider at {provider} refused the connection")


def test_server_configuration_with_a_loopback_identifier_names_the_switch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "rs.json"
    config.write_text(json.dumps({"identifier": "http://127.0.0.1:8001"}))
    argv = ["serve", "resource", "--port", "8001", "--config", str(config)]
    fails(argv, capsys, 2, '"allow_loopback_http": true')


@pytest.mark.parametrize("member", ["key_file", "db"])
def test_server_files_in_a_missing_folder(
    tmp_path: Path, member: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ap.json"
    document = {"identifier": "http://127.0.0.1:8002", "allow_loopback_http": True, "agents": {}}
    document[member] = str(tmp_path / "missing" / "file")
    config.write_text(json.dumps(document))
    argv = ["serve", "agent-provider", "--port", "8002", "--config", str(config)]
    fails(argv, capsys, 2, "folder exist")


def test_person_server_database_in_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ps.json"
    document = {"identifier": "http://127.0.0.1:8003", "allow_loopback_http": True}
    config.write_text(json.dumps(document))
    database = tmp_path / "missing" / "ps.db"
    argv = ["serve", "person", "--port", "8003", "--config", str(config), "--db", str(database)]
    fails(argv, capsys, 2, "folder exist")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"aauth {__version__}"


@pytest.mark.parametrize("verb", ["serve", "demo", "keygen", "enroll", "sign", "decode", "fetch"])
def test_help_shows_defaults_and_examples(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([verb, "--help"])
    text = capsys.readouterr().out
    assert "examples:\n  aauth " + verb in text
    if verb == "serve":
        assert "(default: 8000)" in text
        assert "agent-provider  issues agent tokens" in text


def test_ctrl_c_during_a_manual_demo_exits_130_quietly() -> None:
    """Ctrl+C while ``demo 4 --manual`` waits for the person: exit 130, no traceback."""
    command = [sys.executable, "-m", "aauth.cli", "demo", "4", "--manual"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pipe = subprocess.PIPE
    process = subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True, env=env)
    stderr_until(process, "in a browser")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip() == ""


def test_ctrl_c_stops_a_server_with_130() -> None:
    """``aauth serve`` shuts down gracefully on Ctrl+C, then exits 130 like every other verb."""
    port = free_port()
    command = [sys.executable, "-m", "aauth.cli", "serve", "resource", "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pipe = subprocess.PIPE
    process = subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True, env=env)
    stderr_until(process, "Uvicorn running")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err


def test_every_verb_and_flag_is_described() -> None:
    from aauth.cli import build_parser

    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in verbs.choices.items():
        assert sub.description, name
        for action in sub._actions:
            assert action.help, f"aauth {name} {action.dest} has no description"


def test_an_unreachable_person_server_is_named_with_its_url(key: Path) -> None:
    """The role comes from where the failing request went: the agent token's ``ps``."""
    import httpx

    from aauth import KeySet, issue_agent_token
    from aauth.commands.fetch import roles_of
    from aauth.commands.inputs import load_key
    from aauth.commands.network import connection_failure

    token = issue_agent_token(
        KeySet.generate(),
        iss="https://ap.example",
        sub="aauth:bot@ap.example",
        cnf_jwk=load_key(str(key)).public_key(),
        ps="https://ps.example",
    )
    roles = roles_of("https://api.example/data", token)
    request = httpx.Request("POST", "https://ps.example/token")
    refused = httpx.ConnectError("[Errno 111] Connection refused", request=request)
    assert connection_failure(refused, roles) == (
        "person server at https://ps.example refused the connection"
    )
    slow = httpx.ReadTimeout("timed out", request=httpx.Request("GET", "https://api.example/x"))
    assert connection_failure(slow, roles) == (
        "resource at https://api.example did not answer in time (see --timeout)"
    )


def test_enroll_into_a_missing_folder_fails_before_asking(
    key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    argv = ["enroll", "https://ap.example", "--enrollment-key", str(key)]
    argv += ["--key", str(tmp_path / "i.jwk"), "--agent-token", str(tmp_path / "no" / "a.token")]
    fails(argv, capsys, 1, "does not exist")


def test_a_secret_file_in_a_missing_folder_is_named_as_asked(tmp_path: Path) -> None:
    from aauth.keys import write_secret

    target = tmp_path / "missing" / "agent.token"
    with pytest.raises(FileNotFoundError) as raised:
        write_secret(target, "x")
    assert raised.value.filename == str(target)
