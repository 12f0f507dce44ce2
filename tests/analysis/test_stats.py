"""Statistics of comparisons: intervals cover, ranks and paired tests behave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.plots import anytime_plot, final_plot
from analysis.stats import (
    anytime_curves,
    bootstrap_ci,
    query_curves,
    summarize,
    t_interval,
    time_grid,
)
from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search.experiment import parse_budget, run_many


def test_t_interval_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(0)
    samples = rng.normal(1.0, 2.0, size=(30, 2000))  # 2000 experiments of 30 runs
    mean, half = t_interval(samples)
    coverage = np.mean(np.abs(mean - 1.0) <= half)
    assert 0.93 < coverage < 0.97


def test_bootstrap_ci_brackets_the_mean_and_shrinks_with_more_runs() -> None:
    rng = np.random.default_rng(1)
    small = rng.exponential(0.03, size=20)
    big = rng.exponential(0.03, size=500)
    lo_s, hi_s = bootstrap_ci(small)
    lo_b, hi_b = bootstrap_ci(big)
    assert lo_s < small.mean() < hi_s and lo_b < big.mean() < hi_b
    assert hi_b - lo_b < hi_s - lo_s
    assert bootstrap_ci(np.zeros(10)) == (0.0, 0.0)


def _final(regrets: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"strategy": k, "seed": i, "final_regret": float(v)}
            for k, arr in regrets.items()
            for i, v in enumerate(arr)
        ]
    )


def test_summarize_ranks_and_paired_test() -> None:
    rng = np.random.default_rng(2)
    base = rng.exponential(0.04, size=50)
    final = _final({"random": base + 0.01, "good": base, "same": base + 0.01})
    s = summarize(final, baseline="random").set_index("strategy")
    assert s.loc["good", "mean_rank"] == pytest.approx(1.0)
    assert s.loc["random", "mean_rank"] == pytest.approx(2.5)  # ties share ranks
    assert s.loc["good", "p_vs_random"] < 1e-6
    assert s.loc["same", "p_vs_random"] == 1.0
    assert s.index[0] == "good"
    assert (s["ci_low"] <= s["mean_regret"]).all() and (s["mean_regret"] <= s["ci_high"]).all()


def test_ranks_skip_seeds_with_an_unscored_run() -> None:
    # seed 2: "a" is unscored; ranked alone, "b" would get rank 1 there and look better
    final = _final({"a": np.array([0.01, 0.01, np.nan]), "b": np.array([0.02, 0.02, 0.03])})
    s = summarize(final, baseline=None).set_index("strategy")
    assert s.loc["a", "mean_rank"] == 1.0 and s.loc["b", "mean_rank"] == 2.0
    assert s.loc["a", "runs"] == 2 and s.loc["a", "mean_regret"] == pytest.approx(0.01)


def test_anytime_curves_and_plots_from_real_runs(
    synthetic_bench: TabularBenchmark, tmp_path
) -> None:
    budget = parse_budget("20x", synthetic_bench)
    comp = run_many(synthetic_bench, ["random", "evolution"], range(4), budget)
    assert set(comp.final["strategy"]) == {"random", "evolution"}
    assert len(comp.final) == 8
    times = time_grid(comp.runs, end=budget.time_s)
    assert times[-1] == pytest.approx(budget.time_s)
    curves = anytime_curves(comp.runs, times)
    assert curves["random"].shape == (4, times.size)
    # every run has a result at the first grid point, and regret never goes up much
    assert not np.isnan(curves["random"][:, 0]).any()
    # the curve at the budget equals the recorded final regret
    fin = comp.final.set_index(["strategy", "seed"])["final_regret"]
    assert curves["evolution"][:, -1] == pytest.approx(fin.loc["evolution"].to_numpy())
    a = anytime_plot(curves, times, tmp_path / "a.png", budget_s=budget.time_s)
    f = final_plot(comp.final, tmp_path / "f.png")
    assert a.stat().st_size > 10_000 and f.stat().st_size > 10_000


def test_run_many_in_two_processes_equals_one(synthetic_bench: TabularBenchmark) -> None:
    budget = Budget(queries=15)
    one = run_many(synthetic_bench, ["evolution"], [0, 1, 2], budget, n_jobs=1)
    two = run_many(synthetic_bench, ["evolution"], [0, 1, 2], budget, n_jobs=2)
    cols = ["strategy", "seed", "index", "valid_acc", "regret"]
    a = one.runs[cols].sort_values(["seed"], kind="stable").reset_index(drop=True)
    b = two.runs[cols].sort_values(["seed"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_categorical=False)


@pytest.mark.parametrize(
    ("text", "queries", "hours"),
    [("100q", 100, None), ("2h", None, 2.0), ("7200", None, 2.0), ("7200s", None, 2.0)],
)
def test_parse_budget(text, queries, hours, synthetic_bench: TabularBenchmark) -> None:
    b = parse_budget(text, synthetic_bench)
    assert b.queries == queries
    assert (b.time_s is None) == (hours is None)
    if hours is not None:
        assert b.time_s == pytest.approx(hours * 3600)


@pytest.mark.parametrize("text", ["", "abc", "-5", "0x", "1.5q", "10 years"])
def test_parse_budget_rejects_bad_input(text, synthetic_bench: TabularBenchmark) -> None:
    with pytest.raises(ValueError, match="budget"):
        parse_budget(text, synthetic_bench)


def test_every_registered_strategy_has_a_plot_label() -> None:
    from analysis.plots import LABELS, label
    from nasbench_sim.strategies import STRATEGIES

    assert set(STRATEGIES) <= set(LABELS), set(STRATEGIES) - set(LABELS)
    assert all(label(n) != n for n in STRATEGIES if n != "asha"), "a label is missing"


def test_the_legend_fits_the_figure_width() -> None:
    from analysis.plot_style import LABELS, legend_grid

    labels = list(LABELS.values())
    ncol, rows = legend_grid(labels, width_in=6.5)
    assert ncol * (0.065 * max(map(len, labels)) + 0.5) <= 6.5 and ncol * rows >= len(labels)
    assert legend_grid(["Random search", "Hyperband", "ASHA"], 6.5) == (3, 1)


def test_query_curves_follow_each_runs_results_in_finish_order() -> None:
    runs = pd.DataFrame(
        {
            "strategy": ["a"] * 5 + ["a"] * 3 + ["b"] * 2,
            "seed": [0] * 5 + [1] * 3 + [0] * 2,
            "query": [0, 1, 2, 3, 4, 0, 1, 2, 0, 1],
            "finish": [1.0, 2, 3, 4, 9, 2, 1, 3, 5, 6],
            "regret": [0.5, 0.4, 0.4, 0.2, 0.1, 0.3, 0.6, 0.3, 0.7, 0.2],
        }
    )
    ks, curves = query_curves(runs, end=8.0, n=50)  # seed 0's 5th result lands after the budget
    assert ks.tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(curves["a"][0], [0.5, 0.4, 0.4, 0.2])
    # seed 1 in finish order: 0.6 (t=1), 0.3 (t=2), 0.3; then no 4th result
    np.testing.assert_allclose(curves["a"][1], [0.6, 0.3, 0.3, np.nan])
    np.testing.assert_allclose(curves["b"][0], [0.7, 0.2, np.nan, np.nan])
    ks_all, _ = query_curves(runs)
    assert ks_all.tolist() == [1, 2, 3, 4, 5]


def test_query_curves_put_every_runs_last_result_on_the_grid() -> None:
    """A sparse log grid must not skip a run's final regret (the value summary.csv reports)."""
    lengths = {0: 37, 1: 53, 2: 71}
    rows = [
        {"strategy": "a", "seed": s, "query": q, "finish": float(q), "regret": 1.0 / (q + 1)}
        for s, n in lengths.items()
        for q in range(n)
    ]
    ks, curves = query_curves(pd.DataFrame(rows), n=5)
    assert {37, 53, 71} <= set(ks.tolist())
    for s, n in lengths.items():
        assert curves["a"][s][ks.tolist().index(n)] == pytest.approx(1.0 / n)
        assert np.isnan(curves["a"][s][ks > n]).all()
