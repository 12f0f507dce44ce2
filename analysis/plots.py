"""Comparison plots: anytime regret with confidence bands, and the figures of a comparison
(:func:`regret_figures`); the final-regret and audit plots live in
:mod:`analysis.final_plot` and :mod:`analysis.audit_plot` and are re-exported here.

Figures are sized for a paper (see :mod:`analysis.plot_style`) and saved as PNG at 200 dpi
drawn on :class:`matplotlib.figure.Figure` objects, never through pyplot, so no backend is
chosen or changed (no display needed, none touched).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.audit_plot import audit_figure, audit_plot
from analysis.final_plot import final_figure, final_plot
from analysis.plot_style import (
    ACCURACY_REGRET,
    LABELS,
    RC,
    Quantity,
    RunContext,
    colors,
    label,
    legend_grid,
    log_ticks,
    log_y_ticks,
    time_unit,
)
from analysis.stats import anytime_curves, query_curves, t_interval, time_grid
from nasbench_sim.bench import Budget

__all__ = [
    "LABELS",
    "RunContext",
    "anytime_figure",
    "anytime_plot",
    "audit_figure",
    "audit_plot",
    "final_figure",
    "final_plot",
    "label",
    "regret_figures",
    "time_unit",
]


def _carry_forward(curves: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Each run's last value repeated after its last result, up to the end of the longest run
    (a run that has ended keeps its final regret), and the number of grid points the shortest
    and the longest run with any result cover."""
    x = np.array(curves, dtype=np.float64)
    have = ~np.isnan(x)
    ran = have.any(axis=1)
    if not ran.any():
        return x, 0, 0
    last = np.where(ran, x.shape[1] - 1 - np.argmax(have[:, ::-1], axis=1), -1)
    longest = int(last.max()) + 1
    cols = np.arange(x.shape[1])
    for i in np.flatnonzero(ran):
        x[i, (cols > last[i]) & (cols < longest)] = x[i, last[i]]
    return x, int(last[ran].min()) + 1, longest


def _draw_curve(
    ax: Any,
    xs: np.ndarray,
    curves: np.ndarray,
    *,
    style: tuple[Any, float, str],
    confidence: float,
    queries: bool,
    start: float | None = None,
) -> tuple[float | None, tuple[float, float] | None]:
    """One strategy's mean line and CI band; returns the lower end of the drawn band and, on
    the results axis where the longest run ends, on the time axis where the line ends:
    ``(x, mean final regret)``; for a mean final regret of 0, the x from which the mean stays
    0 (where the log axis drops the line). ``start``: the x
    from which every run has a result (the mean at each x is then over the runs whose regret
    is known there); ``None``: the first x at which no run's regret is NaN."""
    color, band_alpha, name = style
    shortest = longest = xs.size
    missing = int(np.isnan(curves).all(axis=1).sum()) if curves.size else 0
    if missing:  # no result (summary.csv: an untrained guess) or unscored: no curve
        runs = f"{missing} run{'s' if missing > 1 else ''} without a scored result"
        name += f" ({runs} left out)" if queries else f" (no line: {runs})"
    if queries:
        curves, shortest, longest = _carry_forward(curves)
        curves = curves[~np.isnan(curves).all(axis=1)]  # runs without any result never start
    mean, half = t_interval(curves, confidence)
    # a line starts once every one of its runs has a result (a weight-sharing run has none
    # until its super-network is paid for): no mean of the fastest runs
    if start is not None:
        started = (xs >= start) & ~np.isnan(curves).all(axis=0)
    else:
        started = ~np.isnan(curves).any(axis=0) if curves.size else np.zeros(xs.size, bool)
    mean, half = np.where(started, mean, np.nan), np.where(started, half, np.nan)
    k = np.arange(xs.size)
    ax.plot(xs, np.where(k < shortest, mean, np.nan), color=color, lw=1.6, label=name)
    if longest > shortest:  # from the end of the shortest run: dashed, ended runs carried
        dashed = (k >= shortest - 1) & (k < longest)
        ax.plot(xs, np.where(dashed, mean, np.nan), color=color, lw=1.2, ls="--")
    ax.fill_between(
        xs, np.maximum(mean - half, 1e-6), mean + half, color=color, alpha=band_alpha, lw=0
    )
    last = None
    if queries and longest > 0 and np.isfinite(mean[longest - 1]):
        last = longest - 1
    elif not queries and np.isfinite(mean).any():  # the time axis: the line's last point
        last = int(np.flatnonzero(np.isfinite(mean))[-1])
    end = None
    if last is not None:
        if mean[last] == 0:  # the log axis drops the line where its mean reaches 0 for good:
            nonzero = np.flatnonzero(mean[: last + 1] != 0)  # the mark goes there (NaN != 0)
            last = int(nonzero[-1]) + 1 if nonzero.size else 0
        end = (float(xs[last]), float(mean[last]))
    low = float(np.nanmin(mean - np.nan_to_num(half))) if np.isfinite(mean).any() else None
    return low, end


