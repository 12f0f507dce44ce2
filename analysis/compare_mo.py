"""Comparing multi-objective search strategies (``compare --objectives``), as a library
function with a typed result, beside :mod:`analysis.compare`.

:func:`compare_mo` replays strategies × seeds (:func:`~nasbench_sim.search.mo.experiment.
run_many_mo`), scores every run against the table's exact Pareto front, and summarises the
final hypervolume regrets (:func:`analysis.stats.summarize`) with the mean IGD and the mean
single-objective regret of the same runs; :func:`write_mo_comparison` writes its files and
:func:`format_mo_summary` the table the command prints.

A run without a result inside the budget has an empty incumbent front: its hypervolume is 0,
so its hypervolume regret is the exact front's whole hypervolume; its accuracy regret is that
of an untrained guess (:func:`analysis.stats.no_result_regret`); its IGD is undefined (NaN,
left out of ``mean_igd``). Such runs are counted in the summary's ``no_result`` column.

Example:
    >>> import nasbench_sim
    >>> bench = nasbench_sim.open("synthetic")
    >>> comp = compare_mo(bench, ["mo_random", "mo_evolution"], range(2), "20q", "valid_acc,params")
    >>> sorted(comp.strategies), comp.summary["runs"].tolist()
    (['mo_evolution', 'mo_random'], [2, 2])
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.comparison_record import ComparisonRecord
from analysis.plot_style import HV_REGRET, RC, label
from analysis.stats import no_result_regret, score_runs, summarize
from analysis.summary_text import baseline_columns
from nasbench_sim.atomic import atomic_dir
from nasbench_sim.bench import Benchmark, Budget, Source
from nasbench_sim.search.experiment import parse_budget
from nasbench_sim.search.mo.experiment import MOReplays, run_many_mo
from nasbench_sim.search.mo.objectives import ObjectiveSet
from nasbench_sim.search.mo.score import ExactFront
from nasbench_sim.search.runs_io import write_runs
from nasbench_sim.strategies import MO_STRATEGIES

__all__ = [
    "MO_OUTPUT_FILES",
    "REFERENCE_POINT_RULE",
    "MOComparison",
    "compare_mo",
    "format_mo_summary",
    "mo_comparison_figures",
    "write_mo_comparison",
]

MO_OUTPUT_FILES: tuple[str, ...] = (
    "runs.h5",
    "final.csv",
    "summary.csv",
    "diagnostics.csv",
    "hv_anytime.png",
    "hv_anytime_queries.png",
    "hv_final.png",
    "fronts.png",
    "anytime.png",
    "anytime_queries.png",
    "final.png",
    "meta.json",
)
"""What :func:`write_mo_comparison` writes."""

REFERENCE_POINT_RULE = (
    "objectives as losses scaled to [0, 1] by their minimum and maximum over all table rows; "
    "reference point 1.1 in every coordinate"
)
"""How hypervolumes are measured (see :mod:`nasbench_sim.search.mo.score`)."""


@dataclass(frozen=True)
class MOComparison(ComparisonRecord):
    """Multi-objective strategies × seeds on one benchmark, summarised.

    Attributes:
        replays: every run, scored (:class:`~nasbench_sim.search.mo.experiment.MOReplays`;
            its ``final`` has a ``no_result`` column and every run scored, see the module
            docstring).
        summary: one row per strategy: :func:`analysis.stats.summarize`'s columns over the
            final hypervolume regrets, ``mean_igd`` and ``mean_acc_regret``.
        source: where the benchmark's numbers come from.
        dataset: the benchmark's dataset.
        budget: the budget of every run.
        seeds: the run seeds.
        baseline: the strategy of the paired test (``None``: none).
        wall_time_s: seconds the replays took.
        no_result_regret: the accuracy regret a run without a result is scored with.
        budget_text: the budget as the user gave it (``"150x"``), for titles and records.
    """

    replays: MOReplays
    summary: pd.DataFrame
    source: Source
    dataset: str
    budget: Budget
    seeds: tuple[int, ...]
    baseline: str | None
    wall_time_s: float
    no_result_regret: float
    budget_text: str = ""

    @property
    def front(self) -> ExactFront:
        """The table's exact front every run is scored against."""
        return self.replays.front

    def meta(self) -> dict[str, Any]:
        """JSON-able record of the settings and the source."""
        return {**self.common_meta(), "reference_point_rule": REFERENCE_POINT_RULE}


def _score(final: pd.DataFrame, hv_regret: float, acc_regret: float) -> pd.DataFrame:
    """``final`` with ``no_result`` and every run scored (see the module docstring)."""
    out = score_runs(final, hv_regret)
    missing = out["no_result"].to_numpy()
    out.loc[missing, "hv"] = 0.0
    out.loc[missing | out["acc_regret"].isna().to_numpy(), "acc_regret"] = acc_regret
    return out


