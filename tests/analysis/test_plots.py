"""What the comparison, datasheet and predictor plots show: read back from the figures."""

from __future__ import annotations

import dataclasses
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.colors import to_rgba

from analysis.datasheet import accuracy_hist_figure
from analysis.plots import RunContext, anytime_figure, final_figure
from analysis.stats import anytime_curves, query_curves, summarize, time_grid
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.search.experiment import parse_budget, run_many

CTX = RunContext(
    "synthetic:3", 4, "20x", budget_s=7200.0, n_workers=2, synthetic=True, dataset="synthetic"
)


@pytest.fixture(scope="module")
def comparison(synthetic_bench: TabularBenchmark):  # type: ignore[no-untyped-def]
    """Hyperband runs receive many more results than random search in the same time."""
    budget = parse_budget("20x", synthetic_bench)
    return run_many(synthetic_bench, ["random", "hyperband"], range(5), budget), budget


def _title(fig: plt.Figure) -> str:
    return fig.axes[0].get_title()


def test_run_context_says_the_table_once_and_the_setup() -> None:
    assert CTX.heading == "SYNTHETIC table (table seed 3)"
    assert CTX.setup == "budget 20x = 2 simulated h, 2 workers, 4 seeds"
    real = RunContext("T.h5", 100, "200q", budget_queries=200, dataset="mnist1d")
    assert real.heading == "table T.h5 (mnist1d)"
    assert real.setup == "budget 200 queries, 1 worker, 100 seeds"
    assert RunContext("data/x.h5", 3, synthetic=True).heading == "SYNTHETIC table data/x.h5"
    sur = RunContext("s.npz", 3, synthetic=True, dataset="synthetic (surrogate)", kind="surrogate")
    assert sur.heading == "SYNTHETIC surrogate s.npz"
    real = RunContext("s.npz", 3, dataset="cifar10 (surrogate)", kind="surrogate")
    assert real.heading == "surrogate s.npz (cifar10)"


def test_final_plot_shows_the_runs_that_reached_zero_and_their_share() -> None:
    final = pd.DataFrame(
        {
            "strategy": ["a"] * 4 + ["b"] * 4,
            "final_regret": [0.0, 0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06],
        }
    )
    fig = final_figure(final, context=CTX)
    ax, shares = fig.axes
    left, right = ax.get_xlim()
    assert left < 0.0 and right >= 0.06
    # the two zero runs of "a" are drawn inside the view, left of the zero line
    zero_dots = [
        xy
        for c in ax.collections
        for xy in np.asarray(c.get_offsets())
        if c.get_edgecolor().size and xy[0] < 0
    ]
    assert len(zero_dots) == 2 and all(left < x < 0 for x, _ in zero_dots)
    fig.canvas.draw()
    by_row = {t.get_position()[1]: t.get_text() for t in shares.get_yticklabels()}
    assert by_row == {1.0: "50% (2/4)", 0.0: "0% (0/4)"}  # "a" (lower mean) on top
    title = _title(fig)
    assert title.count("SYNTHETIC") == 1 and "synthetic" not in title
    assert "budget 20x = 2 simulated h" in title and "2 workers" in title
    plt.close(fig)


def test_anytime_against_results_ends_at_the_summary_mean(comparison) -> None:  # type: ignore[no-untyped-def]
    comp, budget = comparison
    ks, curves = query_curves(comp.runs, end=budget.time_s)
    lengths = comp.runs.groupby(["strategy", "seed"], observed=True).size()
    assert lengths.loc["hyperband"].max() > lengths.loc["random"].max()  # lines of unequal length
    fig = anytime_figure(curves, ks, x_axis="queries", context=CTX, order=["random", "hyperband"])
    ax = fig.axes[0]
    ends = sorted(
        float(line.get_ydata()[0])
        for line in ax.lines
        if line.get_marker() == "o" and len(line.get_ydata()) == 1
    )
    means = sorted(summarize(comp.final, baseline=None)["mean_regret"])
    assert ends == pytest.approx(means, rel=1e-9)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"[0-9.e-]+", t) for t in labels), labels
    assert not [t.get_text() for t in ax.yaxis.get_minorticklabels() if t.get_text()]
    plt.close(fig)


def test_anytime_against_time_labels_the_budget_and_says_synthetic_once(comparison) -> None:  # type: ignore[no-untyped-def]
    comp, budget = comparison
    times = time_grid(comp.runs, end=budget.time_s)
    ctx = dataclasses.replace(CTX, budget_s=budget.time_s)
    fig = anytime_figure(anytime_curves(comp.runs, times), times, context=ctx)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"budget {budget.time_s / 60:.3g} min"]  # 46 min: the axis is in min
    title = _title(fig)
    assert title.count("SYNTHETIC") + title.count("synthetic") == 1
    assert "2 workers" in title and "budget 20x" in title
    plt.close(fig)


