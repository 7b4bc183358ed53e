"""Timing shared by the benchmarks: library and baseline measured alternately, best of N.

Alternating the two in one loop means both see the same machine load, so the ratio is
stable even when the absolute figures are not.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable


def alternating(
    library: Callable[[], None],
    baseline: Callable[[], None],
    operations: int,
    *,
    setup: Callable[[], None] = lambda: None,
    repeats: int = 15,
) -> tuple[float, float]:
    """µs per operation for ``library`` and ``baseline``: each the fastest of ``repeats``
    runs, where one run of a callable performs ``operations`` operations."""
    library_times, baseline_times = [], []
    for _ in range(repeats):
        setup()
        library_times.append(timeit.timeit(library, number=1))
        baseline_times.append(timeit.timeit(baseline, number=1))
    return min(library_times) / operations * 1e6, min(baseline_times) / operations * 1e6


def report(name: str, library: float, baseline: float, target: float, above: bool) -> str:
    """One result line; ``above`` is whether a ratio *above* ``target`` misses it."""
    ratio = library / baseline
    missed = ratio > target if above else ratio < target
    sign = "≤" if above else "≥"
    verdict = "  MISSES TARGET" if missed else ""
    return (
        f"{name:40s} {library:8.1f} µs  baseline {baseline:7.1f} µs  ratio {ratio:5.3f}"
        f"  (target {sign} {target}){verdict}"
    )
