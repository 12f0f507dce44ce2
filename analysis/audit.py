"""Auditing surrogates: how far benchmarks fitted on part of a table move a comparison.

:func:`audit` runs the same comparison on the table and on surrogates fitted on fractions of
it, and measures how much each surrogate moves each strategy's mean final regret and the
Kendall τ between the strategy rankings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from analysis.plot_style import RC, RunContext
from analysis.stats import no_result_regret, ranking_agreement, score_runs, summarize
from nasbench_sim.atomic import atomic_dir
from nasbench_sim.bench import Benchmark, Budget, Source
from nasbench_sim.search.experiment import parse_budget, run_many
from nasbench_sim.strategies import STRATEGIES
from predictors.surrogate import fit_surrogate, surrogate_predictor

__all__ = ["OUTPUT_FILES", "AuditResult", "audit", "audit_figure", "write_audit"]

OUTPUT_FILES: tuple[str, ...] = ("audit.csv", "audit_summary.csv", "audit.png")
"""What :func:`write_audit` writes."""


@dataclass(frozen=True)
class AuditResult:
    """A comparison on a table and on surrogates fitted on fractions of it.

    Attributes:
        summary: one row per source and strategy (:func:`analysis.stats.summarize`'s columns
            and ``source``: ``"table"`` or ``"surrogate F%"``).
        agreement: one row per surrogate: ``kendall_tau_vs_table`` (of the strategy ranking
            by mean final regret), ``mean_abs_shift``, ``max_abs_shift`` and ``shift_<name>``
            (surrogate minus table mean final regret) per strategy.
        sources: the sources in order, the table first.
        source: the table's source.
        dataset: its dataset.
        predictor: the surrogates' predictor.
        seeds: the run seeds.
        budget: the budget of every run.
        budget_text: the budget as the user gave it (``"150x"``), for titles.
        n_workers: simulated parallel workers per run.
    """

    summary: pd.DataFrame
    agreement: pd.DataFrame
    sources: tuple[str, ...]
    source: Source
    dataset: str
    predictor: str
    seeds: tuple[int, ...]
    budget: Budget | None = None
    budget_text: str = ""
    n_workers: int = 1

    def context(self) -> RunContext:
        """The table, budget, workers and seeds, for the plot's title."""
        return RunContext.of(
            self.source,
            self.dataset,
            self.budget or Budget(queries=1),
            n_seeds=len(self.seeds),
            n_workers=self.n_workers,
            budget_text=self.budget_text,
        )

    def regret_table(self) -> pd.DataFrame:
        """Mean final regret per strategy (rows, best on the table first) and source."""
        wide = self.summary.pivot_table(index="strategy", columns="source", values="mean_regret")
        ref = wide["table"].sort_values()
        return wide[list(self.sources)].loc[list(ref.index)]


def _agreement(summary: pd.DataFrame, sources: Sequence[str]) -> pd.DataFrame:
    ref = summary[summary["source"] == "table"].set_index("strategy")["mean_regret"]
    rows = []
    for name in sources[1:]:
        other = summary[summary["source"] == name].set_index("strategy")["mean_regret"]
        shift = (other - ref).reindex(ref.index)
        rows.append(
            {
                "source": name,
                "kendall_tau_vs_table": ranking_agreement(ref, other),
                "mean_abs_shift": float(shift.abs().mean()),
                "max_abs_shift": float(shift.abs().max()),
                **{f"shift_{k}": float(v) for k, v in shift.items()},
            }
        )
    return pd.DataFrame(rows)


def audit(
    bench: Benchmark,
    strategies: Sequence[str],
    seeds: Sequence[int],
    budget: Budget | str,
    fractions: Sequence[float] = (0.01, 0.05, 0.2),
    *,
    predictor: str = "xgb",
    surrogate_seed: int = 0,
    n_workers: int = 1,
    n_jobs: int = 1,
    strategy_kwargs: Mapping[str, dict[str, Any]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """Compare ``strategies`` on ``bench`` and on a surrogate fitted on each fraction of it,
    all under the same simulated ``budget``.

    Args:
        bench: the table (or any benchmark) to audit against.
        strategies, seeds, budget: the comparison (``budget``: a :class:`Budget` or its text
            form, ``"150x"``).
        fractions: shares of ``bench``'s rows each surrogate is fitted on, in ``(0, 1]``.
        predictor: the surrogates' registered predictor.
        surrogate_seed: seeds the surrogates' fits.
        n_workers, n_jobs, strategy_kwargs, progress: as in :func:`analysis.compare.compare`.
    """
    if not fractions or any(not 0.0 < f <= 1.0 for f in fractions):
        raise ValueError(f"fractions must be numbers in (0, 1], got {list(fractions)}")
    surrogate_predictor(predictor)  # a bad predictor fails before any work
    budget_text = ""
    if not isinstance(budget, Budget):
        budget_text = str(budget).strip()
        budget = parse_budget(budget_text, bench)
    sources: list[tuple[str, Benchmark]] = [("table", bench)]
    for f in fractions:
        sur = fit_surrogate(bench, fraction=f, predictor=predictor, seed=surrogate_seed)
        sources.append((f"surrogate {100 * f:g}%", sur))
    frames = []
    for name, b in sources:
        replays = run_many(
            b,
            strategies,
            seeds,
            budget,
            n_workers=n_workers,
            n_jobs=n_jobs,
            strategy_kwargs=strategy_kwargs,
            progress=progress,
            registry=STRATEGIES,
        )
        final = score_runs(replays.final, no_result_regret(b))
        frames.append(summarize(final, baseline=None).assign(source=name))
    summary = pd.concat(frames, ignore_index=True)
    names = tuple(n for n, _ in sources)
    return AuditResult(
        summary=summary,
        agreement=_agreement(summary, names),
        sources=names,
        source=bench.source,
        dataset=bench.dataset,
        predictor=predictor,
        seeds=tuple(int(s) for s in seeds),
        budget=budget,
        budget_text=budget_text,
        n_workers=n_workers,
    )


def audit_figure(result: AuditResult) -> Figure:
    """Each strategy's mean final regret with its 95% CI on the table and on each surrogate,
    titled with the table, budget, workers, seeds and the rankings' Kendall τ."""
    from analysis.audit_plot import audit_figure as draw

    ctx = result.context()
    taus = ", ".join(
        f"{r.source.removeprefix('surrogate ')}: {r.kendall_tau_vs_table:.2f}"
        for r in result.agreement.itertuples()
    )
    title = (
        f"{ctx.heading} and surrogates ({result.predictor}) fitted on part of it\n"
        f"{ctx.setup}\nKendall τ of the strategy ranking against the table's: {taus}"
    )
    return draw(result.summary, title=title)


def write_audit(result: AuditResult, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``audit.csv``, ``audit_summary.csv`` and ``audit.png`` into ``out`` as a whole."""
    with atomic_dir(out, OUTPUT_FILES) as folder:
        result.summary.to_csv(folder / "audit_summary.csv", index=False)
        result.agreement.to_csv(folder / "audit.csv", index=False)
        with matplotlib.rc_context(RC):
            audit_figure(result).savefig(folder / "audit.png", dpi=200)
    return [Path(out) / name for name in OUTPUT_FILES]
