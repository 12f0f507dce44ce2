"""The gap study of a table file: every stored super-network (SPOS, DARTS, GDAS alike) against
the table's stand-alone accuracies, as typed reports, a JSON summary and plots.

Example:
    >>> study = gap_study("T.h5", method="spos")     # doctest: +SKIP
    >>> study.reports[0].kendall_tau                  # doctest: +SKIP
    >>> write_gap_study(study, "gap/")                # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.atomic import atomic_dir
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.oneshot.gap import (
    GapReport,
    alpha_log_prob,
    gap_report,
    parameter_free_fraction,
    rank_gap,
    seed_spread,
    spread,
    standalone_percentile,
)
from nasbench_sim.oneshot.run import standalone_accuracy
from nasbench_sim.oneshot.store import OneShotError, OneShotRecord, list_oneshot, read_oneshot

__all__ = ["GAP_FILES", "GapStudy", "gap_study", "write_gap_study"]

GAP_FILES: tuple[str, ...] = ("gap.json", "gap_*_seed*.png", "trajectory_*_seed*.png")
"""What :func:`write_gap_study` writes (shell-style patterns: one plot per run)."""


@dataclass(frozen=True)
class GapStudy:
    """The gap of every selected super-network stored in one table file.

    Attributes:
        table: the table file.
        synthetic: the table is synthetic.
        reports: one :class:`GapReport` per stored run, by method then seed.
        records: the stored runs the reports are about, in the same order.
    """

    table: str
    synthetic: bool
    reports: tuple[GapReport, ...]
    records: tuple[OneShotRecord, ...]

    def summary(self) -> dict[str, Any]:
        """JSON-able: per method, every run's report, the spread over seeds of τ, ρ, the
        top-fraction τ and the one-shot pick's percentile, and (DARTS, GDAS) of the final
        derived cell's stand-alone accuracy and its percentile among the table's cells."""
        out: dict[str, Any] = {}
        for method in dict.fromkeys(r.method for r in self.reports):
            reps = [r for r in self.reports if r.method == method]
            entry: dict[str, Any] = {
                "runs": [r.to_dict() for r in reps],
                "seed_spread": seed_spread(reps),
            }
            finals = [r.standalone_valid_acc[-1] for r in reps if r.standalone_valid_acc]
            if finals:
                entry["final_standalone_valid_acc"] = spread(finals)
                entry["final_standalone_percentile"] = spread(
                    [r.standalone_percentile[-1] for r in reps if r.standalone_percentile]
                )
            out[method] = entry
        return out


def _report(
    bench: TabularBenchmark, rec: OneShotRecord, ks: Sequence[float], top_fraction: float
) -> GapReport:
    if rec.method == "spos":
        truth = standalone_accuracy(bench, rec.arch_index, "valid_acc")
        return gap_report(rec, truth, ks=ks, top_fraction=top_fraction)
    assert rec.alpha is not None  # validated when read
    cells = bench.distinct_cells
    population = standalone_accuracy(bench, cells, "valid_acc")
    report = rank_gap(
        rec.method,
        rec.seed,
        alpha_log_prob(rec.alpha[-1], cells),
        population,
        ks=ks,
        top_fraction=top_fraction,
        cost=rec.cost,
    )
    sa = rec.standalone_valid_acc
    sa = np.full(rec.arch_index.shape, np.nan) if sa is None else np.asarray(sa, np.float64)
    return _with_trajectory(report, rec, sa, population)


def _with_trajectory(
    report: GapReport, rec: OneShotRecord, sa: np.ndarray, population: np.ndarray
) -> GapReport:
    import dataclasses

    return dataclasses.replace(
        report,
        derived=tuple(int(i) for i in rec.arch_index),
        standalone_valid_acc=tuple(float(v) for v in sa),
        standalone_percentile=tuple(float(v) for v in standalone_percentile(population, sa)),
        parameter_free=tuple(float(v) for v in parameter_free_fraction(rec.arch_index)),
    )


def gap_study(
    table: str | os.PathLike[str],
    *,
    method: str | None = None,
    seed: int | None = None,
    ks: Sequence[float] = (10, 50, 100),
    top_fraction: float = 0.1,
) -> GapStudy:
    """Rank agreement between each stored super-network and the table's stand-alone
    accuracies (see :mod:`nasbench_sim.oneshot.gap`), for SPOS, DARTS and GDAS alike; DARTS and
    GDAS reports also carry the derived cell per epoch.

    Args:
        table: a table file holding ``/oneshot`` groups.
        method, seed: only this method / super-network seed (default: all stored).
        ks: top-k sizes (counts, or fractions in (0, 1)).
        top_fraction: the stand-alone top fraction of the ``top_*`` statistics.

    Raises:
        OneShotError: no stored group matches (the message lists the groups present).
    """
    path = str(table)
    stored = list_oneshot(path)
    runs = [
        (m, s) for m, s in stored if (method is None or m == method) and (seed is None or s == seed)
    ]
    if not runs:
        have = ", ".join(f"{m}/seed_{s}" for m, s in stored) or "none"
        raise OneShotError(
            f"{path}: no one-shot group matches method={method} seed={seed}; groups present: "
            f"{have} (run `nasbench-sim oneshot` first)"
        )
    bench = TabularBenchmark.from_file(path)
    records = tuple(read_oneshot(path, m, s) for m, s in runs)
    reports = tuple(_report(bench, rec, ks, top_fraction) for rec in records)
    return GapStudy(path, bench.source.synthetic, reports, records)


def _nan_to_none(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, float | np.floating) and not np.isfinite(obj):
        return None
    return obj


def write_gap_study(study: GapStudy, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``gap.json`` and one plot per run into ``out``: the one-shot against stand-alone
    scatter of SPOS runs (``gap_spos_seed<s>.png``), the derived-cell trajectory of DARTS and
    GDAS runs (``trajectory_<method>_seed<s>.png``), as a whole (a temporary folder swapped
    in at the end; a folder holding other files is refused). Returns ``{run tag or "json":
    path}``."""
    bench = TabularBenchmark.from_file(study.table)
    with atomic_dir(out, GAP_FILES) as folder:
        names = _write(study, bench, folder)
    return {tag: Path(out) / name for tag, name in names.items()}


def _write(study: GapStudy, bench: TabularBenchmark, folder: Path) -> dict[str, str]:
    """The files of :func:`write_gap_study` into ``folder``: ``{run tag or "json": name}``."""
    from nasbench_sim.oneshot.plots import plot_gap_scatter, plot_trajectory

    written: dict[str, Path] = {}
    for rep, rec in zip(study.reports, study.records, strict=True):
        tag = f"{rec.method}_seed{rec.seed}"
        if rec.method == "spos":
            truth = standalone_accuracy(bench, rec.arch_index, "valid_acc")
            png = folder / f"gap_{tag}.png"
            written[tag] = plot_gap_scatter(
                rec, truth, rep, png, synthetic=study.synthetic, table=Path(study.table).name
            )
        else:
            written[tag] = plot_trajectory(rec, folder / f"trajectory_{tag}.png")
    text = json.dumps(_nan_to_none(study.summary()), indent=2, default=float, allow_nan=False)
    (folder / "gap.json").write_text(text)
    written["json"] = folder / "gap.json"
    return {tag: path.name for tag, path in written.items()}