def _end_marks(
    ax: Any, ends: Sequence[tuple[float, float, Any]], floor: float, dots: bool = True
) -> None:
    """A dot at each line's mean final regret (``dots``); a triangle on the axis floor for a
    mean of 0, which a log axis cannot show."""
    zero = False
    for x, y, color in ends:
        if y > 0:  # below the floor but not 0: a dot on the floor, never "every run optimal"
            if dots:
                ax.plot(x, max(y, floor), "o", color=color, ms=3.5, clip_on=False)
        else:
            ax.plot(x, floor, "v", color=color, ms=5, clip_on=False)
            zero = True
    if dots:
        ax.plot([], [], "o", color="0.35", ms=3.5, label="all runs ended: mean final regret")
    if zero:
        ax.plot([], [], "v", color="0.35", ms=5, label="mean final regret 0 (every run optimal)")


def anytime_plot(
    curves: Mapping[str, np.ndarray],
    times: np.ndarray,
    path: str | Path,
    **kwargs: Any,
) -> Path:
    """Write :func:`anytime_figure` of ``curves`` to the PNG ``path`` (keyword arguments as
    there) and return the path."""
    with matplotlib.rc_context(RC):
        fig = anytime_figure(curves, times, **kwargs)
        out = Path(path)
        fig.savefig(out, dpi=200)
    return out


