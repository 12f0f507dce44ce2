"""Many seeded multi-objective runs, scored against the table's exact front.

:func:`compare_mo` replays every (strategy, seed) pair through the same run loop, simulated
clock, budgets and common random numbers as single-objective comparisons, scores each run with
:func:`~nasbench_sim.search.mo.score.score_log`, and returns a typed :class:`MOComparison`.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.bench.clock import Budget
from nasbench_sim.registry import Registry
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.search.mo.registry import create_mo, mo_strategy_class
from nasbench_sim.search.mo.score import ExactFront, exact_front, incumbent_rows, score_log
from nasbench_sim.search.run import final_regret, run

__all__ = ["MOComparison", "compare_mo"]


@dataclass(frozen=True)
class MOComparison:
    """The outcome of :func:`compare_mo`.

    Attributes:
        front: the exact front and the scales every run is scored with.
        runs: every query log with ``strategy`` and ``seed`` columns and the score after each
            result: ``hv``, ``regret`` (hypervolume regret), ``igd``, ``front_size``, and
            ``acc_regret`` (the single-objective test regret of the best-validation cell).
        final: one row per run: ``strategy``, ``seed``, ``final_regret`` (hypervolume regret at
            the budget), ``hv``, ``igd``, ``acc_regret``, ``n_queries``, ``wall_time_s``.
        fronts: per strategy, the table rows of the final incumbent front of its run with the
            median final hypervolume (the run a figure shows).
        budget: the budget every run had.
        settings: the arguments, for the record.
    """

    front: ExactFront
    runs: pd.DataFrame
    final: pd.DataFrame
    fronts: dict[str, np.ndarray]
    budget: Budget
    settings: dict[str, Any]


def _one_run(
    bench: Any,
    front: ExactFront,
    name: str,
    seed: int,
    budget: Budget,
    n_workers: int,
    registry: Registry | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    strategy = create_mo(
        name, bench.search_space, bench.n_epochs, seed, objectives=front.objectives,
        registry=registry,
    )  # fmt: skip
    result = run(strategy, bench, budget, seed, n_workers=n_workers)
    scored = score_log(result.log, bench, front, seed)
    log = result.log.rename(columns={"regret": "acc_regret"}).assign(
        hv=scored["hv"].to_numpy(),
        regret=scored["regret"].to_numpy(),
        igd=scored["igd"].to_numpy(),
        front_size=scored["front_size"].to_numpy(),
    )
    at = budget.time_s
    hv_final = float(front.hypervolume - final_regret(log, at)) if len(log) else math.nan
    igd_log = log[["finish", "igd"]].rename(columns={"igd": "regret"})
    row = {
        "strategy": name,
        "seed": seed,
        "final_regret": final_regret(log, at),
        "hv": hv_final,
        "igd": final_regret(igd_log, at),
        "acc_regret": final_regret(result.log, at),
        "n_queries": len(log),
        "wall_time_s": result.meta["wall_time_s"],
    }
    return log.assign(strategy=name, seed=seed), row


_WORKER: list[tuple[Any, ExactFront]] = []  # set only inside pool workers


def _init_worker(bench: Any, front: ExactFront) -> None:
    from threadpoolctl import threadpool_limits

    _WORKER[:] = [(bench, front)]
    threadpool_limits(1)  # one process per core: no nested thread pools
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle


def _run_chunk(
    name: str, seeds: Sequence[int], budget: Budget, n_workers: int, registry: Registry | None
) -> list[tuple[pd.DataFrame, dict[str, Any]]]:
    bench, front = _WORKER[0]
    return [_one_run(bench, front, name, s, budget, n_workers, registry) for s in seeds]


def compare_mo(
    bench: Any,
    strategies: Sequence[str],
    seeds: Sequence[int],
    budget: Budget,
    objectives: ObjectiveSet | str,
    *,
    n_workers: int = 1,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> MOComparison:
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
        >>> c = compare_mo(bench, ["mo_random"], [0, 1], Budget(queries=20), "valid_acc,flops")
        >>> list(c.final.columns)[2:5], bool((c.final["final_regret"] >= 0).all())
        (['final_regret', 'hv', 'igd'], True)
    """
    for name in strategies:
        mo_strategy_class(name, registry)  # an unknown name fails now, listing the known ones
    if not seeds:
        raise ValueError("compare_mo needs at least one seed")
    n_jobs = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1 or -1, got {n_jobs}")
    front = exact_front(bench, objectives)
    seeds = [int(s) for s in seeds]
    results: list[tuple[pd.DataFrame, dict[str, Any]]] = []
    if n_jobs == 1:
        for name in strategies:
            for s in seeds:
                results.append(_one_run(bench, front, name, s, budget, n_workers, registry))
                if progress:
                    progress(1)
    else:
        per = max(1, math.ceil(len(seeds) / (4 * n_jobs)))
        chunks = [(n, seeds[i : i + per]) for n in strategies for i in range(0, len(seeds), per)]
        ctx = multiprocessing.get_context()
        # leaving the block terminates the pool: after Ctrl-C, pending chunks are dropped
        with ctx.Pool(n_jobs, initializer=_init_worker, initargs=(bench, front)) as pool:
            jobs = [
                pool.apply_async(_run_chunk, (n, c, budget, n_workers, registry)) for n, c in chunks
            ]
            for job in jobs:
                part = job.get()
                results.extend(part)
                if progress:
                    progress(len(part))
    runs = pd.concat([log for log, _ in results], ignore_index=True)
    runs["strategy"] = runs["strategy"].astype("category")
    final = pd.DataFrame([row for _, row in results])
    settings = {
        "strategies": list(strategies),
        "seeds": seeds,
        "objectives": [f"{o.name}:{o.direction}" for o in front.objectives.objectives],
        "budget_time_s": budget.time_s,
        "budget_queries": budget.queries,
        "n_workers": n_workers,
        "reference_point": front.reference.tolist(),
        "exact_front_hv": front.hypervolume,
    }
    fronts = _median_fronts(bench, front, runs, final, budget)
    return MOComparison(front, runs, final, fronts, budget, settings)


def _median_fronts(
    bench: Any, front: ExactFront, runs: pd.DataFrame, final: pd.DataFrame, budget: Budget
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
