"""How a comparison's summary prints: the fixed-width table of ``nasbench-sim compare``, its
columns against the baseline (paired difference, p-value), and the formats of a p-value and a
paired difference that the sanity check and ``benchmarks/figures_report.py`` share."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

__all__ = ["baseline_columns", "format_diff", "format_p", "format_summary", "p_column"]


def format_p(p: float) -> str:
    """A p-value for a table: three significant figures, ``<0.001`` below, ``—`` for NaN
    (``.2g`` printed 0.0496 as 0.05)."""
    if p != p:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def format_summary(summary: pd.DataFrame, label: Callable[[str], str] | None = None) -> str:
    """The summary as a fixed-width table (strategy labels from ``label``; default: the
    registry's labels)."""
    if label is None:
        from analysis.plots import label as registry_label

        label = registry_label

    w = max([24, *(len(label(s)) + 2 for s in summary["strategy"])])  # the longest name fits
    counts = [  # shown when some run has them
        (c, title)
        for c, title in (("no_result", "no result"), ("unscored", "unscored"))
        if c in summary and bool((summary[c] > 0).any())
    ]
    head = f"{'strategy':<{w}}{'runs':>5}"
    head += "".join(f"{title:>10}" for _, title in counts)
    head += f"{'mean regret [95% CI]':>30}{'median':>9}{'mean rank':>10}"
    versus_head, versus = baseline_columns(summary)
    head += versus_head
    lines = [head, "-" * len(head)]
    for _, r in summary.iterrows():
        ci = f"{r.mean_regret:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}]"
        line = f"{label(r.strategy):<{w}}{r.runs:>5}"
        line += "".join(f"{r[c]:>10}" for c, _ in counts)
        line += f"{ci:>30}{r.median_regret:>9.4f}{r.mean_rank:>10.2f}"
        lines.append(line + versus(r))
    return "\n".join(lines)


def baseline_columns(summary: pd.DataFrame) -> tuple[str, Callable[[pd.Series], str]]:
    """The printed summary's columns against its baseline (:func:`~analysis.stats.summarize`):
    their header, and a function giving a row's cells: the mean paired difference from the
    baseline (negative: lower than it) and the Holm-adjusted Wilcoxon p-value."""
    bases = [c.removeprefix("p_vs_") for c in summary.columns if c.startswith("p_vs_")]
    pcol = {b: p_column(summary, b) for b in bases}
    titles = {b: (f"minus {b}", pcol[b][1]) for b in bases}
    widths = {b: (max(11, len(a) + 2), max(10, len(q) + 2)) for b, (a, q) in titles.items()}
    head = "".join(f"{titles[b][0]:>{widths[b][0]}}{titles[b][1]:>{widths[b][1]}}" for b in bases)

    def cells(r: pd.Series) -> str:
        out = ""
        for b in bases:
            d = format_diff(r.get(f"diff_vs_{b}", float("nan")))
            out += f"{d:>{widths[b][0]}}{format_p(r[pcol[b][0]]):>{widths[b][1]}}"
        return out

    return head, cells


def p_column(summary: pd.DataFrame, baseline: str) -> tuple[str, str]:
    """The column of p-values against ``baseline`` to show, and its title: Holm's where the
    summary has them (:func:`~analysis.stats.summarize`), else the unadjusted ones."""
    if f"p_holm_vs_{baseline}" in summary.columns:
        return f"p_holm_vs_{baseline}", f"p vs {baseline} (Holm)"
    return f"p_vs_{baseline}", f"p vs {baseline}"


def format_diff(d: float, low: float | None = None, high: float | None = None) -> str:
    """A paired difference (signed), with its interval when given; ``—`` for NaN."""
    if d != d:
        return "—"
    return f"{d:+.4f}" if low is None or high is None else f"{d:+.4f} [{low:+.4f}, {high:+.4f}]"
