"""What every fuzz harness shares: the one rule it checks, seeds, and the atheris entry point.

The rule: a parser or verifier fed anything at all either returns or raises one of the
library's own errors (:class:`aauth_signing.SignatureError`, :class:`aauth.errors.AAuthError`);
any other exception escaping is a finding (a 500 waiting to happen). atheris reports it with
its traceback and the input that caused it, and exits non-zero.

A harness module calls :func:`main` with its target and seeds. Seeds are written into the
first corpus directory on the command line (``fuzz/run.py`` passes a temporary one), so the
fuzzer starts from well-formed values and mutates from there.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from functools import cache
from pathlib import Path
from typing import Any

import atheris


def instrumented(*modules: str) -> AbstractContextManager[Any]:
    """Wrap a harness's imports in this so the fuzzer sees coverage of ``modules`` (and their
    submodules; default: both packages). Instrumenting only what a harness targets keeps
    start-up short: importing ``aauth`` imports most of it."""
    if os.environ.get("FUZZ_INSTRUMENT", "1") == "0":
        return nullcontext()
    include = list(modules) or ["aauth", "aauth_signing", "http_sf"]
    return atheris.instrument_imports(include=include)


@cache
def library_errors() -> tuple[type[Exception], ...]:
    """The only exceptions a parser may raise for bad input. Imported on first use, after the
    harness has imported (and instrumented) its targets."""
    from aauth_signing import SignatureError

    from aauth.errors import AAuthError

    return (SignatureError, AAuthError)


def attempt(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, or None when it raises a library error: lets one input
    go through several parsers in turn."""
    try:
        return function(*args, **kwargs)
    except library_errors():
        return None


def text(data: bytes) -> str:
    """Header text as an ASGI server hands it over: the raw bytes decoded as Latin-1."""
    return data.decode("latin-1")


def main(target: Callable[[bytes], None], seeds: Sequence[bytes | str]) -> None:
    """Fuzz ``target`` until libFuzzer's limits (``-runs``, ``-max_total_time``) are reached."""

    errors = library_errors()

    def one_input(data: bytes) -> None:
        with suppress(*errors):
            target(data)

    corpora = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    if corpora:
        first = Path(corpora[0])
        first.mkdir(parents=True, exist_ok=True)
        for index, seed in enumerate(seeds):
            raw = seed.encode("latin-1") if isinstance(seed, str) else seed
            (first / f"seed-{index:03d}").write_bytes(raw)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
