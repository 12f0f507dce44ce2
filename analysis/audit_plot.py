"""The audit plot: each strategy's mean final regret on a table and on surrogates of it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.plot_style import RC, label

__all__ = ["audit_figure", "audit_plot"]


def audit_plot(
    summary: pd.DataFrame, path: str | Path, *, title: str = "", order: Sequence[str] | None = None
) -> Path:
    """Write :func:`audit_figure` to the PNG ``path`` and return the path."""
    with matplotlib.rc_context(RC):
        fig = audit_figure(summary, title=title, order=order)
        out = Path(path)
        fig.savefig(out, dpi=200)
    return out


def audit_figure(
    summary: pd.DataFrame, *, title: str = "", order: Sequence[str] | None = None
) -> Figure:
    """Mean final regret (with its 95% CI) of each strategy on the table and on each surrogate.

    Args:
        summary: columns ``source`` (``"table"`` or a surrogate label), ``strategy``,
            ``mean_regret``, ``ci_low``, ``ci_high``.
        title: figure title.
        order: strategy order (default: by the table's mean regret).
    """
    sources = list(dict.fromkeys(summary["source"]))
    table = summary[summary["source"] == sources[0]].set_index("strategy")
    names = list(order) if order is not None else list(table["mean_regret"].sort_values().index)
    cmap = matplotlib.colormaps["viridis"]
    colors = {
        s: ("black" if i == 0 else cmap(0.15 + 0.7 * (i - 1) / max(1, len(sources) - 2)))
        for i, s in enumerate(sources)
    }
    fig = Figure(figsize=(6.5, 0.5 * len(names) + 1.6), layout="constrained")
    ax = fig.subplots()
    height = 0.8 / len(sources)
    base = np.arange(len(names))[::-1]
    for k, src in enumerate(sources):
        rows = summary[summary["source"] == src].set_index("strategy").reindex(names)
        y = base + 0.4 - height * (k + 0.5)
        err = np.vstack(
            [rows["mean_regret"] - rows["ci_low"], rows["ci_high"] - rows["mean_regret"]]
        )
        ax.errorbar(rows["mean_regret"], y, xerr=err, fmt="o", ms=4, color=colors[src],
                    capsize=2, lw=1, label=src)  # fmt: skip
    ax.set_yticks(base, [label(n) for n in names])
    ax.set_xlabel("mean final test regret (accuracy, fraction), 95% CI")
    ax.set_xlim(left=0)
    ax.grid(True, axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", frameon=False, ncol=len(sources))
    ax.set_title(title or "Strategy regrets on the table and on surrogates fitted on part of it")
    return fig