def anytime_figure(
    curves: Mapping[str, np.ndarray],
    times: np.ndarray,
    *,
    title: str = "",
    confidence: float = 0.95,
    order: Sequence[str] | None = None,
    budget_s: float | None = None,
    x_axis: str = "time",
    context: RunContext | None = None,
    quantity: Quantity = ACCURACY_REGRET,
    starts: Mapping[str, float] | None = None,
) -> Figure:
    """Mean regret against simulated time or results received (log axes), with a confidence
    band per strategy.

    On the results axis runs have different lengths: a run that has ended keeps its final
    regret (as ``summary.csv`` scores it), each line turns dashed where the shortest of its
    runs ended, and a dot at the end of the longest marks the mean final regret of all runs. A
    mean final regret of 0, which a log axis cannot show, gets a triangle on the floor where
    the mean reaches 0 for good (on the time axis too).

    Args:
        curves: strategy → regret array ``(n_seeds, len(times))`` (see
            :func:`analysis.stats.anytime_curves` and :func:`analysis.stats.query_curves`).
        times: the simulated times, seconds, or the counts of results received.
        title: figure title (default: from ``context``).
        confidence: level of the Student-t band of the mean.
        order: legend order (default: the mapping's order).
        budget_s: draw a labelled dotted line at a time budget (default: ``context``'s).
        x_axis: ``"time"`` (``times`` are simulated seconds) or ``"queries"`` (``times`` are
            counts of results received; see :func:`analysis.stats.query_curves`).
        context: table, budget, workers and seeds, for the title.
        quantity: what the curves measure (default: test regret in accuracy).
        starts: per strategy, the time (or count) from which every run has a result; each
            point then averages the runs whose regret is known there. ``None``: a line starts
            where no run's regret is NaN.
    """
    names = list(order or curves)
    palette = colors(names)
    queries = x_axis == "queries"
    unit, scale = time_unit(float(times[-1])) if not queries else ("", 1.0)
    if budget_s is None and context is not None and not queries:
        budget_s = context.budget_s
    band_alpha = 0.18 if len(names) <= 8 else 0.07  # many overlapping bands: lighter
    fig = Figure(figsize=(6.5, 3.7), layout="constrained")
    ax = fig.subplots()
    lows, highs, ends = [], [], []  # drawn band ends: the y-axis range; lines' end points
    for name in names:
        style = (palette[name], band_alpha, label(name))
        start = None if starts is None or name not in starts else starts[name] / scale
        low, end = _draw_curve(ax, times / scale, curves[name], style=style,
                               confidence=confidence, queries=queries, start=start)  # fmt: skip
        if low is not None:
            lows.append(low)
            highs.append(float(np.nanmax(curves[name])))
        if end is not None:
            ends.append((*end, palette[name]))
    if budget_s is not None:
        _budget_line(ax, budget_s / scale, unit)
    if queries and any(np.isnan(curves[n]).any() for n in names):
        ended = "some runs ended (final regret kept)"
        ax.plot([], [], color="0.35", lw=1.2, ls="--", label=ended)
    ax.set_xscale("log")
    ax.set_yscale("log")
    positive = [v for v in lows if v > 0]
    floor = max(min(positive) * 0.7, 1e-4) if positive else 1e-4
    ax.set_ylim(bottom=floor)
    _end_marks(ax, ends, floor, dots=queries)  # time: every line runs to the end, zeros marked
    log_y_ticks(ax, floor, max(highs, default=1.0))
    span = times[times > 0] / scale
    if span.size:  # no minor labels (``2×10⁻¹``) on a short axis
        log_ticks(ax.xaxis, float(span.min()), float(span.max()))
    n = max((c.shape[0] for c in curves.values()), default=0)
    _label_anytime(ax, title, confidence, n, queries, unit, context, quantity)
    handles, labels = ax.get_legend_handles_labels()
    ncol, rows = legend_grid(labels, width_in=6.5)  # the markers' entries are the longest
    fig.set_size_inches(6.5, 3.7 + 0.17 * rows)
    fig.legend(handles, labels, loc="outside lower center", frameon=False, ncol=ncol)
    return fig


def _label_anytime(
    ax: Any,
    title: str,
    confidence: float,
    n: int,
    queries: bool,
    unit: str,
    context: RunContext | None,
    quantity: Quantity,
) -> None:
    """Axis labels, grid and title of an anytime plot."""
    ax.set_xlabel(
        f"simulated training time ({unit}, log scale)"
        if not queries
        else "results received (queries of any fidelity, log scale)"
    )
    ax.set_ylabel(quantity.axis("log scale"))
    ax.grid(True, which="major", alpha=0.3)
    what = "results received" if queries else "simulated time"
    default = f"Mean {quantity.name}, {confidence:.0%} CI band, {n} seeds"
    if context is not None:
        default = context.title(
            f"mean {quantity.name} against {what}", f"{confidence:.0%} CI band; {context.setup}"
        )
    ax.set_title(title or default, wrap=True)


def _budget_line(ax: Any, x: float, unit: str) -> None:
    """A dotted vertical line at the budget, labelled along its top."""
    ax.axvline(x, color="0.3", ls=":", lw=1)
    ax.annotate(
        f"budget {x:.3g} {unit}",
        (x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-3, -3),
        textcoords="offset points",
        rotation=90,
        ha="right",
        va="top",
        fontsize=8,
        color="0.3",
    )


