"""Flags shared by several commands, their checks (argparse types: a bad value stops the
command before any work, with a message naming the flag and what it allows) and the help
formatter of every command."""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Sequence

__all__ = [
    "BUDGET_FORMS",
    "HelpFormatter",
    "add_budget_args",
    "add_oneshot_args",
    "add_search_repeat_arg",
    "add_table_arg",
    "budget_text",
    "fraction",
    "fractions",
    "jobs",
    "join_negative_values",
    "non_negative_int",
    "parse_seeds",
    "positive_int",
    "search_repeat",
    "seeds",
]

BUDGET_FORMS = "'150x' (median full trainings), '36000s' or '36000' (seconds), '10h', '200q'"
_BUDGET_RE = re.compile(r"^\s*(?P<num>[+-]?(\d+(\.\d*)?|\.\d+))\s*(?P<unit>x|s|h|q)?\s*$")


def _no_default(action: argparse.Action) -> bool:
    """The flag has no default worth showing (``0`` is one: not ``in (None, False)``)."""
    return action.default is None or action.default is False or action.default == argparse.SUPPRESS


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, and never breaks a word (a default list of names, a path)
    across lines."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_ = action.help or ""
        if "default" in help_ or _no_default(action):
            return help_
        return super()._get_help_string(action)


def _int_at_least(low: int, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return _int_at_least(1, text)


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0 (a seed)."""
    return _int_at_least(0, text)


def fraction(text: str) -> float:
    """An argparse type: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], e.g. 0.2; got {text!r}")
    return value


def jobs(text: str) -> int:
    """An argparse type: processes, an integer >= 1 or -1 (all cores)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(
            f"must be an integer >= 1, or -1 for all cores; got {text!r}"
        )
    return value


def parse_seeds(text: str) -> list[int]:
    """``"100"`` → 0..99, ``"5-9"`` → 5..9, ``"1,4,7"`` → those."""
    t = text.strip()
    try:
        if "," in t:
            values = [int(s) for s in t.split(",") if s.strip()]
        elif "-" in t[1:]:
            a, b = t.split("-", 1)
            values = list(range(int(a), int(b) + 1))
        else:
            values = list(range(int(t)))
    except ValueError:
        values = []
    if not values:
        raise ValueError(
            f"--seeds {text!r}: use N (>= 1: seeds 0..N-1), A-B (A <= B) or a comma-separated list"
        )
    from nasbench_sim.search.experiment import repeated_seeds

    twice = repeated_seeds(values)
    if twice:  # a seed's runs would be averaged in the paired statistics yet drawn twice
        raise ValueError(
            f"--seeds {text!r}: seed(s) {', '.join(map(str, twice))} given more than once; "
            "list each seed once"
        )
    return values


def seeds(text: str) -> list[int]:
    """An argparse type: :func:`parse_seeds`."""
    try:
        return parse_seeds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--seeds ")) from None


def budget_text(text: str) -> str:
    """An argparse type: a budget's form (the value of ``x`` needs the table; it is converted
    once the table is open)."""
    m = _BUDGET_RE.match(text)
    if m is None:
        raise argparse.ArgumentTypeError(f"cannot read {text!r}; use {BUDGET_FORMS}")
    if float(m["num"]) <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}; use {BUDGET_FORMS}")
    if m["unit"] == "q" and float(m["num"]) != int(float(m["num"])):
        raise argparse.ArgumentTypeError(f"a query budget is a whole number, got {text!r}")
    return text.strip()


def fractions(text: str) -> list[float]:
    """An argparse type: comma-separated numbers in (0, 1]."""
    try:
        values = [float(f) for f in text.split(",") if f.strip()]
    except ValueError:
        values = []
    if not values or any(not 0.0 < f <= 1.0 for f in values):
        raise argparse.ArgumentTypeError(
            f"must be numbers in (0, 1], e.g. 0.01,0.05,0.2; got {text!r}"
        )
    return values


TABLE_HELP = (
    "a table file (.h5), a saved surrogate (.npz), the --out of a build in progress, "
    "or 'synthetic[:SEED]' (default: the table shipped in data/)"
)


def add_table_arg(
    p: argparse.ArgumentParser, *, required: bool = False, help_text: str = TABLE_HELP
) -> None:
    """``--table``; ``help_text`` for a command that takes fewer kinds of table."""
    p.add_argument("--table", default=None, required=required, metavar="TABLE", help=help_text)


def add_budget_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--budget",
        type=budget_text,
        default="150x",
        help=f"simulated budget per run: {BUDGET_FORMS} (default: 150x)",
    )
    p.add_argument(
        "--workers", type=positive_int, default=1, help="simulated parallel workers (>= 1)"
    )
    p.add_argument(
        "--charge-strategy-time",
        action="store_true",
        help="add the strategy's own measured compute time to the simulated clock",
    )


def search_repeat(text: str) -> str | int | None:
    """``--search-repeat``: ``draw`` (``None``), ``mean``, or a stored repeat's index."""
    value = text.strip().lower()
    if value in ("draw", "mean"):
        return None if value == "draw" else "mean"
    if value.isdigit():
        return int(value)
    raise argparse.ArgumentTypeError(
        f"{text!r}: give 'draw' (one stored repeat per cell, drawn from the run seed), 'mean' "
        "(the mean over the stored repeats) or K, the K-th stored repeat (0, 1, ...)"
    )


def add_search_repeat_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--search-repeat",
        type=search_repeat,
        default=None,
        metavar="draw|mean|K",
        help=(
            "what the searches' queries read: 'draw', one stored training run per cell drawn "
            "from the run seed, as a real search sees one training; 'mean', the mean over the "
            "table's training seeds (their noise averaged away: no real search sees that); K, "
            "always the K-th stored repeat (default: draw)"
        ),
    )


def add_oneshot_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--spos-candidates",
        type=positive_int,
        default=None,
        metavar="N",
        help=(
            "spos: search the super-network with Guo et al.'s evolution over N one-shot "
            "evaluations and charge N cells' scoring time (default: rank every stored score, "
            "charge them all)"
        ),
    )


def join_negative_values(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``--budget -5q`` as ``--budget=-5q``: argparse reads a value that starts with ``-`` as
    a flag ("expected one argument"); joined, the flag's own check says what is wrong."""
    takes_value = _value_flags(parser)
    out: list[str] = []
    it = iter(argv)
    for token in it:
        if token in takes_value:
            nxt = next(it, None)
            if nxt is not None and re.match(r"^-[\d.]", nxt):
                out.append(f"{token}={nxt}")
                continue
            out.append(token)
            if nxt is not None:
                out.append(nxt)
            continue
        out.append(token)
    return out


def _value_flags(parser: argparse.ArgumentParser) -> set[str]:
    flags: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags |= _value_flags(sub)
        elif action.option_strings and action.nargs is None and action.const is None:
            flags |= set(action.option_strings)
    return flags
