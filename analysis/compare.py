"""Comparing search strategies: the main job, as a library function with a typed result.

:func:`compare` replays strategies × seeds against one benchmark and summarises the final
regrets (:func:`analysis.stats.summarize`); :func:`write_comparison` writes its files.

Example:
    >>> import nasbench_sim
    >>> from nasbench_sim.bench import Budget
    >>> bench = nasbench_sim.open("synthetic")
    >>> comp = compare(bench, ["random", "evolution"], range(3), Budget(queries=20))
    >>> sorted(comp.strategies), comp.summary["runs"].tolist()
    (['evolution', 'random'], [3, 3])
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.comparison_record import ComparisonRecord
from analysis.plot_style import RC
from analysis.stats import (
    by_seed,
    no_result_regret,
    paired_difference,
    score_runs,
    summarize,
)
from analysis.summary_text import (
    baseline_columns,
    format_diff,
    format_p,
    format_summary,
    p_column,
)
from nasbench_sim.atomic import atomic_dir
from nasbench_sim.bench import Benchmark, Budget, Source
from nasbench_sim.search.experiment import Replays, parse_budget, run_many
from nasbench_sim.search.runs_io import write_runs
from nasbench_sim.strategies import STRATEGIES

__all__ = [
    "OUTPUT_FILES",
    "SANITY_MIN_SEEDS",
    "Comparison",
    "baseline_columns",
    "compare",
    "comparison_figures",
    "exhaustive_search_regret",
    "format_diff",
    "format_p",
    "format_summary",
    "identical_strategies",
    "p_column",
    "regret_landscape",
    "sanity_check",
    "write_comparison",
]

OUTPUT_FILES: tuple[str, ...] = (
    "runs.h5",
    "final.csv",
    "summary.csv",
    "diagnostics.csv",
    "anytime.png",
    "anytime_queries.png",
    "final.png",
    "meta.json",
)
"""What :func:`write_comparison` writes."""


@dataclass(frozen=True)
class Comparison(ComparisonRecord):
    """Strategies × seeds on one benchmark, summarised.

    Attributes:
        replays: every run (query logs, final regrets, strategy diagnostics).
        summary: one row per strategy (see :func:`analysis.stats.summarize`).
        source: where the benchmark's numbers come from.
        dataset: the benchmark's dataset.
        budget: the budget of every run.
        seeds: the run seeds.
        baseline: the strategy of the paired test (``None``: none).
        best_test_acc: the regret origin.
        wall_time_s: seconds the replays took.
        no_result_regret: the regret a run without a result inside the budget is scored with
            (an untrained guess; see :func:`analysis.stats.no_result_regret`).
        left_out: strategies that were asked for (``all``) but could not run, and why.
        budget_text: the budget as the user gave it (``"150x"``), for titles and records.
    """

    replays: Replays
    summary: pd.DataFrame
    source: Source
    dataset: str
    budget: Budget
    seeds: tuple[int, ...]
    baseline: str | None
    best_test_acc: float
    wall_time_s: float
    no_result_regret: float
    left_out: Mapping[str, str] = field(default_factory=dict)
    budget_text: str = ""

    def meta(self) -> dict[str, Any]:
        """JSON-able record of the settings and the source."""
        return {
            **self.common_meta(),
            "best_test_acc": self.best_test_acc,
            "left_out": dict(self.left_out),
        }


def compare(
    bench: Benchmark,
    strategies: Sequence[str],
    seeds: Sequence[int],
    budget: Budget | str,
    *,
    baseline: str | None = "random",
    n_workers: int = 1,
    n_jobs: int = 1,
    charge_strategy_time: bool = False,
    strategy_kwargs: Mapping[str, dict[str, Any]] | None = None,
    left_out: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Comparison:
    """Replay every strategy with every seed against ``bench`` and summarise.

    Args:
        bench: the benchmark (see :func:`nasbench_sim.open`).
        strategies: names registered in :data:`nasbench_sim.strategies.STRATEGIES`.
        seeds: run seeds (paired across strategies: common random numbers).
        budget: the budget of every run: a :class:`Budget`, or its text form (``"150x"``,
            ``"10h"``, ``"200q"``; see :func:`~nasbench_sim.search.experiment.parse_budget`).
        baseline: strategy of the paired Wilcoxon test (``None``: no test).
        n_workers: simulated parallel workers per run.
        n_jobs: processes (``-1``: all cores).
        charge_strategy_time: add each strategy's compute time to its clock.
        strategy_kwargs: constructor arguments per strategy (records it needs, e.g. from
            :func:`nasbench_sim.strategies.strategy_kwargs`).
        left_out: strategies that could not run and why, kept for the record.
        progress: called with the number of runs just finished.
    """
    t0 = time.perf_counter()
    budget_text = ""
    if not isinstance(budget, Budget):
        budget_text = str(budget).strip()
        budget = parse_budget(budget_text, bench)
    replays = run_many(
        bench,
        strategies,
        seeds,
        budget,
        n_workers=n_workers,
        n_jobs=n_jobs,
        charge_strategy_time=charge_strategy_time,
        strategy_kwargs=strategy_kwargs,
        progress=progress,
        registry=STRATEGIES,
    )
    base = baseline if baseline in strategies else None
    guess = no_result_regret(bench)
    replays = dataclasses.replace(replays, final=score_runs(replays.final, guess))
    return Comparison(
        replays=replays,
        summary=summarize(replays.final, baseline=base),
        source=bench.source,
        dataset=bench.dataset,
        budget=budget,
        seeds=tuple(int(s) for s in seeds),
        baseline=base,
        best_test_acc=bench.best_test_acc,
        wall_time_s=time.perf_counter() - t0,
        no_result_regret=guess,
        left_out=dict(left_out or {}),
        budget_text=budget_text,
    )


def comparison_figures(comp: Comparison) -> dict[str, Figure]:
    """The plots :func:`write_comparison` writes: ``anytime.png`` (mean regret against
    simulated time), ``anytime_queries.png`` (against results received) and ``final.png``
    (every run's final regret), titled with the table, budget, workers and seeds (see
    :func:`analysis.plots.regret_figures`)."""
    from analysis.plots import regret_figures

    replays = comp.replays
    return regret_figures(
        replays.runs, replays.final, comp.budget, order=comp.strategies, context=comp.context()
    )


def _plots(comp: Comparison, out: Path) -> None:
    with matplotlib.rc_context(RC):
        for name, fig in comparison_figures(comp).items():
            fig.savefig(out / name, dpi=200)


def write_comparison(comp: Comparison, out: str | os.PathLike[str]) -> list[Path]:
    """Write :data:`OUTPUT_FILES` into the folder ``out`` as a whole: into a temporary folder
    first, swapped in for ``out`` at the end (:func:`~nasbench_sim.atomic.atomic_dir`), so a
    folder never mixes two comparisons. A folder holding other files is refused."""
    source = comp.source.describe()
    with atomic_dir(out, OUTPUT_FILES) as folder:
        attrs: dict[str, str | bool] = {"source": source, "synthetic": comp.source.synthetic}
        write_runs(comp.replays.runs, folder / "runs.h5", attrs=attrs)
        comp.replays.final.assign(source=source).to_csv(folder / "final.csv", index=False)
        comp.summary.assign(source=source).to_csv(folder / "summary.csv", index=False)
        comp.replays.diagnostics.to_csv(folder / "diagnostics.csv", index=False)
        _plots(comp, folder)
        (folder / "meta.json").write_text(json.dumps(comp.meta(), indent=2, default=str))
    return [Path(out) / name for name in OUTPUT_FILES]


SANITY_MIN_SEEDS = 10
"""Paired seeds the sanity check needs (fewer: a bootstrap interval of a handful of
differences is too narrow to mean anything)."""


def sanity_check(final: pd.DataFrame) -> tuple[bool, str] | None:
    """Whether regularized evolution beats random search, paired by seed: over at least
    :data:`SANITY_MIN_SEEDS` seeds where both are scored, the 95% interval of the mean
    difference in final regret lies below 0 and the Wilcoxon signed-rank test gives p < 0.05
    (``final``: the scored runs, as :attr:`Comparison.replays`'s ``final``). Returns that and a
    sentence saying so; ``None`` when either strategy is not in ``final``."""
    if not {"evolution", "random"} <= set(final["strategy"].astype(str)):
        return None
    wide = by_seed(final)[["evolution", "random"]].dropna()
    d = paired_difference(wide, "evolution", "random")
    n = d["pairs"]
    ok = bool(n >= SANITY_MIN_SEEDS and d["diff_ci_high"] < 0 and d["p"] < 0.05)
    if n < SANITY_MIN_SEEDS:
        verdict = f"too few seeds to tell (at least {SANITY_MIN_SEEDS} are needed)"
    else:
        verdict = (
            "evolution is better" if ok else "evolution's advantage is not shown; see the plots"
        )
    text = (
        f"over {n} seed{'s' if n != 1 else ''} where both are scored, regularized evolution "
        f"{wide['evolution'].mean():.4f} vs random search {wide['random'].mean():.4f} mean "
        f"final regret; evolution minus random "
        f"{format_diff(d['diff'], d['diff_ci_low'], d['diff_ci_high'])} (95% CI), "
        f"Wilcoxon p {format_p(d['p'])} (unadjusted): " + verdict
    )
    return ok, text


def identical_strategies(runs: pd.DataFrame, times: bool = False) -> list[list[str]]:
    """Groups of strategies whose runs made the same queries (cells and budgets, in the same
    order) seed by seed: their curves against results received coincide, and the plots show
    only the one drawn last (e.g. Hyperband on a table whose budgets leave it no early
    stopping is random search). ``times``: the queries must also finish at the same
    simulated times (a ``finish`` column), so that the curves against time coincide too; with
    ``--charge-strategy-time`` the same queries can finish at other times.

    Example:
        >>> runs = pd.DataFrame({"strategy": ["a", "b", "c"], "seed": 0, "index": [5, 5, 6],
        ...                      "epoch": 12, "finish": [1.0, 1.5, 1.0]})
        >>> identical_strategies(runs)
        [['a', 'b']]
        >>> identical_strategies(runs, times=True)
        []
    """
    groups: dict[bytes, list[str]] = {}
    for name, g in runs.groupby("strategy", sort=False, observed=True):
        g = g.sort_values("seed", kind="stable")  # each seed's queries stay in finish order
        key = np.ascontiguousarray(g[["seed", "index", "epoch"]].to_numpy(np.int64)).tobytes()
        if times:
            key += np.ascontiguousarray(g["finish"].to_numpy(np.float64)).tobytes()
        groups.setdefault(key, []).append(str(name))
    return [names for names in groups.values() if len(names) > 1]


def regret_landscape(bench: Benchmark, run_seeds: Sequence[int] = range(20)) -> str:
    """How far below the best cell the good cells of ``bench`` lie, in test accuracy: the
    scale a strategy's regret is read against (on a table whose top is flat, every strategy
    ends close to the best and strategies are hard to tell apart), and the regret of
    :func:`exhaustive_search_regret` over ``run_seeds``.

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> regret_landscape(TabularBenchmark(make_synthetic_table(0))).startswith("the best")
        True
    """
    acc = np.asarray(bench.test_acc_many(bench.candidate_cells), dtype=np.float64)
    acc = acc[np.isfinite(acc)]
    if acc.size == 0:
        return "no cell has a test accuracy"
    best = float(bench.best_test_acc)
    gaps = {q: best - float(np.quantile(acc, q)) for q in (0.99, 0.9, 0.5)}
    exhaustive = exhaustive_search_regret(bench, run_seeds)
    why = " (the best of many noisy validation values is often a lucky cell)" if exhaustive else ""
    return (
        f"the best test accuracy is {best:.4f}; the top 1% of cells lie within "
        f"{gaps[0.99]:.4f} of it, the top 10% within {gaps[0.9]:.4f}, the median cell "
        f"{gaps[0.5]:.4f} below; a search that trained all {bench.distinct_cells.size} distinct "
        f"cells and kept the best by its validation accuracy would end at a mean regret of "
        f"{exhaustive:.4f} over {len(run_seeds)} run seeds{why}"
    )


def exhaustive_search_regret(bench: Benchmark, run_seeds: Sequence[int] = range(20)) -> float:
    """The mean test regret of exhaustive search: every distinct cell queried once at its final
    epoch, as a search with each of ``run_seeds`` sees it (one stored repeat per cell, drawn
    from the run seed, or what a view of ``with_default_repeat`` reads), the best validation
    accuracy kept and scored by its test accuracy (the repeat mean), as a search's incumbent
    is. Where validation is noisy the best of many
    noisy values is often a lucky cell (the winner's curse), so a search that saw fewer cells
    can end below it; where validation ranks the cells as the test does, it is 0.

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> bench = TabularBenchmark(make_synthetic_table(0, cells=50))
        >>> 0 <= exhaustive_search_regret(bench, range(3))
        True
    """
    cells = bench.distinct_cells
    test = np.asarray(bench.test_acc_many(cells), dtype=np.float64)
    regrets = []
    for seed in run_seeds:
        valid = np.asarray(bench.with_run_seed(seed).query_many(cells).valid_acc, np.float64)
        ok = np.flatnonzero(np.isfinite(valid) & np.isfinite(test))
        if ok.size:
            regrets.append(float(bench.best_test_acc) - test[ok[np.argmax(valid[ok])]])
    return float(np.mean(regrets)) if regrets else float("nan")
