"""Plots of predictor evaluations (frames from :mod:`predictors.evaluate`).

All functions draw on :class:`matplotlib.figure.Figure` objects (no pyplot, no backend chosen,
no global rcParams changed) into a PNG and return its path; figures are sized for a paper
column (3.4 in wide) at 200 dpi.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from nasbench_sim.atomic import atomic_dir
from predictors.evaluate import PredictorStudy, summarize

__all__ = [
    "METRIC_LABELS",
    "PREDICTOR_FILES",
    "plot_lc_fraction",
    "plot_predictor_metrics",
    "plot_times",
    "write_predictor_study",
]

PREDICTOR_FILES: tuple[str, ...] = (
    "predictors.csv",
    "lc_fraction.csv",
    "predictors_*.png",
    "lc_fraction.png",
)
"""What :func:`write_predictor_study` writes (shell-style patterns)."""

METRIC_LABELS: dict[str, str] = {
    "kendall_tau": "Kendall τ (held-out cells)",
    "spearman_rho": "Spearman \u03c1 (held-out cells)",
    "r2": "R² (held-out cells)",
    "precision_top5": "top-5% precision (fraction)",
}
_FILE_STEM = {
    "kendall_tau": "tau",
    "spearman_rho": "rho",
    "r2": "r2",
    "precision_top5": "top5",
}
_BOUNDS: dict[str, tuple[float, float]] = {
    "kendall_tau": (-1.0, 1.0),
    "spearman_rho": (-1.0, 1.0),
    "r2": (-np.inf, 1.0),
    "precision_top5": (0.0, 1.0),
}
"""The values each metric can take: confidence bands are clipped to them."""
_COLUMN = (3.4, 2.6)
_LEGEND_COLUMNS = 4
_DPI = 200


_RC: dict[Any, Any] = {"font.size": 7, "axes.titlesize": 7, "legend.fontsize": 6}


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI)
    return path


def _size_axis(ax: object, sizes: np.ndarray) -> None:
    """Log x-axis ticked at the training sizes, with plain labels."""
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    ax.set_xscale("log")  # type: ignore[attr-defined]
    ax.xaxis.set_major_locator(FixedLocator(sorted(set(sizes.tolist()))))  # type: ignore[attr-defined]
    ax.xaxis.set_major_formatter(ScalarFormatter())  # type: ignore[attr-defined]
    ax.xaxis.set_minor_locator(NullLocator())  # type: ignore[attr-defined]
    ax.set_xlabel("training cells (count, log scale)")  # type: ignore[attr-defined]


def _band(
    ax: Any, x: np.ndarray, mean: np.ndarray, ci: np.ndarray, metric: str, color: Any
) -> float:
    """A confidence band around ``mean``, clipped to the values ``metric`` can take (a
    normal-theory interval of a mean near 1 would otherwise claim a τ or an R² above 1);
    returns the band's lowest point."""
    low, high = _BOUNDS.get(metric, (-np.inf, np.inf))
    lower = np.clip(mean - np.nan_to_num(ci), low, high)
    ax.fill_between(
        x, lower, np.clip(mean + np.nan_to_num(ci), low, high),
        color=color, alpha=0.2, linewidth=0,
    )  # fmt: skip
    return float(np.nanmin(lower)) if np.isfinite(lower).any() else np.nan


def _mark(synthetic: bool, heading: str) -> str:
    """What a title says of its table: ``heading`` (see
    :func:`~analysis.plot_style.source_heading`), else SYNTHETIC when it is."""
    return heading or ("SYNTHETIC table" if synthetic else "")


def _title(title: str, mark: str) -> str:
    return f"{title}\n{mark}" if mark else title


def plot_predictor_metrics(
    frame: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    metrics: Sequence[str] = tuple(METRIC_LABELS),
    synthetic: bool = False,
    noise_ceiling: float | None = None,
    heading: str = "",
) -> list[Path]:
    """One PNG per metric (``predictors_tau.png`` ...): mean over trials against training-set
    size (log x-axis) with a 95% confidence band, one line per predictor.

    Args:
        frame: the output of :func:`~predictors.evaluate.evaluate_predictors`.
        out_dir: folder for the PNGs.
        metrics: metric columns to plot.
        synthetic: label the plots as made from a synthetic table.
        noise_ceiling: drawn as a dashed line on the Kendall τ plot when given.
        heading: the table's heading for the titles (naming it; SYNTHETIC or BUILD IN
            PROGRESS when it is), see :func:`~analysis.plot_style.source_heading`.
    """
    out = Path(out_dir)
    summary = summarize(frame)
    paths = []
    for metric in metrics:
        path = out / f"predictors_{_FILE_STEM.get(metric, metric)}.png"
        with matplotlib.rc_context(_RC):
            paths.append(
                _save(
                    _metric_figure(summary, metric, _mark(synthetic, heading), noise_ceiling), path
                )
            )
    return paths


