"""The command line: keygen, sign, verify and decode round-trip without a network."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from aauth.agent.poller import Clarification
from aauth.cli import _answerer, main


def keygen(tmp_path: Path) -> Path:
    path = tmp_path / "agent.jwk"
    assert main(["keygen", "--out", str(path)]) == 0
    return path


def test_keygen_writes_a_private_jwk_readable_only_by_its_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = keygen(tmp_path)
    assert path.stat().st_mode & 0o077 == 0
    private = json.loads(path.read_text())
    public = json.loads(capsys.readouterr().out)
    assert private["alg"] == "Ed25519"
    assert "d" in private
    assert "d" not in public
    assert public["kid"] == private["kid"]


def test_sign_then_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = keygen(tmp_path)
    capsys.readouterr()
    url = "https://api.example/items?page=2"
    assert main(["sign", "--key", str(key), "GET", url, "-H", "Accept: application/json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    headers = [arg for line in lines for arg in ("-H", line)]
    assert main(["verify", "GET", url, "-H", "Accept: application/json", *headers]) == 0
    assert "scheme=hwk" in capsys.readouterr().out
    assert main(["verify", "GET", url + "&x=1", *headers]) == 1
    assert "invalid_signature" in capsys.readouterr().err


def test_decode_token_and_headers(capsys: pytest.CaptureFixture[str]) -> None:
    from aauth import KeySet, generate_key, issue_agent_token

    token = issue_agent_token(
        KeySet.generate(),
        iss="https://ap.example",
        sub="aauth:bot@ap.example",
        cnf_jwk=generate_key().public_key(),
    )
    assert main(["decode", token]) == 0
    decoded = json.loads(capsys.readouterr().out)
    assert decoded["header"]["typ"] == "aa-agent+jwt"
    assert decoded["claims"]["sub"] == "aauth:bot@ap.example"
    assert main(["decode", f'sig=jwt;jwt="{token}"']) == 0
    member = json.loads(capsys.readouterr().out)["members"]["sig"]
    assert member["scheme"] == "jwt"
    assert member["jwt"]["claims"]["iss"] == "https://ap.example"
    assert main(["decode", "requirement=agent-token"]) == 0
    assert json.loads(capsys.readouterr().out)["requirement"] == "agent-token"


def test_fetch_reports_protocol_errors_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aauth import KeySet, generate_key, issue_agent_token
    from aauth.keys import private_jwk

    key = generate_key()
    key_file = tmp_path / "agent.jwk"
    key_file.write_text(json.dumps(private_jwk(key)))
    expired = issue_agent_token(
        KeySet.generate(),
        iss="https://ap.example",
        sub="aauth:bot@ap.example",
        cnf_jwk=key.public_key(),
        now=1_000_000,
    )
    code = main(["fetch", "--key", str(key_file), "--agent-token", expired, "https://a.example/"])
    assert code == 1
    assert "aauth fetch: " in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _question(text: str = "Why?") -> Clarification:
    return Clarification(text, 120.0, (), "http://127.0.0.1:1/pending/x")


def test_fetch_answers_questions_from_flags_then_the_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal("From the terminal.\n\n"))
    answer = _answerer(["From the flag."])
    assert answer is not None
    assert answer(_question("First?")) == "From the flag."
    assert answer(_question("Second?")) == "From the terminal."
    assert answer(_question("Third?")) is None  # an empty line withdraws
    assert answer(_question("Fourth?")) is None  # end of input too
    err = capsys.readouterr().err
    assert "The person asks: First?" in err
    assert "Answering: From the flag." in err


def test_fetch_without_a_terminal_or_answers_claims_no_clarification(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert _answerer([]) is None
    answer = _answerer(["only one"])
    assert answer is not None
    assert answer(_question()) == "only one"
    assert answer(_question()) is None
    assert "stdin is not a terminal" in capsys.readouterr().err


def test_sign_with_a_token_implies_the_jwt_scheme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aauth import KeySet, issue_agent_token
    from aauth.commands.inputs import load_key

    key = keygen(tmp_path)
    token = issue_agent_token(
        KeySet.generate(),
        iss="https://ap.example",
        sub="aauth:bot@ap.example",
        cnf_jwk=load_key(str(key)).public_key(),
    )
    (tmp_path / "agent.token").write_text(token + "\n")
    capsys.readouterr()
    argv = ["sign", "--key", str(key), "--token", f"@{tmp_path / 'agent.token'}"]
    assert main([*argv, "GET", "https://api.example/items"]) == 0
    out = capsys.readouterr().out
    assert f'Signature-Key: sig=jwt;jwt="{token}"' in out


def test_decode_signature_input_without_doubled_quotes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value = 'sig=("@method" "@authority" "content-type";sf);created=1'
    assert main(["decode", "--header", "Signature-Input", value]) == 0
    covered = json.loads(capsys.readouterr().out)["signatures"]["sig"]["covered"]
    assert covered == ["@method", "@authority", "content-type;sf"]


def test_demo_summary_and_manual_note(capsys: pytest.CaptureFixture[str]) -> None:
    from aauth.demo.printer import Printer
    from aauth.demo.runner import run_demos

    out = io.StringIO()
    assert run_demos("1", Printer(out), manual=True) == 0
    text = out.getvalue()
    assert "phase 1 has no manual step" in text
    assert text.rstrip().endswith("all 1 demo passed")
