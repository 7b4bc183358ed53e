"""The ``aauth`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from .demo.runner import run_demos

    return run_demos(args.phase)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aauth", description="AAuth protocol tools")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run protocol phase demos over loopback HTTP")
    demo.add_argument("phase", help="a phase number, or 'all'")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