def _metric_figure(
    summary: pd.DataFrame, metric: str, mark: str, noise_ceiling: float | None
) -> Figure:
    """One metric against training-set size, a line and a band per predictor."""
    n_predictors = summary["predictor"].nunique()
    rows = -(-(n_predictors + 1) // _LEGEND_COLUMNS)  # the legend below the axes: no overlap
    fig = Figure(figsize=(_COLUMN[0], _COLUMN[1] + 0.13 * rows), layout="constrained")
    ax = fig.subplots()
    lows = []
    for name, grp in summary.groupby("predictor", sort=True):
        grp = grp.sort_values("train_size")
        x = grp["train_size"].to_numpy(dtype=float)
        m = grp[metric].to_numpy(dtype=float)
        ci = grp[metric + "_ci"].to_numpy(dtype=float)
        (line,) = ax.plot(x, m, marker="o", markersize=2.5, linewidth=1.0, label=str(name))
        lows.append(_band(ax, x, m, ci, metric, line.get_color()))
    if metric == "kendall_tau" and noise_ceiling is not None:
        ax.axhline(
            noise_ceiling,
            color="0.3",
            linestyle="--",
            linewidth=0.8,
            label=f"seed-to-seed τ = {noise_ceiling:.2f}",
        )
    _size_axis(ax, summary["train_size"].to_numpy())
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    lo = np.nanmin(lows) if np.isfinite(lows).any() else 0.0  # the whole band in view
    ax.set_ylim(max(-0.2, _BOUNDS.get(metric, (-np.inf, 1.0))[0], lo) - 0.03, 1.02)
    ax.set_title(_title(f"Predictors: {METRIC_LABELS.get(metric, metric)}", mark))
    ax.grid(True, which="both", linewidth=0.3, alpha=0.5)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=_LEGEND_COLUMNS, frameon=False)
    return fig


def plot_lc_fraction(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    synthetic: bool = False,
    heading: str = "",
) -> Path:
    """R² (and Kendall τ) of the learning-curve SVR against the fraction of the curve seen."""
    summary = summarize(frame, by=("fraction",), metrics=("r2", "kendall_tau"))
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=_COLUMN, layout="constrained")
        _lc_axes(fig.subplots(), summary, frame, _mark(synthetic, heading))
        return _save(fig, Path(path))


def _lc_axes(ax: Any, summary: pd.DataFrame, frame: pd.DataFrame, mark: str) -> None:
    """R² and Kendall τ against the share of the curve seen, with clipped bands."""
    x = summary["fraction"].to_numpy(dtype=float) * 100.0
    for metric, label in (("r2", "R²"), ("kendall_tau", "Kendall τ")):
        m = summary[metric].to_numpy(dtype=float)
        ci = summary[metric + "_ci"].to_numpy(dtype=float)
        (line,) = ax.plot(x, m, marker="o", markersize=2.5, linewidth=1.0, label=label)
        _band(ax, x, m, ci, metric, line.get_color())
    n_train = int(frame["n_train"].iloc[0]) if len(frame) else 0
    ax.set_xlabel("learning curve observed (% of epochs)")
    ax.set_ylabel("score on held-out cells")
    ax.set_title(_title(f"LC-SVR, {n_train} training curves", mark))
    ax.grid(True, linewidth=0.3, alpha=0.5)
    ax.legend(loc="lower right", frameon=False)


def plot_times(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    synthetic: bool = False,
    heading: str = "",
) -> Path:
    """Fit and predict time (seconds, log axes) against training-set size, per predictor."""
    summary = summarize(frame, metrics=("fit_time_s", "predict_time_s"))
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(6.8, 2.9), layout="constrained")
        _times_axes(fig.subplots(1, 2, sharex=True), summary, frame, _mark(synthetic, heading))
        return _save(fig, Path(path))


def _times_axes(axes: Any, summary: pd.DataFrame, frame: pd.DataFrame, mark: str) -> None:
    """Fit time (left) and predict time (right) against training-set size."""
    for ax, metric, label in (
        (axes[0], "fit_time_s", "fit time (s)"),
        (axes[1], "predict_time_s", "predict time (s)"),
    ):
        for name, grp in summary.groupby("predictor", sort=True):
            grp = grp.sort_values("train_size")
            x = grp["train_size"].to_numpy(dtype=float)
            m = np.maximum(grp[metric].to_numpy(dtype=float), 1e-5)
            ax.plot(x, m, marker="o", markersize=2.5, linewidth=1.0, label=str(name))
        _size_axis(ax, summary["train_size"].to_numpy())
        ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.grid(True, which="both", linewidth=0.3, alpha=0.5)
    n_test = int(frame["n_test"].iloc[0]) if len(frame) else 0
    axes[1].set_title(f"(on {n_test} test cells)")
    axes[0].set_title(_title("Predictor cost (CPU)", mark))
    handles, labels = axes[0].get_legend_handles_labels()  # below both panels, off the lines
    axes[0].figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 8),
                          frameon=False)  # fmt: skip


def write_predictor_study(
    study: PredictorStudy,
    out: str | os.PathLike[str],
    *,
    plots: bool = True,
    synthetic: bool = False,
    heading: str = "",
) -> list[Path]:
    """Write ``predictors.csv`` (and ``lc_fraction.csv``) and, with ``plots``, one PNG per
    metric, ``predictors_time.png`` and ``lc_fraction.png`` into the folder ``out``, as a
    whole (a temporary folder swapped in at the end; a folder holding other files is refused).

    Args:
        study: :func:`predictors.evaluate.predictor_study`'s result.
        out: the output folder.
        plots: draw the PNGs (else CSV files only).
        synthetic: label the plots as made from a synthetic table.
        heading: the table's heading for the titles (see
            :func:`~analysis.plot_style.source_heading`).
    """
    with atomic_dir(out, PREDICTOR_FILES) as folder:
        study.frame.to_csv(folder / "predictors.csv", index=False)
        written = [folder / "predictors.csv"]
        if study.lc is not None:
            study.lc.to_csv(folder / "lc_fraction.csv", index=False)
            written.append(folder / "lc_fraction.csv")
        if plots:
            ceiling = study.noise_ceiling
            written += plot_predictor_metrics(
                study.frame, folder, synthetic=synthetic, noise_ceiling=ceiling, heading=heading
            )
            written.append(
                plot_times(study.frame, folder / "predictors_time.png", synthetic, heading)
            )
            if study.lc is not None:
                written.append(
                    plot_lc_fraction(study.lc, folder / "lc_fraction.png", synthetic, heading)
                )
    return [Path(out) / p.name for p in written]