def _time_starts(in_budget: pd.DataFrame, final: pd.DataFrame) -> dict[str, float]:
    """Per strategy, the time its last scored run gets its first result (infinite when a
    scored run gets none inside the budget: the line is not drawn, as a mean of only the
    faster runs would flatter it)."""
    first = in_budget.groupby(["strategy", "seed"], observed=True)["finish"].min()
    scored = final
    if "unscored" in final:
        scored = final[~final["unscored"].to_numpy(bool)]
    runs = scored.groupby("strategy", observed=True).size()
    out = {}
    for name, times in first.groupby(level="strategy", observed=True):
        complete = len(times) >= int(runs.get(name, 0))
        out[str(name)] = float(times.max()) if complete else float("inf")
    return out


def _message_figure(text: str) -> Figure:
    """A figure that says why there is no plot."""
    fig = Figure(figsize=(6.5, 2.0), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return fig


def regret_figures(
    runs: pd.DataFrame,
    final: pd.DataFrame,
    budget: Budget,
    *,
    order: Sequence[str],
    context: RunContext,
    quantity: Quantity = ACCURACY_REGRET,
    prefix: str = "",
) -> dict[str, Figure]:
    """The three plots of a comparison: ``anytime.png`` (mean regret against simulated time),
    ``anytime_queries.png`` (against results received) and ``final.png`` (every run's final
    regret), each name after ``prefix``. When no run has a result inside the budget the two
    anytime figures say so instead of drawing empty axes. Runs that ``final`` marks
    ``unscored`` (an incumbent without a test value) are left out of the anytime curves, as
    they are from the summary.

    Args:
        runs: the query logs (columns ``strategy``, ``seed``, ``finish``, ``regret``).
        final: one row per run (``strategy``, ``seed``, ``final_regret``, optionally
            ``no_result`` and ``unscored``).
        budget: the runs' budget.
        order: the strategies, best first.
        context: table, budget, workers and seeds, for the titles.
        quantity: what ``regret`` measures.
        prefix: put before each file name (``"hv_"``).
    """
    if "unscored" in final and final["unscored"].any():
        out = final.loc[final["unscored"].to_numpy(bool), ["strategy", "seed"]]
        keys = pd.MultiIndex.from_frame(out.astype({"strategy": str}))
        mine = pd.MultiIndex.from_frame(runs[["strategy", "seed"]].astype({"strategy": str}))
        runs = runs[~mine.isin(keys)]
    in_budget = runs if budget.time_s is None else runs[runs["finish"] <= budget.time_s]
    figures: dict[str, Figure] = {}
    if in_budget.empty:
        some = "unscored" in final and bool(final["unscored"].any())
        what = "a scored result (the rest have no test value)" if some else "a result"
        text = f"{context.heading}: no run got {what} within the budget\n({context.setup})"
        figures["anytime.png"] = _message_figure(text)
        figures["anytime_queries.png"] = _message_figure(text)
    else:
        times = time_grid(runs, end=budget.time_s)
        curves = anytime_curves(runs, times)
        starts = _time_starts(in_budget, final)
        figures["anytime.png"] = anytime_figure(
            curves, times, order=[s for s in order if s in curves], context=context,
            quantity=quantity, starts=starts,
        )  # fmt: skip
        ks, by_query = query_curves(runs, end=budget.time_s)
        figures["anytime_queries.png"] = anytime_figure(
            by_query, ks, order=[s for s in order if s in by_query], x_axis="queries",
            context=context, quantity=quantity, starts=dict.fromkeys(by_query, 1.0),
        )  # fmt: skip
    figures["final.png"] = final_figure(final, order=order, context=context, quantity=quantity)
    return {prefix + name: fig for name, fig in figures.items()}
