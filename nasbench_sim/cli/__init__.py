"""The ``nasbench-sim`` command line. All argument parsing lives in this package: one module
per command group, each with ``register(subparsers)`` that adds its commands and binds a
handler ``func(args) -> int``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nasbench_sim.errors import NasBenchSimError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from nasbench_sim.cli import core

    parser = argparse.ArgumentParser(
        prog="nasbench-sim",
        description="Build tabular NAS benchmarks, replay searches, compare strategies.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (core, *_command_modules()):
        module.register(sub)
    return parser


_COMMAND_MODULES = ("search", "compare", "generate", "predict", "oneshot", "importing")
"""Command groups besides ``core``, one module each under ``nasbench_sim.cli``."""


def _command_modules() -> list:
    import importlib

    out = []
    for name in _COMMAND_MODULES:
        try:
            out.append(importlib.import_module(f"nasbench_sim.cli.{name}"))
        except ModuleNotFoundError as exc:  # a group not yet part of this checkout
            if exc.name != f"nasbench_sim.cli.{name}":
                raise
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except NasBenchSimError as exc:
        print(f"nasbench-sim: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        print(f"nasbench-sim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