def test_carry_forward_keeps_each_runs_final_value_to_the_longest_run() -> None:
    from analysis.plots import _carry_forward

    nan = np.nan
    x = np.array([[nan, 2.0, 1.0, nan, nan], [3.0, nan, nan, nan, nan], [nan] * 5])
    out, shortest, longest = _carry_forward(x)
    np.testing.assert_array_equal(out[0], [nan, 2.0, 1.0, nan, nan])
    np.testing.assert_array_equal(out[1], [3.0, 3.0, 3.0, nan, nan])
    assert np.isnan(out[2]).all() and (shortest, longest) == (1, 3)


def test_datasheet_histogram_colours_match_the_legend() -> None:
    rng = np.random.default_rng(0)
    valid = rng.uniform(0.5, 0.9, 300)
    fig = accuracy_hist_figure(valid, valid + rng.normal(0, 0.01, 300), "t.h5")
    ax = fig.axes[0]
    val_patch, test_patch = ax.patches[:2]
    leg = ax.get_legend()
    legend = {t.get_text(): h for t, h in zip(leg.texts, leg.legend_handles, strict=True)}
    # one filled, opaque histogram; the other an outline: overlaps blend into no third colour
    assert val_patch.get_fill() and val_patch.get_alpha() in (None, 1.0)
    assert not test_patch.get_fill()
    assert to_rgba(legend["validation"].get_facecolor()) == to_rgba(val_patch.get_facecolor())
    assert to_rgba(legend["test"].get_edgecolor()) == to_rgba(test_patch.get_edgecolor())
    plt.close(fig)


@pytest.mark.parametrize(("metric", "low", "high"), [("kendall_tau", -1, 1), ("r2", -np.inf, 1)])
def test_predictor_bands_stay_within_the_metrics_range(
    metric: str, low: float, high: float
) -> None:
    from analysis.predictor_plots import _band

    fig, ax = plt.subplots()
    mean, ci = np.array([0.2, 0.97, 0.995]), np.array([1.5, 0.06, 0.02])
    lowest = _band(ax, np.array([10.0, 30.0, 100.0]), mean, ci, metric, "C0")
    ys = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert ys.max() <= high and ys.min() >= low
    assert lowest == pytest.approx(max(low, 0.2 - 1.5))
    plt.close(fig)


def _inside_the_figure(fig: plt.Figure, artist: object) -> bool:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = artist.get_window_extent(canvas.get_renderer())  # type: ignore[attr-defined]
    return bool(box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1)


def test_comparison_plots_name_the_table_budget_and_workers_once(
    synthetic_bench: TabularBenchmark,
) -> None:
    from analysis.compare import compare, comparison_figures

    comp = compare(synthetic_bench, ["random", "evolution"], range(3), "20x", n_workers=2)
    figures = comparison_figures(comp)
    assert sorted(figures) == ["anytime.png", "anytime_queries.png", "final.png"]
    for name, fig in figures.items():
        title = _title(fig)
        assert title.lower().count("synthetic") == 1, (name, title)
        assert "budget 20x = " in title and "2 workers" in title and "3 seeds" in title, title
        plt.close(fig)


def test_a_short_final_plot_keeps_its_labels_and_marks_runs_without_a_result() -> None:
    final = pd.DataFrame(
        {
            "strategy": ["a", "a", "b", "b"],
            "final_regret": [0.3, 0.1, 0.3, 0.3],
            "no_result": [True, False, True, True],
        }
    )
    fig = final_figure(final, context=CTX)
    ax, shares = fig.axes
    assert _inside_the_figure(fig, shares.yaxis.label)  # two strategies: still readable
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("no result" in t for t in legend), legend
    n_crosses = sum(
        len(c.get_offsets()) for c in ax.collections if c.get_linewidths()[0] == pytest.approx(0.9)
    )
    assert n_crosses == 3
    plt.close(fig)


def test_a_comparison_without_any_result_says_so_instead_of_empty_axes(
    synthetic_bench: TabularBenchmark,
) -> None:
    from analysis.compare import compare, comparison_figures

    comp = compare(synthetic_bench, ["random"], range(2), "10")  # 10 s: no training ends
    assert comp.replays.final["no_result"].all() and not comp.replays.runs.empty
    figures = comparison_figures(comp)
    for name in ("anytime.png", "anytime_queries.png"):
        (ax,) = figures[name].axes
        assert not ax.axison and "no run got a result" in ax.texts[0].get_text()
    plt.close("all")


