"""The final-regret plot of a comparison: every run's final regret per strategy, as a box
plot with the runs as dots, exact zeros in a strip and runs without a result as crosses."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.plot_style import ACCURACY_REGRET, RC, Quantity, RunContext, colors, label

__all__ = ["final_figure", "final_plot"]


def final_plot(final: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`final_figure` of ``final`` to the PNG ``path`` (keyword arguments as
    there) and return the path."""
    with matplotlib.rc_context(RC):
        fig = final_figure(final, **kwargs)
        out = Path(path)
        fig.savefig(out, dpi=200)
    return out


def final_figure(
    final: pd.DataFrame,
    *,
    order: Sequence[str] | None = None,
    title: str = "",
    seed: int = 0,
    context: RunContext | None = None,
    quantity: Quantity = ACCURACY_REGRET,
) -> Figure:
    """Distribution of final regrets per strategy: box plot with every run as a dot, and the
    mean as a diamond. Strategies are ordered by mean final regret unless ``order`` is given.

    Runs that found the optimum (regret exactly 0) are drawn as black-edged dots in a shaded
    strip left of the axis' zero, and the right-hand axis gives each strategy's share of them.
    Runs without a result inside the budget (``final["no_result"]``, scored with a fixed
    regret: see :func:`analysis.stats.score_runs`) are drawn as crosses; runs without a score
    (``final["unscored"]``: NaN regret) are left out, as they are from the summary, and the
    title's count of seeds is of the runs drawn.

    Args:
        final: columns ``strategy`` and ``final_regret``, one row per run (and, optionally,
            a boolean ``no_result``).
        order: strategies from top to bottom.
        title: figure title (default: from ``context``).
        seed: seeds the jitter of the dots.
        quantity: what ``final_regret`` measures (default: test regret in accuracy).
        context: table, budget, workers and seeds, for the title.
    """
    means = final.groupby("strategy", observed=True)["final_regret"].mean()
    names = list(order) if order is not None else list(means.sort_values().index)
    palette = colors(names)
    rows = [final[(final["strategy"] == n) & final["final_regret"].notna()] for n in names]
    data = [r["final_regret"].to_numpy(np.float64) for r in rows]
    missing = [
        r["no_result"].to_numpy(bool) if "no_result" in r else np.zeros(len(r), bool) for r in rows
    ]
    top = max((float(d.max()) for d in data if d.size), default=1.0) or 1.0
    margin = 0.05 * top
    fig = Figure(figsize=(6.5, max(0.45 * len(names) + 1.5, 2.9)), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(names))[::-1]
    ax.axvspan(-margin, 0.0, color="0.92", lw=0, zorder=0)
    ax.axvline(0.0, color="0.5", lw=0.8, zorder=1)
    ax.boxplot(
        data,
        positions=pos,
        orientation="horizontal",
        widths=0.6,
        showfliers=False,
        medianprops={"color": "black"},
    )
    rng = np.random.default_rng(seed)
    for p, n, d, none in zip(pos, names, data, missing, strict=True):
        _final_dots(ax, p, d, none, (palette[n], margin), rng)
    if any(m.any() for m in missing):
        ax.scatter([], [], marker="x", s=16, color="0.3", lw=0.9,
                   label=f"no result within the budget ({quantity.no_result})")  # fmt: skip
        ax.legend(loc="lower right", frameon=True, framealpha=0.9, fontsize=7)
    ax.set_yticks(pos, [label(n) for n in names])
    ax.set_xlabel(f"final {quantity.axis()}; grey strip: exactly 0")
    ax.set_xlim(-margin, top * 1.03)
    ax.set_ylim(pos.min() - 0.6, pos.max() + 0.6)
    ax.grid(True, axis="x", alpha=0.3)
    shares = ax.twinx()
    shares.set_ylim(ax.get_ylim())
    shares.set_yticks(pos, [_zero_share(d) for d in data])
    shares.set_ylabel(f"runs that {quantity.zero}\n(regret 0)")
    shares.spines["right"].set_visible(True)
    n_runs = max((d.size for d in data), default=0)
    note = "◆ mean, box quartiles"
    default = f"Final {quantity.name} at the budget ({n_runs} seeds; {note})"
    if context is not None:
        default = context.title(f"final {quantity.name} at the budget", f"{context.setup}; {note}")
    ax.set_title(title or default, wrap=True)
    return fig


def _final_dots(
    ax: Any,
    p: float,
    d: np.ndarray,
    none: np.ndarray,
    style: tuple[Any, float],
    rng: np.random.Generator,
) -> None:
    """One strategy's runs at height ``p``: jittered dots, exact zeros in the strip left of
    0 (``style``'s margin wide), runs without a result as crosses, and the mean."""
    color, margin = style
    jitter = rng.uniform(-0.18, 0.18, size=d.shape)
    zero = (d == 0.0) & ~none
    plain = ~zero & ~none
    dots = {"s": 9, "color": color, "edgecolors": "black", "linewidths": 0.4, "zorder": 3}
    ax.scatter(d[plain], p + jitter[plain], alpha=0.8, **dots)  # above the box, as the zeros
    strip = -0.5 * margin + rng.uniform(-0.3, 0.3, size=int(zero.sum())) * margin
    ax.scatter(strip, p + jitter[zero], **dots)
    ax.scatter(d[none], p + jitter[none], marker="x", s=16, color=color, lw=0.9, zorder=3)
    if d.size:
        ax.scatter([d.mean()], [p], marker="D", s=28, color="black", zorder=4)


def _zero_share(regrets: np.ndarray) -> str:
    """``"40% (12/30)"``: the share of runs whose final regret is exactly 0."""
    if not regrets.size:
        return "—"
    k = int(np.sum(regrets == 0.0))
    return f"{k / regrets.size:.0%} ({k}/{regrets.size})"
