"""Plots of a table's exact Pareto fronts: every cell, the exact front, and strategies'
final incumbent fronts, on the objectives' own axes and units (``fronts.png`` of a
multi-objective comparison, see :mod:`analysis.compare_mo`; the datasheet's fronts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from analysis.plot_style import colors, label, legend_grid, log_ticks

__all__ = ["front_axes", "fronts_figure"]


def _order_xy(values: np.ndarray, x: int, y: int) -> np.ndarray:
    """Points ``(n, 2)`` of the objectives ``x`` and ``y``, sorted along ``x``."""
    pts = values[:, [x, y]]
    return pts[np.argsort(pts[:, 0], kind="stable")]


def front_axes(
    ax: Any,
    front: Any,
    x: int = 1,
    y: int = 0,
    *,
    strategy_rows: Mapping[str, np.ndarray] | None = None,
    order: Sequence[str] | None = None,
) -> None:
    """Draw, on ``ax``, every table row (grey), the exact front of objectives ``x`` against
    ``y`` (black steps) and each strategy's front rows (coloured steps and markers).

    With more than two objectives, the drawn points are the projection of the m-dimensional
    fronts; on the axes' own pair a projected point may look dominated.
    """
    objs = front.objectives.objectives
    values = front.values
    ok = np.isfinite(values[:, [x, y]]).all(axis=1)
    ax.scatter(values[ok, x], values[ok, y], s=2, color="0.8", lw=0, label="table cells", zorder=1)
    exact = _order_xy(values[front.front_rows], x, y)
    ax.step(exact[:, 0], exact[:, 1], where="post", color="black", lw=1.3, zorder=3)
    ax.plot(exact[:, 0], exact[:, 1], "o", color="black", ms=3, zorder=3, label="exact front")
    names = list(order or (strategy_rows or {}))
    palette = colors(names)
    for k, name in enumerate(names):
        rows = (strategy_rows or {}).get(name, np.zeros(0, dtype=np.int64))
        if rows.size == 0:
            continue
        pts = _order_xy(values[rows], x, y)
        marker = "sD^vP*Xh<>"[k % 10]
        ax.step(pts[:, 0], pts[:, 1], where="post", color=palette[name], lw=1.0, alpha=0.8,
                zorder=4)  # fmt: skip
        ax.plot(pts[:, 0], pts[:, 1], marker, color=palette[name], ms=3.5, zorder=5,
                label=label(name), ls="none")  # fmt: skip
    span = values[ok, x]
    if span.size and span.min() > 0 and span.max() > 10 * span.min():  # a decade or more
        ax.set_xscale("log")
        log_ticks(ax.xaxis, float(span.min()), float(span.max()))
    else:  # large counts (FLOPs) in few short labels, the power of ten beside the axis
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-4, 5), useMathText=True)
    xlabel = objs[x].label
    if ax.get_xscale() == "log":
        xlabel = xlabel[:-1] + ", log scale)" if xlabel.endswith(")") else xlabel + " (log scale)"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(objs[y].label)
    ax.grid(True, alpha=0.3)


def fronts_figure(
    front: Any,
    strategy_rows: Mapping[str, np.ndarray] | None = None,
    *,
    order: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """The exact front (and strategies' fronts) for the first objective against each other
    one, one panel per pair (at most three panels)."""
    m = len(front.objectives.objectives)
    pairs = [(k, 0) for k in range(1, min(m, 4))]
    fig = Figure(figsize=(6.5 if len(pairs) == 1 else 3.4 * len(pairs), 4.2), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)
    for ax, (x, y) in zip(axes[0], pairs, strict=True):
        front_axes(ax, front, x, y, strategy_rows=strategy_rows, order=order)
    handles, labels = axes[0][0].get_legend_handles_labels()
    ncol, _ = legend_grid(labels, width_in=6.5)
    fig.legend(handles, labels, loc="outside lower center", frameon=False, ncol=ncol,
               markerscale=1.5)  # fmt: skip
    fig.suptitle(title or f"Exact Pareto front ({front.front_rows.size} cells)", wrap=True)
    return fig
