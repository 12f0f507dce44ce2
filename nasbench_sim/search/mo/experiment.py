"""Many seeded multi-objective runs, scored against the table's exact front.

:func:`run_many_mo` replays every (strategy, seed) pair through
:func:`~nasbench_sim.search.experiment.run_many` (the same run loop, simulated clock, budgets,
common random numbers, worker processes and Ctrl-C handling as single-objective replays),
scores each run's log with :func:`~nasbench_sim.search.mo.score.score_log` where it ran, and
returns a typed :class:`MOReplays`. :func:`analysis.compare_mo.compare_mo` summarises them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.bench.base import Benchmark
from nasbench_sim.bench.clock import Budget
from nasbench_sim.registry import Registry
from nasbench_sim.search.experiment import run_many
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.search.mo.registry import CORE_MO_STRATEGIES
from nasbench_sim.search.mo.score import ExactFront, exact_front, incumbent_rows, score_log
from nasbench_sim.search.run import final_regret

__all__ = ["FINAL_COLUMNS", "MOReplays", "run_many_mo"]

FINAL_COLUMNS: tuple[str, ...] = (
    "strategy",
    "seed",
    "final_regret",
    "hv",
    "igd",
    "acc_regret",
    "n_queries",
    "wall_time_s",
)
"""The columns of :attr:`MOReplays.final`."""


@dataclass(frozen=True)
class MOReplays:
    """The outcome of :func:`run_many_mo`.

    Attributes:
        front: the exact front and the scales every run is scored with.
        runs: every query log with ``strategy`` and ``seed`` columns and the score after each
            result: ``hv``, ``regret`` (hypervolume regret), ``igd``, ``front_size``, and
            ``acc_regret`` (the single-objective test regret of the best-validation cell).
        final: one row per run, :data:`FINAL_COLUMNS`: ``final_regret`` (hypervolume regret at
            the budget), ``hv``, ``igd`` and ``acc_regret`` at the budget (NaN for a run
            without a result inside the budget), ``n_queries``, ``wall_time_s``.
        diagnostics: the strategies' counters, one row per run and counter.
        fronts: per strategy, the table rows of the final incumbent front of its run with the
            median final hypervolume (the run a figure shows).
        budget: the budget every run had.
        settings: the arguments, for the record.
    """

    front: ExactFront
    runs: pd.DataFrame
    final: pd.DataFrame
    diagnostics: pd.DataFrame
    fronts: dict[str, np.ndarray]
    budget: Budget
    settings: dict[str, Any]


def _score_run(
    front: ExactFront, bench: Benchmark, name: str, seed: int, log: pd.DataFrame
) -> pd.DataFrame:
    """A run's log with the multi-objective scores after each result (see
    :attr:`MOReplays.runs`); the single-objective regret moves to ``acc_regret``."""
    scored = score_log(log, bench, front, seed)
    return log.rename(columns={"regret": "acc_regret"}).assign(
        hv=scored["hv"].to_numpy(),
        regret=scored["regret"].to_numpy(),
        igd=scored["igd"].to_numpy(),
        front_size=scored["front_size"].to_numpy(),
    )


def _final(runs: pd.DataFrame, final: pd.DataFrame, front: ExactFront, at: float | None) -> Any:
    """``final`` with each run's hypervolume, IGD and accuracy regret at the budget."""
    rows = []
    for (name, seed), log in runs.groupby(["strategy", "seed"], observed=True, sort=False):
        finish = log["finish"]
        rows.append(
            {
                "strategy": name,
                "seed": seed,
                "igd": final_regret(pd.DataFrame({"finish": finish, "regret": log["igd"]}), at),
                "acc_regret": final_regret(
                    pd.DataFrame({"finish": finish, "regret": log["acc_regret"]}), at
                ),
            }
        )
    extra = pd.DataFrame(rows, columns=["strategy", "seed", "igd", "acc_regret"])
    out = final.merge(extra, on=["strategy", "seed"], how="left")
    out["hv"] = front.hypervolume - out["final_regret"]
    return out[list(FINAL_COLUMNS)]


def run_many_mo(
    bench: Benchmark,
    strategies: Sequence[str],
    seeds: Sequence[int],
    budget: Budget,
    objectives: ObjectiveSet | str,
    *,
    n_workers: int = 1,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> MOReplays:
    """Run every multi-objective strategy with every seed and score it against the exact front.

    Args:
        bench: a table-backed benchmark.
        strategies: names from ``registry``.
        seeds: run seeds (strategy RNG and the benchmark's repeats: common random numbers).
        budget: the budget of every run.
        objectives: e.g. ``"valid_acc,latency_s"`` (see
            :class:`~nasbench_sim.search.mo.objectives.ObjectiveSet`).
        n_workers: simulated parallel workers per run.
        n_jobs: operating-system processes (``-1``: all cores).
        progress: called with the number of runs just finished.
        registry: where the names are looked up (default: the core multi-objective
            strategies; :data:`nasbench_sim.strategies.MO_STRATEGIES` adds ParEGO).

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=4))
        >>> r = run_many_mo(bench, ["mo_random"], [0, 1], Budget(queries=20), "valid_acc,flops")
        >>> list(r.final.columns)[2:5], bool((r.final["final_regret"] >= 0).all())
        (['final_regret', 'hv', 'igd'], True)
    """
    front = exact_front(bench, objectives)
    replays = run_many(
        bench,
        strategies,
        seeds,
        budget,
        n_workers=n_workers,
        n_jobs=n_jobs,
        strategy_kwargs={name: {"objectives": front.objectives} for name in strategies},
        progress=progress,
        registry=registry or CORE_MO_STRATEGIES,
        score=functools.partial(_score_run, front),
    )
    final = _final(replays.runs, replays.final, front, budget.time_s)
    settings = {
        **replays.settings,
        "objectives": [f"{o.name}:{o.direction}" for o in front.objectives.objectives],
        "reference_point": front.reference.tolist(),
        "exact_front_hv": front.hypervolume,
    }
    fronts = _median_fronts(bench, front, replays.runs, final, budget)
    return MOReplays(front, replays.runs, final, replays.diagnostics, fronts, budget, settings)


def _median_fronts(
    bench: Benchmark, front: ExactFront, runs: pd.DataFrame, final: pd.DataFrame, budget: Budget
) -> dict[str, np.ndarray]:
    """Per strategy, the final incumbent front (table rows) of its median-hypervolume run."""
    out: dict[str, np.ndarray] = {}
    for name, group in final.groupby("strategy", sort=False):
        ok = group.dropna(subset=["hv"]).sort_values(["hv", "seed"], kind="stable")
        if ok.empty:
            out[str(name)] = np.zeros(0, dtype=np.int64)
            continue
        seed = int(ok["seed"].iloc[(len(ok) - 1) // 2])
        log = runs[(runs["strategy"] == name) & (runs["seed"] == seed)]
        out[str(name)] = incumbent_rows(log, bench, front, seed, budget.time_s)
    return out
