"""The benchmark a search command replays against, and what its output says about it first:
synthetic numbers, partial coverage, what the queries read (``--search-repeat``)."""

from __future__ import annotations

import argparse

import nasbench_sim
from nasbench_sim.bench import Benchmark
from nasbench_sim.errors import QueryError

__all__ = [
    "coverage_note",
    "open_for_search",
    "reads_note",
    "search_notes",
    "synthetic_banner",
    "with_search_repeat",
]


def open_for_search(args: argparse.Namespace) -> Benchmark:
    """The benchmark ``search`` and ``compare`` replay against: ``--table``, read as
    ``--search-repeat`` says."""
    return with_search_repeat(nasbench_sim.open(args.table), args)


def with_search_repeat(bench: Benchmark, args: argparse.Namespace) -> Benchmark:
    """``bench`` read as ``--search-repeat`` says (see
    :meth:`~nasbench_sim.bench.Benchmark.with_default_repeat`)."""
    repeat = getattr(args, "search_repeat", None)
    if repeat is None:
        return bench
    try:
        return bench.with_default_repeat(repeat)
    except QueryError as exc:  # the same typed error, naming the flag
        raise QueryError(f"--search-repeat {repeat}: {exc}") from None


def coverage_note(bench: Benchmark) -> str | None:
    """What a search on a table that covers only part of its space does (``None``: it covers
    every cell)."""
    if bench.covers_space:
        return None
    n, size = int(bench.candidate_cells.size), bench.space.size
    return (
        f"note: the table covers {n:,} of the {size:,} cells of {bench.space.name} "
        f"({bench.distinct_cells.size:,} rows): strategies draw, mutate and step only among "
        "them, and regret is measured against the best covered cell"
    )


def search_notes(bench: Benchmark) -> list[str]:
    """What a search's output says first about its benchmark: synthetic, partial coverage, a
    ``--search-repeat`` other than the draw."""
    return [n for n in (synthetic_banner(bench), coverage_note(bench), reads_note(bench)) if n]


def reads_note(bench: Benchmark) -> str | None:
    """What searches read when ``--search-repeat`` is not the default draw (``None``: the
    draw, one stored training run per cell, as a real search sees one)."""
    reads = bench.source.reads
    if not reads:
        return None
    if bench.default_repeat == "mean":
        return (
            f"note: every query reads {reads} (--search-repeat mean): the seeds' noise is "
            "averaged away, so these regrets are of a less noisy benchmark than any real "
            "search faces"
        )
    return f"note: every query reads {reads} (--search-repeat), for every cell and run seed"


def synthetic_banner(bench: Benchmark) -> str | None:
    """The warning printed before any output computed from synthetic numbers."""
    if not bench.source.synthetic:
        return None
    what = "this is" if bench.source.kind == "table" else "this surrogate was fitted on"
    return (
        f"NOTE: {what} a SYNTHETIC table (a parametric stand-in for tests and demos), "
        "not a training result."
    )
