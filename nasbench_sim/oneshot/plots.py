"""Plots of one-shot runs: the one-shot vs stand-alone scatter and, for DARTS/GDAS, the derived
cell's accuracy and op-weight evolution per epoch. Figures are sized for a paper column (3.4 in
wide) at 200 dpi, drawn on :class:`matplotlib.figure.Figure` objects (no pyplot, no backend
chosen or changed, no global settings touched)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.oneshot.gap import GapReport, parameter_free_fraction
from nasbench_sim.oneshot.store import OneShotRecord
from nasbench_sim.space import OPS

__all__ = ["plot_gap_scatter", "plot_trajectory"]

_DPI = 200


_RC: dict[Any, Any] = {"font.size": 7, "axes.titlesize": 7, "legend.fontsize": 6}


def _figure(**kwargs: Any) -> Any:
    """A new figure with this module's font sizes (call inside ``matplotlib.rc_context``)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def plot_gap_scatter(
    record: OneShotRecord,
    standalone: np.ndarray,
    report: GapReport,
    path: str | os.PathLike[str],
    *,
    synthetic: bool = False,
    table: str = "",
) -> Path:
    """Scatter of one-shot (x) against stand-alone (y) validation accuracy, one dot per cell,
    with τ and ρ in the title and, under it, the ``table`` it was measured on (SYNTHETIC
    when it is). Returns the PNG's path."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        return _draw_gap_scatter(record, standalone, report, path, (synthetic, table))


def _draw_gap_scatter(
    record: OneShotRecord,
    standalone: np.ndarray,
    report: GapReport,
    path: Any,
    source: tuple[bool, str],
) -> Path:
    fig = _figure(figsize=(3.4, 3.0), layout="constrained")
    ax = fig.subplots()
    x = 100 * np.asarray(record.valid_acc)
    y = 100 * np.asarray(standalone)
    keep = np.isfinite(x) & np.isfinite(y)
    top = np.zeros(keep.sum(), dtype=bool)
    order = np.argsort(-y[keep], kind="stable")[: report.n_top]
    top[order] = True
    size = 6 if keep.sum() <= 1000 else 2
    ax.scatter(
        x[keep][~top], y[keep][~top], s=size, alpha=0.6, color="tab:blue", lw=0, label="cells"
    )
    ax.scatter(
        x[keep][top], y[keep][top], s=size + 2, color="tab:red", lw=0,
        label=f"stand-alone top {100 * report.top_fraction:g}%",
    )  # fmt: skip
    ax.set_xlabel("one-shot validation accuracy (%, inherited weights)")
    ax.set_ylabel("stand-alone validation accuracy (%, table mean)")
    title = (
        f"{record.method.upper()} seed {record.seed}: Kendall τ={report.kendall_tau:.2f}, "
        f"Spearman \u03c1={report.spearman_rho:.2f}, n={report.n_cells}"
    )
    synthetic, table = source
    under = f"SYNTHETIC table {table}" if synthetic else f"table {table}" if table else ""
    ax.set_title(f"{title}\n{under.strip()}" if under else title)
    ax.legend(loc="upper left", frameon=True, framealpha=0.85, markerscale=2)
    ax.grid(alpha=0.3)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=_DPI)
    return out


def plot_trajectory(record: OneShotRecord, path: str | os.PathLike[str]) -> Path:
    """Three panels over epochs: the derived cell's accuracy (stand-alone from the table, and
    one-shot), its fraction of parameter-free ops, and the edge-averaged softmax(α) per op."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        return _draw_trajectory(record, path)


def _draw_trajectory(record: OneShotRecord, path: Any) -> Path:
    from matplotlib.ticker import MaxNLocator

    fig = _figure(figsize=(3.4, 5.2), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [1.2, 0.7, 1.2]})
    epochs = np.arange(1, record.arch_index.size + 1)
    missing = 0
    for arr, label, style in (
        (record.standalone_valid_acc, "stand-alone valid (table)", "o-"),
        (record.standalone_test_acc, "stand-alone test (table)", "s--"),
        (record.valid_acc, "one-shot valid (inherited)", "^:"),
    ):
        if arr is not None:
            values = 100 * np.asarray(arr, dtype=np.float64)
            missing += int(np.isnan(values).sum()) if "table" in label else 0
            ax1.plot(epochs, values, style, ms=3, label=label)
    ax1.set_ylabel("derived cell accuracy (%)")
    title = f"{record.method.upper()} seed {record.seed}: derived cell per epoch"
    if missing:
        title += "\n(blank: derived cell has no table row)"
    ax1.set_title(title)
    ax1.legend(loc="best", frameon=False)
    ax2.plot(epochs, parameter_free_fraction(record.arch_index), "k.-")
    ax2.set_ylim(-0.05, 1.05)
    ax2.set_ylabel("param.-free op\nfraction (0-1)")
    alpha = np.asarray(record.alpha) if record.alpha is not None else np.zeros((epochs.size, 6, 5))
    mean_w = alpha.mean(axis=1)
    for o, name in enumerate(OPS):
        ax3.plot(epochs, mean_w[:, o], "-", marker=".", label=name)
    ax3.ticklabel_format(axis="y", useOffset=False)
    ax3.set_xlabel("epoch")
    ax3.set_ylabel("softmax(\u03b1), mean over edges")
    ax3.legend(loc="best", frameon=False, ncol=2)
    ax3.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in (ax1, ax2, ax3):
        ax.grid(alpha=0.3)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=_DPI)
    return out
