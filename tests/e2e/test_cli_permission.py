"""``aauth mission permission|audit`` against a running world (§F.9): a granted action exits
0, a denied one exits 1 with one line, so ``aauth mission permission … && act`` never acts on
a denial (AG-32); ``audit`` records the action for the person (PS-22)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import httpx
import pytest

from aauth.agent.poller import InteractionPrompt
from aauth.cli import main
from aauth.demo.consent import PERSON, person_server_factory
from aauth.demo.person import Person
from aauth.demo.world import World, running_world
from aauth.keys import generate_key, private_jwk

from ..person.conftest import wait_until
from .conftest import Recorder
from .test_e2e_missions import approve_mission, person_browser

_PROMPT = re.compile(r"Open (\S+) \(code (\S+)\) to approve")


def agent_options(world: World, tmp_path: Path) -> list[str]:
    """The world's agent as command-line options, under a freshly approved mission."""
    mission, _ = approve_mission(world)
    signer = world.signer
    assert signer.agent_token is not None
    key = tmp_path / "agent.jwk"
    key.write_text(json.dumps(private_jwk(signer.key)))
    mission_file = tmp_path / "mission.json"
    mission_file.write_text(json.dumps(mission.to_json()))
    return [
        "--key", str(key), "--agent-token", signer.agent_token, "--allow-loopback",
        "--mission", str(mission_file),
    ]  # fmt: skip


def test_ag32_ps22_permission_and_audit_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_world(Recorder(), person_server=person_server_factory()) as world:
        agent = agent_options(world, tmp_path)
        capsys.readouterr()
        approved_tool = ["mission", "permission", *agent, "--tool", "Summarise"]
        assert main(approved_tool) == 0
        assert json.loads(capsys.readouterr().out) == {"permission": "granted"}

        outcome: list[int] = []
        ask = ["mission", "permission", *agent, "--tool", "SendEmail"]
        ask += ["--parameters", '{"to": "alice"}']
        asking = threading.Thread(target=lambda: outcome.append(main(ask)), daemon=True)
        asking.start()
        shown: list[str] = []

        def prompted() -> bool:
            shown.append(capsys.readouterr().err)
            return _PROMPT.search("".join(shown)) is not None

        wait_until(prompted, timeout=30)
        found = _PROMPT.search("".join(shown))
        assert found is not None
        link = found.group(1)
        with httpx.Client(timeout=30) as browser:
            person = Person(PERSON, str(world.extras["password"]), browser)
            prompt = InteractionPrompt(link.split("?", 1)[0], found.group(2), pending_url="")
            assert "Action denied" in person.decide(prompt, "deny").text
        asking.join(timeout=30)
        assert outcome == [1]  # denied: a script's `&& act` never runs
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert line.startswith("aauth mission: error: denied: permission to 'SendEmail'")

        record = ["mission", "audit", *agent, "--tool", "Summarise", "--result", '{"ok": true}']
        assert main(record) == 0
        browser_person = person_browser(world)
        with browser_person.client:
            assert "Summarise" in browser_person.visit(f"{world.person_server}/audit").text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["permission"], "needs --tool NAME"),
        (["audit", "--tool", "X"], "needs --mission FILE"),
        (["permission", "--tool", "X", "--parameters", "[1]"], "--parameters must be a JSON"),
    ],
)
def test_mistakes_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    key = tmp_path / "agent.jwk"
    key.write_text(json.dumps(private_jwk(generate_key())))
    argv = ["mission", extra[0], "--key", str(key), "--agent-token", "e30.e30.e30", *extra[1:]]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert message in line
