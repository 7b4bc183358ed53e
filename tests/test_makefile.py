"""``make`` on a fresh clone says it is installing and shows pip's progress (issue 12)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_first_run_announces_the_install_and_is_not_quiet(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["make", "-n", f"VENV={venv}", f"{venv}/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert 'echo "installing dependencies (first run only)…"' in result.stdout
    installs = [line for line in result.stdout.splitlines() if "pip install" in line]
    assert len(installs) == 2
    assert not any("--quiet" in line or " -q" in line for line in installs)
