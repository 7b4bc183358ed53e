"""Run the fuzz harnesses and report how many inputs each executed.

    python fuzz/run.py --seconds 60            # make fuzz: every harness, 60 s each
    python fuzz/run.py --runs 2000 signature_input jwt

Each harness runs in its own process (libFuzzer exits the process when it is done) with a
fresh temporary corpus seeded by the harness, a fixed ``-seed`` when ``--runs`` is given (so
a test run is reproducible), and crash artifacts written to ``--artifacts`` (default: the
temporary directory, i.e. discarded; libFuzzer prints the input either way).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
_DONE = re.compile(r"^Done (\d+) runs in (\d+) second", re.MULTILINE)


@dataclass(frozen=True)
class Outcome:
    """One harness run: its name, inputs executed, whether it held, and libFuzzer's output."""

    name: str
    executed: int
    ok: bool
    output: str


def harnesses() -> list[str]:
    """Every harness name (``fuzz_<name>.py``), sorted."""
    return sorted(p.stem.removeprefix("fuzz_") for p in HERE.glob("fuzz_*.py"))


def run_one(
    name: str,
    *,
    runs: int | None = None,
    seconds: int | None = None,
    artifacts: Path | None = None,
    instrument: bool = True,
) -> Outcome:
    """Fuzz one harness for ``runs`` inputs or ``seconds`` seconds. ``instrument=False``
    skips coverage instrumentation (a third of the start-up cost): the fuzzer then mutates
    the seeds blindly, enough for a smoke run, not for finding deep bugs."""
    script = HERE / f"fuzz_{name}.py"
    if not script.is_file():
        raise SystemExit(f"no harness named {name!r}; have {', '.join(harnesses())}")
    with tempfile.TemporaryDirectory(prefix=f"aauth-fuzz-{name}-") as scratch:
        corpus = Path(scratch) / "corpus"
        crashes = artifacts or Path(scratch)
        crashes.mkdir(parents=True, exist_ok=True)
        limits = [f"-runs={runs}", "-seed=1"] if runs is not None else []
        if seconds is not None:
            limits.append(f"-max_total_time={seconds}")
        command = [
            sys.executable,
            str(script),
            *limits,
            "-max_len=4096",
            "-timeout=20",
            "-rss_limit_mb=1024",
            "-print_final_stats=0",
            f"-artifact_prefix={crashes}{os.sep}",
            str(corpus),
        ]
        budget = (seconds or 0) + 300
        env = {**os.environ, "FUZZ_INSTRUMENT": "1" if instrument else "0"}
        done = subprocess.run(  # noqa: S603 (this interpreter running our own harness)
            command,
            capture_output=True,
            text=True,
            timeout=budget,
            check=False,
            cwd=scratch,
            env=env,
        )
    output = done.stdout + done.stderr
    counted = _DONE.search(output)
    executed = int(counted.group(1)) if counted else 0
    return Outcome(name, executed, done.returncode == 0 and counted is not None, output)


def _finding(output: str) -> str:
    """libFuzzer's report without the long list of instrumented modules."""
    lines = [line for line in output.splitlines() if not line.startswith("INFO: Instrumenting")]
    return "\n".join(lines[-80:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="harnesses to run (default: all)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--runs", type=int, help="inputs per harness")
    group.add_argument("--seconds", type=int, help="seconds per harness")
    parser.add_argument("--jobs", type=int, default=1, help="harnesses run at once")
    parser.add_argument("--artifacts", type=Path, help="keep crashing inputs here")
    parser.add_argument(
        "--no-instrument", action="store_true", help="no coverage feedback (quick smoke runs)"
    )
    options = parser.parse_args(argv)
    seconds = options.seconds
    if options.runs is None and seconds is None:
        seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    names = options.names or harnesses()

    def one(name: str) -> Outcome:
        return run_one(
            name,
            runs=options.runs,
            seconds=seconds,
            artifacts=options.artifacts,
            instrument=not options.no_instrument,
        )

    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        for outcome in pool.map(one, names):
            status = "ok" if outcome.ok else "FAILED"
            print(f"{outcome.name:<20} {outcome.executed:>10} inputs  {status}", flush=True)
            if not outcome.ok:
                failed += 1
                print(_finding(outcome.output), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
