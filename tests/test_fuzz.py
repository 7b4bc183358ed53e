"""Every fuzz harness in ``fuzz/`` runs briefly on each test run (``make fuzz`` runs them at
length): a parser fed anything raises only the library's own errors.

The harnesses run as subprocesses (libFuzzer ends the process it runs in), two at a time,
each for a fixed number of inputs from a fixed seed so a failure reproduces, and without
coverage instrumentation, which would triple the start-up time of this smoke run (``make
fuzz`` instruments).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

RUNS = int(os.environ.get("FUZZ_TEST_RUNS", "2000"))
FUZZ = Path(__file__).resolve().parent.parent / "fuzz"


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aauth_fuzz_run", FUZZ / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


RUNNER = _runner()
NAMES: list[str] = RUNNER.harnesses()


@pytest.fixture(scope="module")
def outcomes() -> dict[str, object]:
    """Every harness, run once for the module, two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = pool.map(lambda name: RUNNER.run_one(name, runs=RUNS, instrument=False), NAMES)
        return {outcome.name: outcome for outcome in done}


def test_every_parser_has_a_harness() -> None:
    expected = {
        "signature_input", "signature", "signature_key", "verify_request",
        "requirement", "mission", "access", "capabilities", "accept_signature",
        "jwt", "token_claims", "jwk", "json_body",
    }  # fmt: skip
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_harness_raises_only_library_errors(name: str, outcomes: dict[str, object]) -> None:
    outcome = outcomes[name]
    assert outcome.ok, RUNNER._finding(outcome.output)  # type: ignore[attr-defined]
    assert outcome.executed == RUNS  # type: ignore[attr-defined]
