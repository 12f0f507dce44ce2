"""Many seeded runs of many strategies: the data behind a comparison.

:func:`run_many` replays every (strategy, seed) pair, optionally on several processes, and
returns one long query-log frame (a ``strategy`` and a ``seed`` column added to
:data:`~nasbench_sim.search.run.LOG_COLUMNS`). :func:`parse_budget` reads the budget forms the
CLI accepts.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.bench.clock import Budget
from nasbench_sim.bench.tabular import Benchmark
from nasbench_sim.search.registry import strategy_class
from nasbench_sim.search.run import final_regret, run

__all__ = ["Comparison", "median_full_training_time", "parse_budget", "run_many"]

_BUDGET_RE = re.compile(r"^\s*(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>x|s|h|q)?\s*$")


def median_full_training_time(bench: Benchmark) -> float:
    """Median over the table's rows of the time to train one cell for all epochs, seconds."""
    table = getattr(bench, "table", None)
    if table is not None:
        return float(np.nanmedian(table.cost["train_time_s"])) * bench.n_epochs
    sample = bench.space.sample_indices(np.random.default_rng(0), 512)
    return float(np.median(bench.query_many(sample, seed="mean").train_time))


def parse_budget(text: str | float | int, bench: Benchmark) -> Budget:
    """Read a budget: ``"150x"`` (150 median full trainings of this table, in simulated time),
    ``"3600"``/``"3600s"`` (simulated seconds), ``"2h"`` (hours) or ``"100q"`` (queries).

    A table without recorded times (``bench.time_unit == "epoch"``) is budgeted in queries:
    ``"150x"`` means 150 queries there, and a budget in seconds or hours is refused.

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> parse_budget("100q", TabularBenchmark(make_synthetic_table(0, cells=20))).queries
        100
    """
    m = _BUDGET_RE.match(str(text))
    if m is None:
        raise ValueError(
            f"cannot read the budget {text!r}; use e.g. '150x' (median full trainings), "
            "'36000s' or '36000' (simulated seconds), '10h' (hours) or '200q' (queries)"
        )
    num = float(m["num"])
    if num <= 0:
        raise ValueError(f"the budget must be positive, got {text!r}")
    unit = m["unit"] or "s"
    if getattr(bench, "time_unit", "s") == "epoch" and unit in ("x", "s", "h"):
        if unit != "x":
            raise ValueError(
                f"this table records no training times, so a budget of {text!r} in simulated "
                "time means nothing; budget it in queries: '150x' (150 full trainings = 150 "
                "queries) or '200q'"
            )
        unit, num = "q", float(math.ceil(num))
    if unit == "q":
        if num != int(num):
            raise ValueError(f"a query budget must be a whole number, got {text!r}")
        return Budget(queries=int(num))
    if unit == "x":
        return Budget(time_s=num * median_full_training_time(bench))
    return Budget(time_s=num * (3600.0 if unit == "h" else 1.0))


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`run_many`.

    Attributes:
        runs: every query log, with ``strategy`` and ``seed`` columns.
        final: one row per run: ``strategy``, ``seed``, ``final_regret``, ``n_queries``,
            ``wall_time_s``.
        budget: the budget every run had.
        settings: the arguments, for the record.
    """

    runs: pd.DataFrame
    final: pd.DataFrame
    budget: Budget
    settings: dict[str, Any]


# Worker-process cache: the benchmark is sent once per process by the pool initializer, not
# once per task. Only ever set inside pool workers.
_WORKER_BENCH: list[Benchmark] = []


def _init_worker(bench: Benchmark, single_thread: bool = False) -> None:
    _WORKER_BENCH[:] = [bench]
    if single_thread:
        # One process per core: native thread pools (OpenMP, BLAS) inside a worker would only
        # fight the other workers for the same cores.
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)


def _run_chunk(
    name: str,
    seeds: Sequence[int],
    budget: Budget,
    kw: dict[str, Any],
    strategy_kwargs: dict[str, Any] | None = None,
) -> list[tuple[str, int, pd.DataFrame, dict[str, Any]]]:
    bench = _WORKER_BENCH[0]
    out = []
    for s in seeds:
        r = run(name, bench, budget, s, strategy_kwargs=strategy_kwargs, **kw)
        out.append((name, s, r.log, r.meta))
    return out


def run_many(
    bench: Benchmark,
    strategies: Sequence[str],
    seeds: Sequence[int],
    budget: Budget,
    *,
    n_workers: int = 1,
    n_jobs: int = 1,
    charge_strategy_time: bool = False,
    strategy_kwargs: Mapping[str, dict[str, Any]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Comparison:
    """Run every strategy with every seed against ``bench``.

    Args:
        bench: the benchmark (each run uses ``bench.with_run_seed(seed)``).
        strategies: registered strategy names.
        seeds: run seeds; a seed fixes the strategy's RNG and the benchmark's repeats, so all
            strategies with the same seed see the same noise (common random numbers).
        budget: the budget of every run.
        n_workers: simulated parallel workers per run.
        n_jobs: operating-system processes to spread the runs over (``-1``: all cores).
        charge_strategy_time: add each strategy's measured compute time to its clock.
        strategy_kwargs: per strategy name, keyword arguments of its constructor (e.g. the
            stored super-networks of a weight-sharing strategy).
        progress: called with the number of runs just finished.
    """
    for name in strategies:
        strategy_class(name)  # fail fast with the list of valid names
    if not seeds:
        raise ValueError("run_many needs at least one seed")
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1 or -1, got {n_jobs}")
    kw = {"n_workers": n_workers, "charge_strategy_time": charge_strategy_time}
    skw = {k: dict(v) for k, v in (strategy_kwargs or {}).items()}
    seeds = [int(s) for s in seeds]
    results: list[tuple[str, int, pd.DataFrame, dict[str, Any]]] = []
    if n_jobs == 1:
        _init_worker(bench)
        try:
            for name in strategies:
                for s in seeds:
                    results.extend(_run_chunk(name, [s], budget, kw, skw.get(name)))
                    if progress:
                        progress(1)
        finally:
            _WORKER_BENCH.clear()
    else:
        # Small chunks keep both processes busy whatever the per-strategy cost.
        per = max(1, math.ceil(len(seeds) / (4 * n_jobs)))
        chunks = [(n, seeds[i : i + per]) for n in strategies for i in range(0, len(seeds), per)]
        with ProcessPoolExecutor(n_jobs, initializer=_init_worker, initargs=(bench, True)) as pool:
            futures = [pool.submit(_run_chunk, n, c, budget, kw, skw.get(n)) for n, c in chunks]
            for fut in futures:
                part = fut.result()
                results.extend(part)
                if progress:
                    progress(len(part))
    frames = []
    final_rows = []
    for name, s, log, meta in results:
        frames.append(log.assign(strategy=name, seed=s))
        final_rows.append(
            {
                "strategy": name,
                "seed": s,
                "final_regret": final_regret(log, budget.time_s),
                "n_queries": len(log),
                "wall_time_s": meta["wall_time_s"],
            }
        )
    runs = pd.concat(frames, ignore_index=True)
    runs["strategy"] = runs["strategy"].astype("category")
    settings = {
        "strategies": list(strategies),
        "seeds": seeds,
        "budget_time_s": budget.time_s,
        "budget_queries": budget.queries,
        **kw,
    }
    return Comparison(runs, pd.DataFrame(final_rows), budget, settings)
