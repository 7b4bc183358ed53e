"""``aauth demo N|all``: runs the phase demos in order and reports each outcome."""

from __future__ import annotations

from collections.abc import Callable

from . import (
    phase1,
    phase2,
    phase3,
    phase4,
    phase5,
    phase6,
    phase7,
    phase8,
    phase9,
    phase10,
    phase11,
    phase12,
)
from .printer import Printer

__all__ = ["MANUAL_PHASES", "PHASES", "parse_phases", "run_demos"]

PHASES: dict[int, Callable[[Printer, bool], None]] = {
    1: phase1.run,
    2: phase2.run,
    3: phase3.run,
    4: phase4.run,
    5: phase5.run,
    6: phase6.run,
    7: phase7.run,
    8: phase8.run,
    9: phase9.run,
    10: phase10.run,
    11: phase11.run,
    12: phase12.run,
}


MANUAL_PHASES = frozenset({4, 5, 7, 8, 9, 12})
"""Phases where a person decides on the consent page, and so can do it in a browser."""


def parse_phases(which: str) -> list[int]:
    """The phases ``which`` names (``"3"`` or ``"all"``); ValueError listing the choices."""
    if which == "all":
        return sorted(PHASES)
    if which.isdigit() and int(which) in PHASES:
        return [int(which)]
    available = ", ".join(map(str, sorted(PHASES)))
    raise ValueError(f"no demo {which!r}; choose one of {available} or all")


def _demos(count: int) -> str:
    return f"{count} demo" if count == 1 else f"{count} demos"


def run_demos(which: str, printer: Printer | None = None, *, manual: bool = False) -> int:
    """Run one phase (``"1"``) or every phase (``"all"``); returns a process exit code.

    ``manual`` lets a person approve in a browser where a phase asks for consent.
    ValueError for a phase that has no demo.
    """
    printer = printer or Printer()
    numbers = parse_phases(which)
    failed = []
    for number in numbers:
        if manual and number not in MANUAL_PHASES:
            note = "has no manual step (no person decides); it runs by itself"
            print(f"phase {number} {note}", file=printer.out)
        try:
            PHASES[number](printer, manual)
        except Exception as exc:  # a failed demo is reported, then the next one runs
            failed.append(number)
            print(f"✗ phase {number} failed: {exc!r}", file=printer.out)
        else:
            print(f"✓ phase {number} passed", file=printer.out)
    if failed:
        summary = f"{len(failed)} of {_demos(len(numbers))} failed: {failed}"
        print(f"\n{summary}", file=printer.out)
        return 1
    print(f"\nall {_demos(len(numbers))} passed", file=printer.out)
    return 0
