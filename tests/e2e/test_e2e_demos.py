"""Every phase demo, and ``aauth demo all`` through the command line, runs to success."""

from __future__ import annotations

import io

import pytest

from aauth.cli import main
from aauth.demo.printer import Printer
from aauth.demo.runner import PHASES, run_demos


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_demo_phase_passes(phase: int) -> None:
    out = io.StringIO()
    assert run_demos(str(phase), Printer(out)) == 0, out.getvalue()
    assert f"✓ phase {phase} passed" in out.getvalue()


def test_aauth_demo_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "all"]) == 0, capsys.readouterr().out
    assert f"all {len(PHASES)} demos passed" in capsys.readouterr().out
