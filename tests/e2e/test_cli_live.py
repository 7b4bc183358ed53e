"""The command line against live services: ``aauth serve ROLE`` as its own process, and
``aauth fetch`` running the whole agent flow against a running world."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from html import escape
from pathlib import Path

import httpx
import pytest

from aauth.agent.poller import InteractionPrompt
from aauth.cli import main
from aauth.demo.consent import PERSON, person_server_factory
from aauth.demo.person import Person
from aauth.demo.world import World, running_world
from aauth.keys import generate_key, private_jwk
from aauth.missions import ApprovedMission

from ..person.conftest import wait_until
from ..person.test_ps_restart import free_port
from .conftest import Recorder
from .test_e2e_missions import accept_when_reported, approve_mission

DOCUMENTS = {
    "resource": "aauth-resource.json",
    "agent-provider": "aauth-agent.json",
    "person": "aauth-person.json",
    "access": "aauth-access.json",
}


class Served:
    """A running ``aauth serve`` process: its URL, the metadata it published, its output."""

    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log
        self.metadata: dict[str, object] = {}
        self.returncode: int | None = None


@contextlib.contextmanager
def serve(
    tmp_path: Path, role: str, port: int, *options: str, cwd: Path | None = None
) -> Iterator[Served]:
    """``python -m aauth.cli serve ROLE --port PORT …`` (in ``cwd``) until its metadata
    document answers; terminated (SIGTERM) on exit, with its exit code recorded."""
    served = Served(f"http://127.0.0.1:{port}", tmp_path / f"{role}.log")
    document = f"{served.url}/.well-known/{DOCUMENTS[role]}"
    command = [sys.executable, "-m", "aauth.cli", "serve", role, "--port", str(port), *options]
    with served.log.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"aauth serve {role} exited: {served.log.read_text()}")
        try:
            response = httpx.get(document, timeout=1)
        except httpx.TransportError:
            return False
        served.metadata = response.json()
        return response.status_code == 200

    try:
        wait_until(ready, timeout=30)
        yield served
    finally:
        process.terminate()
        try:
            served.returncode = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def stderr_until(process: subprocess.Popen[str], marker: str) -> str:
    """What ``process`` wrote on stderr up to and including the line holding ``marker``."""
    assert process.stderr is not None
    shown = ""
    while marker not in shown:
        line = process.stderr.readline()
        assert line, f"{process.args} ended early: {shown}"
        shown += line
    return shown


def assert_shut_down_cleanly(served: Served) -> None:
    """SIGTERM ran uvicorn's graceful shutdown (lifespan included), which then re-raises the
    signal, so the exit status is the signal's."""
    assert served.returncode == -signal.SIGTERM
    assert "Application shutdown complete" in served.log.read_text()


@pytest.mark.parametrize("role", ["resource", "agent-provider"])
def test_serve_with_the_development_configuration(tmp_path: Path, role: str) -> None:
    with serve(tmp_path, role, free_port()) as served:
        assert served.metadata["issuer"] == served.url
        assert httpx.get(str(served.metadata["jwks_uri"])).json()["keys"]
    assert_shut_down_cleanly(served)
    assert "development configuration" in served.log.read_text()


def test_serve_person_with_its_config_and_database(tmp_path: Path) -> None:
    port = free_port()
    identifier = f"http://127.0.0.1:{port}"
    config, database = tmp_path / "ps.json", tmp_path / "ps.db"
    people = [{"id": "alice", "name": "Alice", "password": "correct horse"}]
    config.write_text(
        json.dumps({"identifier": identifier, "people": people, "allow_loopback_http": True})
    )
    options = ("--config", str(config), "--db", str(database))
    with serve(tmp_path, "person", port, *options) as served:
        assert served.metadata["issuer"] == identifier
        assert served.metadata["token_endpoint"] == f"{identifier}/token"
        login = httpx.get(f"{identifier}/login")
        assert login.status_code == 200
        assert "name=password" in login.text
    assert_shut_down_cleanly(served)
    assert database.stat().st_size > 0


def test_serve_person_without_a_config_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aauth.cli", "serve", "person", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "aauth serve: error: person: the person server needs a --config naming its people"
    )


@pytest.fixture
def live_world() -> Iterator[World]:
    """Resource, agent provider and a person server that pre-approves data.read."""
    factory = person_server_factory(auto_approve_scopes=["data.read"])
    with running_world(Recorder(), person_server=factory) as world:
        yield world


