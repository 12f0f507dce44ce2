"""Many seeded runs of many strategies: the data behind a comparison.

:func:`run_many` replays every (strategy, seed) pair, optionally on several processes, and
returns :class:`Replays`: one long query-log frame (a ``strategy`` and a ``seed`` column added to
:data:`~nasbench_sim.search.run.LOG_COLUMNS`). :func:`parse_budget` reads the budget forms the
CLI accepts.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import signal
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.bench.base import Benchmark
from nasbench_sim.bench.clock import Budget
from nasbench_sim.checks import is_int
from nasbench_sim.registry import Registry
from nasbench_sim.search.registry import strategy_class
from nasbench_sim.search.run import final_regret, run

__all__ = [
    "Replays",
    "Scorer",
    "median_full_training_time",
    "parse_budget",
    "repeated_seeds",
    "run_many",
]

_BUDGET_RE = re.compile(r"^\s*(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>x|s|h|q)?\s*$")


def median_full_training_time(bench: Benchmark) -> float:
    """Median over the benchmark's cells of the time to train one cell for all epochs, seconds
    (:attr:`Benchmark.full_training_time`)."""
    return bench.full_training_time


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
    if bench.time_unit == "epoch" and unit in ("x", "s", "h"):
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
class Replays:
    """The outcome of :func:`run_many`.

    Attributes:
        runs: every query log, with ``strategy`` and ``seed`` columns.
        final: one row per run: ``strategy``, ``seed``, ``final_regret``, ``has_result`` (a
            query finished inside the budget; when it did and ``final_regret`` is NaN, the
            incumbent has no test value), ``n_queries``, ``wall_time_s``.
        diagnostics: one row per run and strategy counter: ``strategy``, ``seed``, ``name``,
            ``value`` (see :meth:`Strategy.diagnostics`).
        budget: the budget every run had.
        settings: the arguments, for the record.
    """

    runs: pd.DataFrame
    final: pd.DataFrame
    diagnostics: pd.DataFrame
    budget: Budget
    settings: dict[str, Any]


Scorer = Callable[[Benchmark, str, int, pd.DataFrame], pd.DataFrame]
"""Re-scores one run's query log where the run ran (a worker process): called with the
benchmark, the strategy's name, the run seed and the log; returns the log with its ``regret``
column replaced (and any columns added). It must pickle (a module-level function, or a
:func:`functools.partial` of one)."""


@dataclass(frozen=True)
class _Task:
    """Runs of one strategy for some seeds: what a worker process is sent."""

    name: str
    seeds: tuple[int, ...]
    budget: Budget
    options: dict[str, Any]
    strategy_kwargs: dict[str, Any] | None
    registry: Registry | None
    score: Scorer | None = None


_Outcome = tuple[str, int, pd.DataFrame, dict[str, Any]]


def _replay(bench: Benchmark, task: _Task) -> list[_Outcome]:
    out = []
    for s in task.seeds:
        r = run(
            task.name,
            bench,
            task.budget,
            s,
            strategy_kwargs=task.strategy_kwargs,
            registry=task.registry,
            **task.options,
        )
        log = r.log if task.score is None else task.score(bench, task.name, s, r.log)
        out.append((task.name, s, log, r.meta))
    return out


_IN_WORKER: dict[str, Benchmark] = {}
"""The benchmark of a worker process, set once by :func:`_init_worker` inside that process
(sent once per process, not once per task); never set in the calling process."""


def _init_worker(bench: Benchmark) -> None:
    _IN_WORKER["bench"] = bench
    # Ctrl-C reaches every process of the terminal's group: the caller handles it (and stops
    # the workers), so a worker ignores it instead of printing a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One process per core: native thread pools (OpenMP, BLAS) inside a worker would only
    # fight the other workers for the same cores.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _replay_in_worker(task: _Task) -> list[_Outcome]:
    return _replay(_IN_WORKER["bench"], task)


def _in_pool(
    bench: Benchmark, tasks: list[_Task], n_jobs: int, progress: Callable[[int], None] | None
) -> list[_Outcome]:
    """The tasks on ``n_jobs`` worker processes, results in task order. On any exception
    (Ctrl-C included) the pool is terminated at once: pending tasks are dropped and the
    workers end (a replay holds nothing worth keeping; it is recomputed from its seed)."""
    out: list[_Outcome] = []
    ctx = multiprocessing.get_context()
    with ctx.Pool(n_jobs, initializer=_init_worker, initargs=(bench,)) as pool:
        pending = [pool.apply_async(_replay_in_worker, (t,)) for t in tasks]
        for job in pending:
            part = job.get()
            out.extend(part)
            if progress:
                progress(len(part))
    # leaving the block terminates the pool (after an exception: before the work is done)
    return out


def _tasks(
    strategies: Sequence[str], seeds: list[int], per: int, common: dict[str, Any]
) -> list[_Task]:
    skw: Mapping[str, dict[str, Any]] = common["strategy_kwargs"]
    rest = {k: v for k, v in common.items() if k != "strategy_kwargs"}
    return [
        _Task(n, tuple(seeds[i : i + per]), strategy_kwargs=skw.get(n), **rest)
        for n in strategies
        for i in range(0, len(seeds), per)
    ]


def _has_result(log: pd.DataFrame, time_s: float | None) -> bool:
    """A query of ``log`` with a validation accuracy (not a failed training) finished by
    ``time_s`` (at all, when ``None``)."""
    if len(log) == 0:
        return False
    done = log if time_s is None else log[log["finish"] <= time_s]
    return bool(np.isfinite(done["valid_acc"].to_numpy(np.float64)).any())


def _collect(outcomes: list[_Outcome], budget: Budget) -> tuple[pd.DataFrame, ...]:
    frames, final_rows, diag_rows = [], [], []
    for name, s, log, meta in outcomes:
        frames.append(log.assign(strategy=name, seed=s))
        final_rows.append(
            {
                "strategy": name,
                "seed": s,
                "final_regret": final_regret(log, budget.time_s),
                "has_result": _has_result(log, budget.time_s),
                "n_queries": len(log),
                "wall_time_s": meta["wall_time_s"],
            }
        )
        diag_rows += [
            {"strategy": name, "seed": s, "name": k, "value": v}
            for k, v in meta["diagnostics"].items()
        ]
    runs = pd.concat(frames, ignore_index=True)
    runs["strategy"] = runs["strategy"].astype("category")
    diagnostics = pd.DataFrame(diag_rows, columns=["strategy", "seed", "name", "value"])
    return runs, pd.DataFrame(final_rows), diagnostics


def repeated_seeds(seeds: Sequence[int]) -> list[int]:
    """The seeds that occur more than once in ``seeds``, sorted."""
    return sorted(v for v, k in Counter(int(x) for x in seeds).items() if k > 1)


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
    registry: Registry | None = None,
    score: Scorer | None = None,
) -> Replays:
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
        registry: where the names are looked up (default: the core strategies;
            :data:`nasbench_sim.strategies.STRATEGIES` has them all).
        score: re-scores each run's log where it ran (see :data:`Scorer`; e.g. the
            multi-objective scores of :func:`~nasbench_sim.search.mo.experiment.run_many_mo`);
            ``final_regret`` is then read from the new ``regret`` column.
    """
    for name in strategies:
        strategy_class(name, registry)  # fail fast with the list of valid names
    if not seeds:
        raise ValueError("run_many needs at least one seed")
    twice = repeated_seeds(seeds)
    if twice:  # one seed's runs would be averaged in the paired statistics, drawn twice
        raise ValueError(f"seeds {twice} given more than once; list each seed once")
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if not is_int(n_jobs) or n_jobs < 1:
        raise ValueError(f"n_jobs must be an int >= 1 or -1 (all cores), got {n_jobs!r}")
    n_jobs = int(n_jobs)
    if not is_int(n_workers) or n_workers < 1:  # as run() checks it, before any run starts
        raise ValueError(f"n_workers must be a positive int, got {n_workers!r}")
    n_workers = int(n_workers)
    seeds = [int(s) for s in seeds]
    options = {"n_workers": n_workers, "charge_strategy_time": charge_strategy_time}
    common = {
        "budget": budget,
        "options": options,
        "registry": registry,
        "strategy_kwargs": {k: dict(v) for k, v in (strategy_kwargs or {}).items()},
        "score": score,
    }
    if n_jobs == 1:
        outcomes: list[_Outcome] = []
        for task in _tasks(strategies, seeds, 1, common):
            outcomes += _replay(bench, task)
            if progress:
                progress(1)
    else:
        # Small chunks keep both processes busy whatever the per-strategy cost.
        per = max(1, math.ceil(len(seeds) / (4 * n_jobs)))
        outcomes = _in_pool(bench, _tasks(strategies, seeds, per, common), n_jobs, progress)
    runs, final, diagnostics = _collect(outcomes, budget)
    settings = {
        "strategies": list(strategies),
        "seeds": seeds,
        "budget_time_s": budget.time_s,
        "budget_queries": budget.queries,
        **options,
    }
    return Replays(runs, final, diagnostics, budget, settings)