def test_a_short_time_axis_has_plain_tick_labels() -> None:
    times = np.geomspace(12.0, 360.0, 50)  # 0.2 to 6 simulated minutes: one major tick
    curves = {"random": np.random.default_rng(0).uniform(0.05, 0.2, (4, times.size))}
    fig = anytime_figure(curves, times, context=dataclasses.replace(CTX, budget_s=360.0))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in [*ax.get_xticklabels(), *ax.xaxis.get_minorticklabels()]]
    labels = [t for t in labels if t]
    assert len(labels) >= 3 and all(re.fullmatch(r"[0-9.]+", t) for t in labels), labels
    plt.close(fig)


def test_a_table_whose_build_is_in_progress_says_so_in_every_title() -> None:
    from nasbench_sim.bench import Budget, Source

    src = Source("table", False, "data/nb201_mnist1d.h5", "480 rows", in_progress=True)
    ctx = RunContext.of(src, "mnist1d", Budget(queries=200), n_seeds=10)
    assert ctx.heading == "table nb201_mnist1d.h5 (BUILD IN PROGRESS)"
    done = RunContext.of(
        dataclasses.replace(src, in_progress=False), "cifar10", Budget(queries=2), n_seeds=1
    )
    assert done.heading == "table nb201_mnist1d.h5 (cifar10)"


@pytest.mark.parametrize("x_axis", ["time", "queries"])
def test_zero_regret_marks_sit_where_each_mean_reaches_zero(x_axis: str) -> None:
    """A mean final regret of 0 is a triangle on the floor where that strategy's mean reaches 0
    for good (a dip to 0 and back does not count), not on one spot at the budget."""
    times = np.arange(1.0, 9.0)
    curves = {
        "a": np.array([[0.3, 0.2, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0]] * 2),  # 0 for good at x=5
        "b": np.array([[0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.0, 0.0]] * 2),  # at x=7
        "c": np.array([[0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05]] * 2),  # never 0
    }
    fig = anytime_figure(curves, times, x_axis=x_axis)
    ax = fig.axes[0]
    marks = sorted(
        float(line.get_xdata()[0])
        for line in ax.lines
        if line.get_marker() == "v" and len(line.get_xdata()) == 1
    )
    assert marks == [5.0, 7.0]
    plt.close(fig)


def test_anytime_legend_fits_the_figure_with_the_markers_entries() -> None:
    """The markers' legend entries are longer than short strategy names: the grid is sized
    for every entry, so none is cut at the figure's edges."""
    times = np.arange(1.0, 9.0)
    rng = np.random.default_rng(0)
    names = ["random", "evolution", "hyperband", "asha", "bohb", "bananas", "reinforce", "pnas"]
    curves = {n: np.sort(rng.uniform(0.01, 0.3, (3, 8)))[:, ::-1].copy() for n in names}
    curves["random"][:, 5:] = 0.0  # a zero-regret triangle: its entry is the longest
    curves["asha"][0, 6:] = np.nan  # a run that ended early: the dashed entry and the dots
    fig = anytime_figure(curves, times, x_axis="queries")
    fig.canvas.draw()
    box = fig.legends[0].get_window_extent()
    width, _ = fig.canvas.get_width_height()
    assert len(fig.legends[0].get_texts()) == len(names) + 3
    assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0
    plt.close(fig)


@pytest.mark.parametrize("x_axis", ["time", "queries"])
def test_runs_without_a_result_are_named_in_the_legend(x_axis: str) -> None:
    xs = np.array([1.0, 2.0, 4.0, 8.0])
    ok = np.array([[0.3, 0.2, 0.1, 0.1], [0.4, 0.3, 0.2, 0.1]])
    curves = {"random": ok, "spos": np.vstack([ok, np.full((2, 4), np.nan)])}
    starts = {"random": 1.0, "spos": float("inf")} if x_axis == "time" else None
    fig = anytime_figure(curves, xs, x_axis=x_axis, context=CTX, starts=starts)
    names = (
        [t.get_text() for t in fig.legends[0].get_texts()]
        if fig.legends
        else [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    )
    said = "left out" if x_axis == "queries" else "no line"
    assert any("2 runs without a scored result" in n and said in n for n in names), names
    assert not any("without" in n for n in names if n.startswith("Random")), names
    plt.close(fig)