def test_fetch_runs_the_whole_flow(
    live_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = live_world.signer
    assert signer.agent_token is not None
    key = tmp_path / "agent.jwk"
    key.write_text(json.dumps(private_jwk(signer.key)))
    token = tmp_path / "agent.token"
    token.write_text(signer.agent_token + "\n")
    url = f"{live_world.resource}/data"
    argv = ["fetch", "-v", "--key", str(key), "--agent-token", f"@{token}", "--allow-loopback", url]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    answer = json.loads(out)
    assert (answer["items"], answer["subject"], answer["scope"]) == ([], None, ["data.read"])
    assert f"→ POST {live_world.person_server}/token" in err  # -v shows the exchange
    assert err.count(f"→ GET {url}") == 2  # challenged, then retried with the auth token


def test_fetch_with_the_token_inline(
    live_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = live_world.signer
    assert signer.agent_token is not None
    key = tmp_path / "agent.jwk"
    key.write_text(json.dumps(private_jwk(signer.key)))
    url = f"{live_world.resource}/data"
    argv = [
        "fetch",
        "--key",
        str(key),
        "--agent-token",
        signer.agent_token,
        "--allow-loopback",
        url,
    ]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["scope"] == ["data.read"]


def asked_and_approved(
    world: World, tmp_path: Path, arguments: list[str], question: str, answer: str
) -> tuple[str, str]:
    """Run ``aauth ARGUMENTS`` as the world's agent with ``--answer ANSWER``; the person opens
    the link it prints, asks ``question``, sees the answer (escaped) and approves. The
    command's stdout and everything it wrote to stderr."""
    signer = world.signer
    assert signer.agent_token is not None
    key = tmp_path / "agent.jwk"
    key.write_text(json.dumps(private_jwk(signer.key)))
    command = [sys.executable, "-m", "aauth.cli", *arguments, "--key", str(key)]
    command += ["--agent-token", signer.agent_token, "--allow-loopback", "--answer", answer]
    pipe = subprocess.PIPE
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe, text=True
    )
    shown = stderr_until(process, "Open ")
    found = re.search(r"Open (\S+) \(code (\S+)\)", shown)
    assert found is not None
    prompt = InteractionPrompt(found.group(1).split("?")[0], found.group(2), "")
    with httpx.Client(timeout=30) as browser:
        person = Person(PERSON, str(world.extras["password"]), browser)
        page = person.await_answer(person.ask(person.open(prompt), question))
        assert escape(answer, quote=False) in page.text
        assert person.press(page, "approve").status_code == 200
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"The person asks: {question}" in shown + err
    return out, shown + err


def test_fetch_answers_the_persons_question(tmp_path: Path) -> None:
    """Phase 8 from the command line: ``aauth fetch --answer`` replies to the question the
    person asks on the consent page, then the person approves."""
    with running_world(Recorder(), person_server=person_server_factory()) as world:
        fetch = ["fetch", f"{world.resource}/data"]
        out, _ = asked_and_approved(
            world, tmp_path, fetch, "What for?", "For your quarterly report."
        )
        assert json.loads(out)["scope"] == ["data.read"]


def test_mission_propose_answers_the_persons_question(tmp_path: Path) -> None:
    """Phase 12 from the command line: ``aauth mission propose --answer`` replies to the
    question the person asks on the proposal page, then the person approves."""
    with running_world(Recorder(), person_server=person_server_factory()) as world:
        propose = ["mission", "propose", "--description", "Read Q3 data"]
        propose += ["--resource", f"{world.resource}=data.read"]
        answer = "Only to read, <b>never</b> to write."
        out, _ = asked_and_approved(world, tmp_path, propose, "Will you write?", answer)
        assert json.loads(out)["approver"] == world.person_server


def test_serve_announces_itself_warns_of_another_port_and_logs_json(tmp_path: Path) -> None:
    """At startup: role, identifier and listen URL, and a warning when the identifier names
    another port; ``--log-format json``: every log line is one JSON object."""
    named, listening = free_port(), free_port()
    config = tmp_path / "rs.json"
    identifier = f"http://127.0.0.1:{named}"
    config.write_text(json.dumps({"identifier": identifier, "allow_loopback_http": True}))
    options = ("--config", str(config), "--log-format", "json")
    with serve(tmp_path, "resource", listening, *options) as served:
        httpx.get(f"{served.url}/data?code=SECRET")
    lines = served.log.read_text().splitlines()
    assert lines[0] == f"aauth serve: resource {identifier} listening on {served.url}"
    assert lines[1].startswith(f"aauth serve: warning: the identifier {identifier} names port")
    logged = [json.loads(line) for line in lines[2:]]
    (access,) = [entry for entry in logged if entry.get("path") == "/data"]
    assert access["status"] == 401
    assert access["logger"] == "aauth.access"
    assert access["scheme"] is None
    assert "SECRET" not in served.log.read_text()


def _credentials(world: World, tmp_path: Path) -> tuple[Path, str]:
    signer = world.signer
    assert signer.agent_token is not None
    key = tmp_path / "agent.jwk"
    key.write_text(json.dumps(private_jwk(signer.key)))
    return key, signer.agent_token


def test_fetch_writes_the_body_to_a_file(
    live_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, token = _credentials(live_world, tmp_path)
    output = tmp_path / "data.json"
    argv = ["fetch", "-o", str(output), "--timeout", "20", "--key", str(key)]
    argv += ["--agent-token", token, "--allow-loopback", f"{live_world.resource}/data"]
    assert main(argv) == 0
    assert json.loads(output.read_text())["scope"] == ["data.read"]
    assert capsys.readouterr().out == ""


def test_fetch_reports_the_status_of_an_http_error(
    live_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, token = _credentials(live_world, tmp_path)
    argv = ["fetch", "-i", "--key", str(key), "--agent-token", token, "--allow-loopback"]
    assert main([*argv, f"{live_world.resource}/nowhere"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("HTTP/1.1 404 Not Found\n")
    assert err.splitlines() == ["aauth fetch: error: the resource answered 404 Not Found"]


def test_enroll_writes_a_key_and_a_token_ready_for_fetch(
    live_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enrollment = tmp_path / "enrollment.jwk"
    enrollment.write_text(json.dumps(private_jwk(live_world.extras["enrollment_key"])))
    key, token = tmp_path / "laptop.jwk", tmp_path / "laptop.token"
    argv = ["enroll", live_world.agent_provider, "--enrollment-key", str(enrollment)]
    argv += ["--key", str(key), "--agent-token", str(token), "--allow-loopback"]
    assert main([*argv, "--instance", "laptop"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("agent: aauth:assistant.laptop@127.0.0.1:")
    assert f"key: {key} (created)" in out
    assert key.stat().st_mode & 0o077 == 0
    assert token.stat().st_mode & 0o077 == 0
    assert main([*argv, "--instance", "laptop"]) == 0  # again: the key is kept, the token new
    assert f"key: {key} (kept)" in capsys.readouterr().out
    url = f"{live_world.resource}/data"
    fetch = ["fetch", "--key", str(key), "--agent-token", f"@{token}", "--allow-loopback", url]
    assert main(fetch) == 0
    assert json.loads(capsys.readouterr().out)["scope"] == ["data.read"]


def test_enroll_with_a_key_the_provider_does_not_know_is_one_line(
    live_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = tmp_path / "stranger.jwk"
    assert main(["keygen", "--out", str(stranger)]) == 0
    capsys.readouterr()
    argv = ["enroll", live_world.agent_provider, "--enrollment-key", str(stranger)]
    argv += ["--key", str(tmp_path / "i.jwk"), "--agent-token", str(tmp_path / "t")]
    assert main([*argv, "--allow-loopback"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("aauth enroll: error: agent_token_refused: ")
    assert not (tmp_path / "t").exists()


def test_mission_propose_fetch_and_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``aauth mission propose`` (approved by policy once the agent is bound to its person),
    ``aauth fetch --mission`` under it, ``aauth mission complete`` accepted by the person."""
    factory = person_server_factory(auto_approve_missions=["data.read"])
    with running_world(Recorder(), person_server=factory) as world:
        approve_mission(world)  # the person's first approval binds the agent to them
        signer = world.signer
        assert signer.agent_token is not None
        key = tmp_path / "agent.jwk"
        key.write_text(json.dumps(private_jwk(signer.key)))
        agent = ["--key", str(key), "--agent-token", signer.agent_token, "--allow-loopback"]
        mission_file = tmp_path / "mission.json"
        propose = ["mission", "propose", *agent, "--description", "Read Q3 data"]
        propose += ["--resource", f"{world.resource}=data.read", "--out", str(mission_file)]
        assert main(propose) == 0, capsys.readouterr().err
        mission = ApprovedMission.from_json(
            json.loads(mission_file.read_text()), allow_loopback_http=True
        )
        assert mission.document["approved_scopes"] == {world.resource: ["data.read"]}
        capsys.readouterr()
        url = f"{world.resource}/data"
        assert main(["fetch", *agent, "-v", "--mission", str(mission_file), url]) == 0
        out, err = capsys.readouterr()
        assert json.loads(out)["scope"] == ["data.read"]
        assert f'aauth-mission: approver="{world.person_server}"' in err
        accepting = accept_when_reported(world, mission)
        complete = ["mission", "complete", *agent, "--mission", str(mission_file)]
        assert main([*complete, "--summary", "Read it"]) == 0
        accepting.join(timeout=30)
        assert json.loads(capsys.readouterr().out) == {"mission_status": "terminated"}
        assert main(["fetch", *agent, "--mission", str(mission_file), url]) == 1
        assert "mission_terminated" in capsys.readouterr().err


def test_mission_commands_report_mistakes_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "agent.jwk"
    key.write_text(json.dumps(private_jwk(generate_key())))
    token = "e30.e30.e30"
    agent = ["--key", str(key), "--agent-token", token, "--allow-loopback"]
    assert main(["fetch", *agent, "--mission", str(tmp_path / "none.json"), "http://x"]) == 1
    assert "cannot read the mission file" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"approver": "x"}')
    assert main(["mission", "complete", *agent, "--mission", str(tmp_path / "bad.json")]) == 1
    assert capsys.readouterr().err.startswith("aauth mission: error: invalid_request")
