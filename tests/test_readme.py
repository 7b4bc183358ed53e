"""Every ```python block in README.md runs, in order, in one namespace: the docs can't rot."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from aauth.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_readme_examples_run() -> None:
    blocks = BLOCK.findall(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no python examples"
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, code in enumerate(blocks, 1):
        exec(compile(code, f"README.md block {number}", "exec"), namespace)


def test_readme_sign_and_decode_commands_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's keygen, sign and decode lines work as written (issue 12)."""
    text = README.read_text(encoding="utf-8")
    wanted = ("aauth keygen --out", "aauth sign --key", "aauth decode @")
    lines = [line.split("#")[0].strip() for line in text.splitlines() if line.startswith(wanted)]
    assert len(lines) == 3, lines
    monkeypatch.chdir(tmp_path)
    for line in lines:
        command, _, redirect = line.partition(">")
        assert main(shlex.split(command)[1:]) == 0, line
        out = capsys.readouterr().out
        if redirect:
            Path(redirect.strip()).write_text(out)
    decoded = json.loads(out)
    assert decoded["Signature-Key"]["members"]["sig"]["scheme"] == "hwk"
    assert decoded["Signature-Input"]["signatures"]["sig"]["covered"][0] == "@method"
    assert decoded["Signature"]["signatures"]["sig"] == "64 bytes"
