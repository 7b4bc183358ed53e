"""docs/quickstart.md runs as written: its ``sh`` blocks in order, each ``aauth serve`` as a
real server process, on free ports instead of 8001-8003 (issue 12). The access logs the
servers wrote are checked too: one line per request with the AAuth outcome, no token."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from ..person.test_ps_restart import free_port
from .test_cli_live import Served, serve

QUICKSTART = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def _blocks() -> list[str]:
    text = QUICKSTART.read_text(encoding="utf-8")
    for documented in ("8001", "8002", "8003"):
        text = text.replace(documented, str(free_port()))
    return BLOCK.findall(text)


def _shell(block: str, cwd: Path) -> str:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    outputs: list[str] = []
    servers: dict[str, Served] = {}
    with contextlib.ExitStack() as stack:
        for block in _blocks():
            words = shlex.split(block.strip())
            if words[:2] == ["aauth", "serve"]:
                role, port = words[2], int(words[words.index("--port") + 1])
                options = [w for w in words[3:] if w not in ("--port", str(port))]
                servers[role] = stack.enter_context(
                    serve(tmp_path, role, port, *options, cwd=tmp_path)
                )
            else:
                outputs.append(_shell(block, tmp_path))
    enrolled, fetched = outputs[-2], outputs[-1]
    assert enrolled.startswith("agent: aauth:assistant@127.0.0.1:")
    assert (tmp_path / "agent.token").stat().st_mode & 0o077 == 0
    assert fetched.startswith("HTTP/1.1 200 OK\n")
    assert json.loads(fetched.split("\n\n", 1)[1])["scope"] == ["data.read"]

    token = (tmp_path / "agent.token").read_text().strip()
    resource = servers["resource"]
    log = resource.log.read_text()
    assert f"resource {resource.url} listening on {resource.url}" in log
    assert "decision=challenged error=auth_token_required requirement=auth-token" in log
    allowed = r'"GET /data" 200 [0-9.]+ms scheme=jwt agent=aauth:assistant@\S+ decision=allowed'
    assert re.search(allowed, log)
    person = servers["person"].log.read_text()
    assert re.search(r'"POST /token" 200 .* scheme=jwt agent=aauth:assistant@', person)
    for served in servers.values():
        text = served.log.read_text()
        assert "Traceback" not in text
        assert token not in text
        assert "eyJ" not in text  # no token of any kind
