"""How the command line fails: one line on stderr, ``aauth VERB: error: …``, never a traceback.

Exit codes: 2 when the command line itself is wrong (:class:`UsageError`, argparse's checks),
1 when the command could not do its job (:class:`CommandFailed`, a missing file, a refused
connection, a protocol error), 130 after Ctrl+C.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from typing import NoReturn

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CommandFailed",
    "OneLineParser",
    "UsageError",
    "describe_failure",
    "report",
    "run_verb",
]

EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class UsageError(Exception):
    """The command line asks for something impossible; the message says what to change."""


class CommandFailed(Exception):
    """The command could not do its job; the message says why and, if it can, how to fix it."""


def report(verb: str | None, message: str) -> None:
    """Print ``aauth VERB: error: message`` (one line) on stderr."""
    prefix = f"aauth {verb}" if verb else "aauth"
    text = " ".join(message.split())  # one line, whatever the message held
    print(f"{prefix}: error: {text}", file=sys.stderr)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line pointing at ``--help``, exit 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _os_error(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else None
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError) and name:
        return f"{name} already exists; choose another path or remove it first"
    if isinstance(exc, FileNotFoundError) and name:
        return f"{name}: no such file or directory (does its folder exist?)"
    return f"{name}: {reason}" if name else reason


def describe_failure(exc: BaseException) -> str | None:
    """One line for an exception a user's mistake can cause; None for anything else (a bug)."""
    from aauth_signing.errors import AAuthError

    if isinstance(exc, CommandFailed | UsageError):
        return str(exc)
    if isinstance(exc, AAuthError):
        return f"{exc.code}: {exc.description}"
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, sqlite3.Error):
        return f"database: {exc}"
    if isinstance(exc, ValueError):
        return str(exc)
    import httpx

    if isinstance(exc, httpx.HTTPError):
        return str(exc) or type(exc).__name__
    return None


def run_verb(verb: str, command: Callable[[], int]) -> int:
    """Run one verb; its mistakes become one line and an exit code, Ctrl+C exits 130 quietly."""
    try:
        return command()
    except KeyboardInterrupt:
        print(file=sys.stderr)  # end the line ^C was echoed on, nothing more
        return EXIT_INTERRUPTED
    except UsageError as exc:
        report(verb, str(exc))
        return EXIT_USAGE
    except Exception as exc:
        message = describe_failure(exc)
        if message is None:
            raise
        report(verb, message)
        return EXIT_FAILURE
