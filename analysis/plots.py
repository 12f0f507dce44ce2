"""Comparison plots: anytime regret with confidence bands, and final-regret distributions.

Figures are sized for a paper (6.5 in wide, 9-pt text: readable when scaled to one column) and
saved as PNG at 200 dpi with the Agg backend, so no display is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.stats import t_interval

__all__ = ["LABELS", "anytime_plot", "audit_plot", "final_plot", "label", "time_unit"]

LABELS: dict[str, str] = {
    "random": "Random search",
    "evolution": "Regularized evolution",
    "local_search": "Local search",
    "reinforce": "REINFORCE",
    "qlearning": "Q-learning",
    "successive_halving": "Successive halving",
    "hyperband": "Hyperband",
    "asha": "ASHA",
    "optuna_tpe": "TPE (Optuna)",
    "optuna_random": "Random (Optuna)",
    "optuna_tpe_hyperband": "TPE + Hyperband pruning (Optuna)",
    "bananas": "BANANAS",
    "bo_xgb": "BO (XGBoost ens.)",
    "bo_gcn": "BO (GCN ens.)",
    "pnas": "PNAS (progressive)",
    "random_es": "Random search + LC early stop",
    "evolution_es": "Reg. evolution + LC early stop",
    "hyperband_es": "Hyperband + LC early stop",
    "spos": "SPOS (weight sharing)",
    "darts": "DARTS (weight sharing)",
    "gdas": "GDAS (weight sharing)",
}

_RC: dict[Any, Any] = {
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


def _colors(names: Sequence[str]) -> dict[str, tuple[float, ...]]:
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def anytime_plot(
    curves: Mapping[str, np.ndarray],
    times: np.ndarray,
    path: str | Path,
    *,
    title: str = "",
    confidence: float = 0.95,
    order: Sequence[str] | None = None,
    budget_s: float | None = None,
    x_axis: str = "time",
) -> Path:
    """Mean regret against simulated time (log x), with a confidence band per strategy.

    Args:
        curves: strategy → regret array ``(n_seeds, len(times))`` (see
            :func:`analysis.stats.anytime_curves`).
        times: the simulated times, seconds.
        path: where to write the PNG.
        title: figure title.
        confidence: level of the Student-t band of the mean.
        order: legend order (default: the mapping's order).
        budget_s: draw a dotted line at the budget.
        x_axis: ``"time"`` (``times`` are simulated seconds) or ``"queries"`` (``times`` are
            counts of results received; see :func:`analysis.stats.query_curves`).
    """
    names = list(order or curves)
    colors = _colors(names)
    unit, scale = time_unit(float(times[-1])) if x_axis == "time" else ("", 1.0)
    ncol, rows = _legend_grid([label(n) for n in names], width_in=6.5)
    band_alpha = 0.18 if len(names) <= 8 else 0.07  # many overlapping bands: lighter
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.5, 3.5 + 0.17 * rows), layout="constrained")
        lows: list[float] = []  # lower ends of the drawn bands: the y-axis floor
        for name in names:
            mean, half = t_interval(curves[name], confidence)
            # a strategy's line starts once every one of its runs has a result (a weight-sharing
            # run has none until its super-network is paid for): no mean of the fastest runs
            started = ~np.isnan(curves[name]).any(axis=0)
            mean, half = np.where(started, mean, np.nan), np.where(started, half, np.nan)
            if np.isfinite(mean).any():
                lows.append(float(np.nanmin(mean - np.nan_to_num(half))))
            n = curves[name].shape[0]
            ax.plot(times / scale, mean, color=colors[name], lw=1.6, label=f"{label(name)}")
            ax.fill_between(
                times / scale,
                np.maximum(mean - half, 1e-6),
                mean + half,
                color=colors[name],
                alpha=band_alpha,
                lw=0,
            )
        if budget_s is not None:
            ax.axvline(budget_s / scale, color="0.4", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(
            f"simulated training time ({unit}, log scale)"
            if x_axis == "time"
            else "results received (queries of any fidelity, log scale)"
        )
        ax.set_ylabel("test regret of incumbent (accuracy, log scale)")
        positive = [v for v in lows if v > 0]
        floor = max(min(positive) * 0.7, 1e-4) if positive else 1e-4
        ax.set_ylim(bottom=floor)
        ax.grid(True, which="major", alpha=0.3)
        ax.set_title(title or f"Mean regret, {int(confidence * 100)}% CI band, {n} seeds")
        fig.legend(loc="outside lower center", frameon=False, ncol=ncol)
        out = Path(path)
        fig.savefig(out, dpi=200)
        plt.close(fig)
    return out


def _legend_grid(labels: Sequence[str], width_in: float) -> tuple[int, int]:
    """Columns and rows of a legend of ``labels`` that fits ``width_in`` inches at 8 pt."""
    col_in = 0.065 * max(len(t) for t in labels) + 0.5  # handle, gap and the longest label
    ncol = max(1, min(len(labels), 4, int((width_in - 0.2) // col_in)))
    return ncol, -(-len(labels) // ncol)


def final_plot(
    final: pd.DataFrame,
    path: str | Path,
    *,
    order: Sequence[str] | None = None,
    title: str = "",
    seed: int = 0,
) -> Path:
    """Distribution of final regrets per strategy: box plot with every run as a dot, and the
    mean as a diamond. Strategies are ordered by mean final regret unless ``order`` is given."""
    means = final.groupby("strategy", observed=True)["final_regret"].mean()
    names = list(order) if order is not None else list(means.sort_values().index)
    colors = _colors(list(order) if order is not None else names)
    data = [final.loc[final["strategy"] == n, "final_regret"].dropna().to_numpy() for n in names]
    rng = np.random.default_rng(seed)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(names) + 1.2), layout="constrained")
        pos = np.arange(len(names))[::-1]
        ax.boxplot(
            data,
            positions=pos,
            orientation="horizontal",
            widths=0.6,
            showfliers=False,
            medianprops={"color": "black"},
        )
        for p, n, d in zip(pos, names, data, strict=True):
            jitter = rng.uniform(-0.18, 0.18, size=d.shape)
            ax.scatter(d, p + jitter, s=6, color=colors[n], alpha=0.55, lw=0)
            ax.scatter([d.mean()], [p], marker="D", s=28, color="black", zorder=3)
        ax.set_yticks(pos, [label(n) for n in names])
        ax.set_xlabel("final test regret of incumbent (accuracy, fraction)")
        ax.set_xlim(left=0)
        ax.grid(True, axis="x", alpha=0.3)
        n_runs = max((d.size for d in data), default=0)
        ax.set_title(title or f"Final regret at the budget ({n_runs} seeds; ◆ mean, box IQR)")
        out = Path(path)
        fig.savefig(out, dpi=200)
        plt.close(fig)
    return out


def audit_plot(
    summary: pd.DataFrame, path: str | Path, *, title: str = "", order: Sequence[str] | None = None
) -> Path:
    """Mean final regret (with its 95% CI) of each strategy on the table and on each surrogate.

    Args:
        summary: columns ``source`` (``"table"`` or a surrogate label), ``strategy``,
            ``mean_regret``, ``ci_low``, ``ci_high``.
        path: where to write the PNG.
        title: figure title.
        order: strategy order (default: by the table's mean regret).
    """
    sources = list(dict.fromkeys(summary["source"]))
    table = summary[summary["source"] == sources[0]].set_index("strategy")
    names = list(order) if order is not None else list(table["mean_regret"].sort_values().index)
    cmap = plt.get_cmap("viridis")
    colors = {
        s: ("black" if i == 0 else cmap(0.15 + 0.7 * (i - 1) / max(1, len(sources) - 2)))
        for i, s in enumerate(sources)
    }
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(names) + 1.4), layout="constrained")
        height = 0.8 / len(sources)
        base = np.arange(len(names))[::-1]
        for k, src in enumerate(sources):
            rows = summary[summary["source"] == src].set_index("strategy").reindex(names)
            y = base + 0.4 - height * (k + 0.5)
            err = np.vstack(
                [rows["mean_regret"] - rows["ci_low"], rows["ci_high"] - rows["mean_regret"]]
            )
            ax.errorbar(
                rows["mean_regret"],
                y,
                xerr=err,
                fmt="o",
                ms=4,
                color=colors[src],
                capsize=2,
                lw=1,
                label=src,
            )
        ax.set_yticks(base, [label(n) for n in names])
        ax.set_xlabel("mean final test regret (accuracy, fraction), 95% CI")
        ax.set_xlim(left=0)
        ax.grid(True, axis="x", alpha=0.3)
        fig.legend(loc="outside lower center", frameon=False, ncol=len(sources))
        ax.set_title(
            title or "Strategy regrets on the table and on surrogates fitted on part of it"
        )
        out = Path(path)
        fig.savefig(out, dpi=200)
        plt.close(fig)
    return out
