"""Run every ``bench/bench_*.py`` in turn; exit non-zero when any of them fails.

Each script runs in its own interpreter (the one running this file), so one benchmark's
warm caches never flatter the next. Run: ``.venv/bin/python bench/run.py``
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    scripts = sorted(Path(__file__).resolve().parent.glob("bench_*.py"))
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], check=False).returncode != 0:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed or not scripts else 0


if __name__ == "__main__":
    raise SystemExit(main())
