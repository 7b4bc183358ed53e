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

__all__ = ["PHASES", "run_demos"]

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


def run_demos(which: str, printer: Printer | None = None, *, manual: bool = False) -> int:
    """Run one phase (``"1"``) or every phase (``"all"``); returns a process exit code.

    ``manual`` lets a person approve in a browser where a phase asks for consent.
    """
    printer = printer or Printer()
    numbers = sorted(PHASES) if which == "all" else [int(which)]
    failed = []
    for number in numbers:
        if number not in PHASES:
            print(f"no demo for phase {number}; available: {sorted(PHASES)}", file=printer.out)
            return 2
        try:
            PHASES[number](printer, manual)
        except Exception as exc:  # a failed demo is reported, then the next one runs
            failed.append(number)
            print(f"✗ phase {number} failed: {exc!r}", file=printer.out)
        else:
            print(f"✓ phase {number} passed", file=printer.out)
    if failed:
        print(f"\n{len(failed)} of {len(numbers)} demos failed: {failed}", file=printer.out)
        return 1
    print(f"\nall {len(numbers)} demos passed", file=printer.out)
    return 0
