"""What a single- and a multi-objective comparison share: the run settings, the plot context and
the common part of the ``meta.json`` record (:class:`~analysis.compare.Comparison`,
:class:`~analysis.compare_mo.MOComparison`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.plot_style import RunContext
from nasbench_sim.bench import Budget, Source

__all__ = ["ComparisonRecord"]


class ComparisonRecord:
    """Mixin of a comparison's frozen dataclass, which supplies these attributes."""

    replays: Any  # Replays or MOReplays: ``settings`` and ``final``
    summary: pd.DataFrame
    source: Source
    dataset: str
    budget: Budget
    seeds: tuple[int, ...]
    baseline: str | None
    wall_time_s: float
    no_result_regret: float
    budget_text: str

    @property
    def strategies(self) -> tuple[str, ...]:
        """The strategies, best first (by the summary's mean final regret)."""
        return tuple(str(s) for s in self.summary["strategy"])

    @property
    def n_workers(self) -> int:
        """Simulated parallel workers of every run."""
        return int(self.replays.settings.get("n_workers", 1))

    def context(self) -> RunContext:
        """Table, budget, workers and seeds, for the plots' titles."""
        return RunContext.of(
            self.source,
            self.dataset,
            self.budget,
            n_seeds=len(self.seeds),
            n_workers=self.n_workers,
            budget_text=self.budget_text,
        )

    def common_meta(self) -> dict[str, Any]:
        """The settings and the source, as every comparison records them."""
        return {
            "source": self.source.describe(),
            "table": self.source.origin,
            "dataset": self.dataset,
            "synthetic": self.source.synthetic,
            "budget": self.budget_text or self.budget.describe(),
            "budget_time_s": self.budget.time_s,
            "budget_queries": self.budget.queries,
            "settings": self.replays.settings,
            "baseline": self.baseline,
            "runs_without_result": int(self.replays.final["no_result"].sum()),
            "no_result_regret": self.no_result_regret,
            "wall_time_s": self.wall_time_s,
        }