def compare_mo(
    bench: Benchmark,
    strategies: Sequence[str],
    seeds: Sequence[int],
    budget: Budget | str,
    objectives: ObjectiveSet | str,
    *,
    baseline: str | None = "mo_random",
    n_workers: int = 1,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> MOComparison:
    """Replay every multi-objective strategy with every seed against ``bench``, score each
    run against the exact Pareto front of ``objectives``, and summarise.

    Args:
        bench: a table-backed benchmark (see :func:`nasbench_sim.open`).
        strategies: names registered in :data:`nasbench_sim.strategies.MO_STRATEGIES`.
        seeds: run seeds (paired across strategies: common random numbers).
        budget: a :class:`Budget`, or its text form (``"150x"``, ``"10h"``, ``"200q"``).
        objectives: e.g. ``"valid_acc,latency_s"`` or ``"valid_acc:max,params:min"`` (see
            :class:`~nasbench_sim.search.mo.objectives.ObjectiveSet`).
        baseline: strategy of the paired Wilcoxon test (``None``, or one not among
            ``strategies``: no test).
        n_workers: simulated parallel workers per run.
        n_jobs: processes (``-1``: all cores).
        progress: called with the number of runs just finished.
    """
    t0 = time.perf_counter()
    budget_text = ""
    if not isinstance(budget, Budget):
        budget_text = str(budget).strip()
        budget = parse_budget(budget_text, bench)
    replays = run_many_mo(
        bench, strategies, seeds, budget, objectives, n_workers=n_workers, n_jobs=n_jobs,
        progress=progress, registry=MO_STRATEGIES,
    )  # fmt: skip
    guess = no_result_regret(bench)
    replays = dataclasses.replace(
        replays, final=_score(replays.final, replays.front.hypervolume, guess)
    )
    base = baseline if baseline in strategies else None
    summary = summarize(replays.final, baseline=base)
    extra = replays.final.groupby("strategy", observed=True)[["igd", "acc_regret"]].mean()
    extra.columns = pd.Index(["mean_igd", "mean_acc_regret"])
    return MOComparison(
        replays=replays,
        summary=summary.merge(extra, left_on="strategy", right_index=True),
        source=bench.source,
        dataset=bench.dataset,
        budget=budget,
        seeds=tuple(int(s) for s in seeds),
        baseline=base,
        wall_time_s=time.perf_counter() - t0,
        no_result_regret=guess,
        budget_text=budget_text,
    )


def mo_comparison_figures(comp: MOComparison) -> dict[str, Figure]:
    """The plots :func:`write_mo_comparison` writes: hypervolume regret against simulated
    time and results received, every run's final hypervolume regret (``hv_*.png``), the exact
    front with each strategy's final front (``fronts.png``, its median-hypervolume run), and
    the single-objective plots of the same runs (test regret of the best-validation cell)."""
    from analysis.mo_plots import fronts_figure
    from analysis.plots import regret_figures

    ctx, order, r = comp.context(), comp.strategies, comp.replays
    figures = regret_figures(
        r.runs, r.final, comp.budget, order=order, context=ctx, quantity=HV_REGRET, prefix="hv_"
    )
    title = ctx.title(
        f"exact front ({r.front.front_rows.size} cells) and each strategy's final front",
        f"(its median-hypervolume run); {ctx.setup}",
    )
    figures["fronts.png"] = fronts_figure(r.front, r.fronts, order=order, title=title)
    acc_runs = r.runs.drop(columns=["regret"]).rename(columns={"acc_regret": "regret"})
    acc_final = r.final.drop(columns=["final_regret"]).rename(
        columns={"acc_regret": "final_regret"}
    )
    figures.update(regret_figures(acc_runs, acc_final, comp.budget, order=order, context=ctx))
    return figures


def write_mo_comparison(comp: MOComparison, out: str | os.PathLike[str]) -> list[Path]:
    """Write :data:`MO_OUTPUT_FILES` into the folder ``out`` as a whole (a temporary folder
    swapped in at the end; a folder holding other files is refused)."""
    source = comp.source.describe()
    r = comp.replays
    with atomic_dir(out, MO_OUTPUT_FILES) as folder:
        attrs: dict[str, str | bool] = {"source": source, "synthetic": comp.source.synthetic}
        write_runs(r.runs, folder / "runs.h5", attrs=attrs)
        r.final.assign(source=source).to_csv(folder / "final.csv", index=False)
        comp.summary.assign(source=source).to_csv(folder / "summary.csv", index=False)
        r.diagnostics.to_csv(folder / "diagnostics.csv", index=False)
        with matplotlib.rc_context(RC):
            for name, fig in mo_comparison_figures(comp).items():
                fig.savefig(folder / name, dpi=200)
        (folder / "meta.json").write_text(json.dumps(comp.meta(), indent=2, default=str))
    return [Path(out) / name for name in MO_OUTPUT_FILES]


def format_mo_summary(comp: MOComparison, label: Callable[[str], str] = label) -> str:
    """The exact front and the summary as fixed-width lines (strategy labels from ``label``)."""
    f, summary = comp.front, comp.summary
    lines = [
        f"exact front: {f.front_rows.size} cells, hypervolume {f.hypervolume:.4f} (objectives "
        "scaled to [0, 1] over the table, reference point 1.1)"
    ]
    w = max(24, *(len(label(s)) + 2 for s in summary["strategy"]))
    missing = bool((summary["no_result"] > 0).any())
    head = f"{'strategy':<{w}}{'runs':>5}" + (f"{'no result':>10}" if missing else "")
    head += f"{'HV regret [95% CI]':>30}{'IGD':>8}{'acc regret':>11}"
    versus_head, versus = baseline_columns(summary)
    head += versus_head
    lines += [head, "-" * len(head)]
    for _, r in summary.iterrows():
        ci = f"{r.mean_regret:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}]"
        line = f"{label(r.strategy):<{w}}{r.runs:>5}" + (f"{r.no_result:>10}" if missing else "")
        igd = "—" if not np.isfinite(r.mean_igd) else f"{r.mean_igd:.4f}"
        line += f"{ci:>30}{igd:>8}{r.mean_acc_regret:>11.4f}"
        lines.append(line + versus(r))
    return "\n".join(lines)
