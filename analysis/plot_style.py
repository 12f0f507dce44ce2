"""The look shared by the comparison plots: strategy labels, colours, fonts, axis ticks, and
the run context their titles cite.

Figures are sized for a paper (6.5 in wide, 9-pt text: readable when scaled to one column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from nasbench_sim.bench import Budget, Source
from nasbench_sim.strategies import MO_STRATEGIES, STRATEGIES

__all__ = [
    "ACCURACY_REGRET",
    "HV_REGRET",
    "LABELS",
    "RC",
    "Quantity",
    "RunContext",
    "colors",
    "compact",
    "label",
    "legend_grid",
    "log_ticks",
    "log_y_ticks",
    "plain_ticks",
    "source_heading",
    "time_unit",
]

LABELS: dict[str, str] = {**STRATEGIES.labels(), **MO_STRATEGIES.labels()}
"""Display name of each registered strategy: the labels its registry entry declares."""

RC: dict[Any, Any] = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def label(name: str) -> str:
    """Display name of a strategy."""
    return LABELS.get(name, name)


def time_unit(seconds: float) -> tuple[str, float]:
    """A readable unit for a span of simulated seconds: ``(name, seconds per unit)``."""
    if seconds >= 3 * 3600:
        return "h", 3600.0
    if seconds >= 3 * 60:
        return "min", 60.0
    return "s", 1.0


def colors(names: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """One colour per name (tab10, or tab20 beyond ten names)."""
    cmap = matplotlib.colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


_UNITS = (("h", 3600.0), ("min", 60.0), ("s", 1.0))


@dataclass(frozen=True)
class Quantity:
    """What a regret plot measures, for its labels.

    Attributes:
        name: e.g. ``"test regret"``.
        unit: e.g. ``"accuracy, fraction"``.
        zero: what a run with regret exactly 0 did, e.g. ``"found the optimum"``.
        of: what the regret is of, on axis labels (``"of incumbent"``; empty for none).
        no_result: how a run without a result inside the budget is scored.
    """

    name: str
    unit: str
    zero: str
    of: str = ""
    no_result: str = "scored as an untrained guess"

    def axis(self, *extra: str) -> str:
        """``"test regret of incumbent (accuracy, fraction, log scale)"``."""
        inner = ", ".join((self.unit, *extra))
        return f"{self.name}{' ' + self.of if self.of else ''} ({inner})"


ACCURACY_REGRET = Quantity("test regret", "accuracy", "found the optimum", "of incumbent")
"""Single-objective regret: best test accuracy of the table minus the incumbent's."""
HV_REGRET = Quantity(
    "hypervolume regret", "normalised", "covered the exact front", no_result="an empty front"
)
"""Multi-objective regret: the exact front's hypervolume minus the incumbent front's."""


TITLE_CHARS = 90
"""Characters of a title line that fit a comparison plot's width at its font size."""


