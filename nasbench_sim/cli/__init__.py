"""The ``nasbench-sim`` command line. All argument parsing lives in this package: one module
per command group, each with ``register(subparsers)`` that adds its commands and binds a
handler ``func(args) -> int``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from nasbench_sim.errors import NasBenchSimError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from nasbench_sim.cli import core
    from nasbench_sim.cli.args import HelpFormatter

    parser = argparse.ArgumentParser(
        prog="nasbench-sim",
        description="Build tabular NAS benchmarks, replay searches, compare strategies.",
        formatter_class=HelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (core, *_command_modules()):
        module.register(sub)
    _format_all(parser, HelpFormatter)
    return parser


def _format_all(parser: argparse.ArgumentParser, formatter: type[argparse.HelpFormatter]) -> None:
    """One help formatter (defaults shown, no word broken) for every command; a flag without a
    help text still shows its default (argparse prints nothing for it otherwise)."""
    from nasbench_sim.cli.args import _no_default

    parser.formatter_class = formatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _format_all(sub, formatter)
        elif action.option_strings and not action.help and not _no_default(action):
            action.help = "default: %(default)s"


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
    from nasbench_sim.cli.args import join_negative_values

    parser = build_parser()
    try:
        args = parser.parse_args(
            join_negative_values(parser, sys.argv[1:] if argv is None else argv)
        )
    except SystemExit as exc:  # a bad flag: argparse printed why; --help exits 0 as usual
        if exc.code in (0, None):
            raise
        return int(exc.code) if isinstance(exc.code, int) else 2
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
    except KeyboardInterrupt:
        print(
            "\nnasbench-sim: interrupted; pending work cancelled (no partial output is left)",
            file=sys.stderr,
        )
        if argv is None:  # run as the program: leave now, not after seconds of interpreter
            sys.stdout.flush()  # teardown (the workers are gone, outputs are atomic)
            sys.stderr.flush()
            os._exit(130)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
