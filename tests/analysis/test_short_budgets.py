"""A budget too short for some runs: every run is scored (a run without a result inside the
budget gets the regret of an untrained random pick), ranks are over all runs, the output says
so, and an output folder never mixes two comparisons."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nasbench_sim
from analysis.compare import compare, write_comparison
from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.cli import main


def test_runs_without_a_result_are_scored_not_dropped(synthetic_bench: TabularBenchmark) -> None:
    epoch = float(np.min(synthetic_bench.table.cost["train_time_s"]))
    budget = Budget(time_s=6 * epoch)  # shorter than any full training: no run has a result
    comp = compare(synthetic_bench, ["random", "evolution"], range(3), budget)
    final = comp.replays.final
    assert final["no_result"].all() and len(final) == 6
    guess = synthetic_bench.best_test_acc - float(
        np.nanmean(synthetic_bench.test_acc_many(synthetic_bench.candidate_cells))
    )
    assert comp.no_result_regret == pytest.approx(guess)
    assert final["final_regret"].to_numpy() == pytest.approx(np.full(6, guess))
    summary = comp.summary.set_index("strategy")
    assert summary["runs"].tolist() == [3, 3] and summary["no_result"].tolist() == [3, 3]
    assert summary["mean_regret"].to_numpy() == pytest.approx([guess, guess])


def test_some_runs_without_a_result_share_the_ranking(synthetic_bench: TabularBenchmark) -> None:
    cheapest = float(synthetic_bench.table.cost["train_time_s"].min()) * synthetic_bench.n_epochs
    budget = Budget(time_s=0.9 * cheapest)
    comp = compare(synthetic_bench, ["random", "hyperband"], range(4), budget)
    final = comp.replays.final.set_index("strategy")
    assert final.loc["random", "no_result"].all()  # a full training does not fit
    assert not final.loc["hyperband", "no_result"].any()  # one-epoch rungs do
    assert comp.summary.set_index("strategy").loc["hyperband", "mean_rank"] < 1.5


def test_an_incumbent_without_a_test_value_is_unscored_not_a_missing_result() -> None:
    import dataclasses

    from nasbench_sim.table.synthetic import make_synthetic_table

    t = make_synthetic_table(0, cells=300, n_epochs=4)
    test = t.metrics["test_acc"].copy()
    test[::2] = np.nan  # half the cells have no test split at all
    bench = TabularBenchmark(dataclasses.replace(t, metrics={**t.metrics, "test_acc": test}))
    comp = compare(bench, ["random"], range(12), Budget(queries=3))
    final = comp.replays.final
    assert final["has_result"].all() and not final["no_result"].any()
    unscored = final["unscored"].to_numpy()
    assert 0 < unscored.sum() < 12  # some incumbents fall on a cell without a test value
    assert np.isnan(final["final_regret"].to_numpy()[unscored]).all()
    assert not np.isnan(final["final_regret"].to_numpy()[~unscored]).any()
    row = comp.summary.set_index("strategy").loc["random"]
    assert row["unscored"] == unscored.sum() and row["no_result"] == 0
    assert row["runs"] == 12 - unscored.sum()
    assert row["mean_regret"] == pytest.approx(final["final_regret"][~unscored].mean())
    from analysis.plots import regret_figures

    # longer runs: some scored runs pass through incumbents without a test value on the way
    comp = compare(bench, ["random"], range(20), Budget(queries=6))
    runs, final = comp.replays.runs, comp.replays.final
    scored_runs = runs.merge(final.loc[~final["unscored"], ["seed"]], on="seed")
    assert scored_runs["regret"].isna().any()  # the case this checks
    figs = regret_figures(runs, final, comp.budget, order=["random"], context=comp.context())
    start = scored_runs.groupby("seed")["finish"].min().max()
    for name, from_x in (("anytime.png", start), ("anytime_queries.png", 1)):
        line = next(
            ln for ln in figs[name].axes[0].get_lines() if ln.get_label() == "Random search"
        )
        x, y = (np.asarray(v, float) for v in line.get_data())
        assert np.isfinite(y[x >= from_x * (1 - 1e-9)]).all(), name  # drawn wherever it started


def test_compare_twice_into_one_folder_never_mixes_outputs(tmp_path: Path) -> None:
    out = tmp_path / "c"
    args = ["compare", "--table", "synthetic", "--strategies", "random,evolution", "--seeds", "3"]
    assert main([*args, "--budget", "5q", "--jobs", "1", "--out", str(out)]) == 0
    first = json.loads((out / "meta.json").read_text())
    assert main([*args, "--budget", "10", "--jobs", "1", "--out", str(out)]) == 0
    second = json.loads((out / "meta.json").read_text())
    assert first["budget"] != second["budget"]
    summary = pd.read_csv(out / "summary.csv")
    assert summary["no_result"].tolist() == [3, 3]
    final = pd.read_csv(out / "final.csv")
    assert len(final) == 6 and final["no_result"].all()


def test_a_folder_with_other_files_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    rc = main(["compare", "--table", "synthetic", "--seeds", "2", "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "--out" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_failed_write_leaves_the_previous_output_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = nasbench_sim.open("synthetic")
    out = tmp_path / "c"
    write_comparison(compare(bench, ["random"], [0, 1], Budget(queries=5)), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    comp = compare(bench, ["random"], [0, 1], Budget(queries=7))

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("analysis.plots.final_figure", boom)
    with pytest.raises(OSError, match="disk full"):
        write_comparison(comp, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # no temporary folder left behind


def test_compare_says_how_many_runs_got_no_result_or_no_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    from nasbench_sim.table import write_table
    from nasbench_sim.table.synthetic import make_synthetic_table

    t = make_synthetic_table(0, cells=300, n_epochs=4)
    test = t.metrics["test_acc"].copy()
    test[::2] = np.nan
    path = write_table(
        tmp_path / "t.h5", dataclasses.replace(t, metrics={**t.metrics, "test_acc": test})
    )
    args = [
        "compare",
        "--table",
        str(path),
        "--strategies",
        "random",
        "--seeds",
        "12",
        "--jobs",
        "1",
    ]
    assert main([*args, "--budget", "3q", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    unscored = int(pd.read_csv(tmp_path / "a" / "summary.csv")["unscored"].iloc[0])
    assert unscored > 0
    assert f"note: {unscored} run(s) ended on an incumbent that the benchmark has no test" in out
    assert f"({unscored} of random)" in out and "no result within" not in out
    assert "unscored" in out.split("strategy", 1)[1].splitlines()[0]  # a column of the table
    assert main([*args, "--budget", "0.01x", "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "note: 12 run(s) got no result within the budget (12 of random)" in out


def test_a_run_that_only_hit_failed_trainings_has_no_result() -> None:
    import dataclasses

    from nasbench_sim.table.synthetic import make_synthetic_table

    t = make_synthetic_table(0, cells=300, n_epochs=4)
    failed = np.arange(300) % 4 != 0  # three in four cells' trainings failed: NaN curves
    metrics = {k: v.copy() for k, v in t.metrics.items()}
    for k in ("valid_acc", "valid_loss"):
        metrics[k][failed] = np.nan
    bench = TabularBenchmark(dataclasses.replace(t, metrics=metrics))
    comp = compare(bench, ["random"], range(16), Budget(queries=1))
    final = comp.replays.final
    hit = comp.replays.runs.groupby("seed")["valid_acc"].apply(lambda v: np.isfinite(v).any())
    assert 0 < hit.sum() < 16  # some runs queried only a failed cell
    np.testing.assert_array_equal(final.set_index("seed")["has_result"], hit)
    assert (final["no_result"] == ~final["has_result"]).all() and not final["unscored"].any()


def test_the_regret_scale_of_a_table_is_read_from_its_cells() -> None:
    import dataclasses

    from analysis.compare import regret_landscape
    from nasbench_sim.table.synthetic import make_synthetic_table

    t = make_synthetic_table(0, cells="all", n_seeds=1, n_epochs=2)
    test = t.metrics["test_acc"].copy()
    test[:, 0, -1] = np.linspace(0.0, 1.0, t.n_cells)
    bench = TabularBenchmark(dataclasses.replace(t, metrics={**t.metrics, "test_acc": test}))
    text = regret_landscape(bench, range(3))
    distinct = bench.distinct_cells  # every cell is a row here, and a distinct one
    picked = int(distinct[np.argmax(t.metrics["valid_acc"][distinct, 0, -1])])
    assert text == (
        "the best test accuracy is 1.0000; the top 1% of cells lie within 0.0100 of it, the "
        "top 10% within 0.1000, the median cell 0.5000 below; a search that trained all 15625 "
        "distinct cells and kept the best by its validation accuracy would end at a mean "
        f"regret of {1.0 - test[picked, 0, -1]:.4f} over 3 run seeds (the best of many noisy "
        "validation values is often a lucky cell)"
    )


def test_exhaustive_search_regret_scores_the_best_validation_cell_by_its_mean_test() -> None:
    """Whichever repeat a run seed draws for each cell, cell 0 has the best validation
    accuracy; its regret is the best mean test accuracy minus its mean test accuracy."""
    import dataclasses

    from analysis.compare import exhaustive_search_regret
    from nasbench_sim.table.synthetic import make_synthetic_table

    t = make_synthetic_table(0, cells=3, n_seeds=2, n_epochs=1)
    valid = np.array([[[0.9], [0.8]], [[0.1], [0.7]], [[0.2], [0.3]]])
    test = np.array([[[0.7], [0.5]], [[0.9], [0.9]], [[0.95], [0.95]]])  # means .6, .9, .95
    metrics = {**t.metrics, "valid_acc": valid, "test_acc": test}
    bench = TabularBenchmark(dataclasses.replace(t, metrics=metrics))
    assert exhaustive_search_regret(bench, range(5)) == pytest.approx(0.95 - 0.6)
    # validation that ranks the cells as the test does: nothing to regret
    ranked = dataclasses.replace(t, metrics={**metrics, "valid_acc": test})
    assert exhaustive_search_regret(TabularBenchmark(ranked), range(5)) == 0.0


def test_an_unmet_sanity_check_is_followed_by_the_tables_regret_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["compare", "--table", "synthetic", "--strategies", "random,evolution", "--seeds", "3"]
    assert main([*args, "--budget", "2q", "--jobs", "1", "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "sanity check (not met)" in out  # two queries: evolution has not started
    assert "regret scale of this table: the best test accuracy is" in out
