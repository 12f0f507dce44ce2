"""The multi-objective comparison as a library function with a typed result: every run
scored (also those without a result inside the budget), outputs written as a whole and marked
synthetic when they are."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis.compare_mo import (
    MO_OUTPUT_FILES,
    MOComparison,
    compare_mo,
    format_mo_summary,
    mo_comparison_figures,
    write_mo_comparison,
)
from analysis.mo_plots import fronts_figure
from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search.runs_io import read_runs

NAMES = ["mo_random", "mo_evolution"]


@pytest.fixture(scope="module")
def comparison(synthetic_bench: TabularBenchmark) -> MOComparison:
    return compare_mo(synthetic_bench, NAMES, range(3), "30q", "valid_acc,params")


def test_compare_mo_returns_a_typed_comparison(comparison: MOComparison) -> None:
    comp = comparison
    assert isinstance(comp, MOComparison) and set(comp.strategies) == set(NAMES)
    s = comp.summary
    assert s["runs"].tolist() == [3, 3] and s["no_result"].tolist() == [0, 0]
    assert {"mean_regret", "ci_low", "ci_high", "mean_igd", "mean_acc_regret"} <= set(s)
    assert "p_vs_mo_random" in s and comp.baseline == "mo_random"
    final = comp.replays.final
    assert (final["final_regret"] >= 0).all()
    assert final["hv"].to_numpy() == pytest.approx(comp.front.hypervolume - final["final_regret"])
    by = final.groupby("strategy")["final_regret"].mean()
    assert s.set_index("strategy")["mean_regret"].to_dict() == pytest.approx(by.to_dict())
    assert comp.budget == Budget(queries=30) and comp.budget_text == "30q"
    text = format_mo_summary(comp)
    assert text.startswith("exact front:") and "Reg. evolution (Pareto)" in text


def test_the_outputs_are_written_whole_and_marked_synthetic(
    comparison: MOComparison, tmp_path: Path
) -> None:
    out = tmp_path / "mo"
    files = write_mo_comparison(comparison, out)
    assert [f.name for f in files] == list(MO_OUTPUT_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(MO_OUTPUT_FILES)
    for name in ("final.csv", "summary.csv"):
        assert pd.read_csv(out / name)["source"].str.startswith("SYNTHETIC").all(), name
    with h5py.File(out / "runs.h5") as f:
        assert bool(f.attrs["synthetic"]) and str(f.attrs["source"]).startswith("SYNTHETIC")
    assert {"hv", "regret", "igd", "acc_regret"} <= set(read_runs(out / "runs.h5").columns)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["synthetic"] is True and meta["budget"] == "30q"
    assert meta["settings"]["objectives"] == ["valid_acc:max", "params:min"]
    (out / "stray.txt").write_text("not ours")
    with pytest.raises(FileExistsError, match=r"stray\.txt"):
        write_mo_comparison(comparison, out)


def test_every_plot_names_the_table_once_and_the_budget(comparison: MOComparison) -> None:
    figures = mo_comparison_figures(comparison)
    assert sorted(figures) == sorted(n for n in MO_OUTPUT_FILES if n.endswith(".png"))
    for name, fig in figures.items():
        title = fig.axes[0].get_title() or (fig._suptitle.get_text() if fig._suptitle else "")
        assert title.lower().count("synthetic") == 1, (name, title)
        assert "30 queries" in title and "3 seeds" in title, (name, title)
    plt.close("all")


def test_runs_without_a_result_are_scored_not_dropped(synthetic_bench: TabularBenchmark) -> None:
    epoch = float(np.min(synthetic_bench.table.cost["train_time_s"]))
    budget = Budget(time_s=3 * epoch)  # shorter than any full training: no run has a result
    comp = compare_mo(synthetic_bench, NAMES, range(2), budget, "valid_acc,params")
    final = comp.replays.final
    assert final["no_result"].all() and len(final) == 4
    assert final["final_regret"].to_numpy() == pytest.approx(comp.front.hypervolume)
    assert (final["hv"] == 0).all()
    assert final["acc_regret"].to_numpy() == pytest.approx(comp.no_result_regret)
    s = comp.summary
    assert s["runs"].tolist() == [2, 2] and s["no_result"].tolist() == [2, 2]
    assert "no result" in format_mo_summary(comp)


def test_fronts_show_units_and_each_strategys_queried_cells(comparison: MOComparison) -> None:
    r = comparison.replays
    fig = fronts_figure(r.front, r.fronts, order=NAMES)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("parameters (count")
    assert ax.get_ylabel() == "test accuracy (fraction)"
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["table cells", "exact front", "Random search (MO)", "Reg. evolution (Pareto)"]
    plt.close(fig)
    for name, rows in r.fronts.items():
        queried = r.runs.loc[r.runs["strategy"] == name, "index"].to_numpy()
        assert rows.size >= 1 and set(rows.tolist()) <= set(r.front.row_of[queried].tolist())