@dataclass(frozen=True)
class RunContext:
    """How the runs behind a comparison's plots were made, for titles a reader can cite.

    Attributes:
        table: what was searched, as the user named it (``"T.h5"``, ``"synthetic:0"``).
        n_seeds: runs per strategy.
        budget: the budget as given (``"150x"``, ``"10h"``, ``"200q"``).
        budget_s: simulated seconds of a time budget; ``None`` for a query budget.
        budget_queries: queries of a query budget; ``None`` for a time budget.
        n_workers: simulated parallel workers per run.
        synthetic: the table is a synthetic stand-in, not a training result.
        dataset: the dataset the table was trained on.
        kind: ``"table"`` or ``"surrogate"`` (see :class:`~nasbench_sim.bench.Source`).
        in_progress: the table holds what a running build has committed so far (the heading
            says so: its results are of the cells trained so far, not of the finished table).
        reads: what the searches' queries read where it is not the run seed's draw (see
            :meth:`~nasbench_sim.bench.Benchmark.with_default_repeat`); the heading says it.

    Example:
        >>> ctx = RunContext("synthetic:0", 30, "150x", budget_s=34500.0, synthetic=True)
        >>> ctx.heading, ctx.setup
        ('SYNTHETIC table (table seed 0)', 'budget 150x = 9.58 simulated h, 1 worker, 30 seeds')
    """

    table: str
    n_seeds: int
    budget: str = ""
    budget_s: float | None = None
    budget_queries: int | None = None
    n_workers: int = 1
    synthetic: bool = False
    dataset: str = ""
    kind: str = "table"
    in_progress: bool = False
    reads: str = ""

    @classmethod
    def of(
        cls,
        source: Source,
        dataset: str,
        budget: Budget,
        *,
        n_seeds: int,
        n_workers: int = 1,
        budget_text: str = "",
    ) -> RunContext:
        """The context of runs on a benchmark of ``source`` under ``budget``.

        Example:
            >>> from nasbench_sim.bench import Budget, Source
            >>> src = Source("table", False, "results/T.h5", "6466 rows")
            >>> RunContext.of(src, "cifar10", Budget(queries=200), n_seeds=10).heading
            'table T.h5 (cifar10)'
        """
        return cls(
            table=_origin(source),
            n_seeds=n_seeds,
            budget=budget_text,
            budget_s=budget.time_s,
            budget_queries=budget.queries,
            n_workers=n_workers,
            synthetic=source.synthetic,
            dataset=dataset,
            kind=source.kind,
            in_progress=source.in_progress,
            reads=source.reads,
        )

    @property
    def heading(self) -> str:
        """The table, said once, with SYNTHETIC when it is."""
        name = self.table
        reads = [f"queries read {self.reads}"] if self.reads else []
        if self.synthetic and name.lower().startswith("synthetic"):  # the CLI's synthetic[:SEED]
            seed = name.partition(":")[2] or "0"
            return f"SYNTHETIC {self.kind} ({'; '.join([f'table seed {seed}', *reads])})"
        said = name.lower() + (" synthetic" if self.synthetic else "")
        dataset = self.dataset.removesuffix(" (surrogate)")  # the kind says so
        notes = [dataset] if dataset and dataset.lower() not in said else []
        if self.in_progress:
            notes.append("BUILD IN PROGRESS")
        notes += reads
        if notes:
            name += f" ({'; '.join(notes)})"
        return f"SYNTHETIC {self.kind} {name}" if self.synthetic else f"{self.kind} {name}"

    def title(self, what: str, detail: str) -> str:
        """A plot's title: the heading and ``what`` the plot shows on one line (two when they
        would not fit a figure's width), then ``detail``.

        Example:
            >>> RunContext("T.h5", 10).title("final regret", "10 seeds")
            'table T.h5: final regret\\n10 seeds'
        """
        head = f"{self.heading}: {what}"
        if len(head) > TITLE_CHARS:
            head = f"{self.heading}\n{what[:1].upper()}{what[1:]}"
        return f"{head}\n{detail}"

    @property
    def setup(self) -> str:
        """Budget, workers and seeds."""
        parts = []
        if self.budget_s is not None:
            unit, scale = next((u, s) for u, s in _UNITS if self.budget_s >= s or s == 1.0)
            amount = f"{self.budget_s / scale:.3g} simulated {unit}"
            parts.append(amount if self.budget in ("", amount) else f"{self.budget} = {amount}")
        if self.budget_queries is not None:
            parts.append(f"{self.budget_queries} queries")
        budget = "budget " + " and ".join(parts) if parts else "no budget"
        workers = f"{self.n_workers} worker" + ("s" if self.n_workers != 1 else "")
        return f"{budget}, {workers}, {self.n_seeds} seeds"


def _origin(source: Source) -> str:
    """How a source is named in a title: its file name, ``synthetic[:SEED]`` or "in memory"."""
    origin = source.origin
    if origin == "memory":
        return "in memory"
    if origin.lower().startswith("synthetic"):
        return origin
    return Path(origin).name or origin


def source_heading(source: Source, dataset: str) -> str:
    """The heading of a plot made from a benchmark of ``source``: its name and dataset, said
    SYNTHETIC or BUILD IN PROGRESS when it is (as :attr:`RunContext.heading`).

    Example:
        >>> from nasbench_sim.bench import Source
        >>> source_heading(Source("table", False, "data/T.h5", in_progress=True), "mnist1d")
        'table T.h5 (mnist1d; BUILD IN PROGRESS)'
    """
    return RunContext(
        table=_origin(source), n_seeds=0, synthetic=source.synthetic, dataset=dataset,
        kind=source.kind, in_progress=source.in_progress,
    ).heading  # fmt: skip


def log_y_ticks(ax: Any, low: float, high: float) -> None:
    """Plain decimal labels (0.01, 0.02, 0.05 ...) on a log y-axis; no minor labels."""
    log_ticks(ax.yaxis, low, high)


def log_ticks(axis: Any, low: float, high: float) -> None:
    """Plain number labels at 1, 2, 5 per decade (1 per decade over more than 2.5 decades) on
    a log ``axis`` (``ax.xaxis`` or ``ax.yaxis``); no minor labels."""
    decades = np.log10(max(high, low * 1.0001) / low)
    subs = (1.0, 2.0, 5.0) if decades <= 1.5 else (1.0, 3.0) if decades <= 2.5 else (1.0,)
    axis.set_major_locator(LogLocator(base=10.0, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
    axis.set_minor_formatter(NullFormatter())


def compact(value: float) -> str:
    """A short tick label: ``0.002``, ``50``, ``20k``, ``1.5M``, ``3G``.

    Example:
        >>> [compact(v) for v in (0.002, 50.0, 2e4, 1.5e6, 3e9)]
        ['0.002', '50', '20k', '1.5M', '3G']
    """
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= scale:
            return f"{value / (scale if suffix != 'k' else 1e3):g}{suffix}"
    return f"{value:g}"


def legend_grid(labels: Sequence[str], width_in: float) -> tuple[int, int]:
    """Columns and rows of a legend of ``labels`` that fits ``width_in`` inches at 8 pt."""
    col_in = 0.065 * max(len(t) for t in labels) + 0.5  # handle, gap and the longest label
    ncol = max(1, min(len(labels), 4, int((width_in - 0.2) // col_in)))
    return ncol, -(-len(labels) // ncol)


def plain_ticks(axis: Any) -> None:
    """Plain number labels (``0.01``, ``1``, ``100``) on a log axis' major ticks."""
    axis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
