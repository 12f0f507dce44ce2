"""The multi-objective plots: hypervolume regret over time and queries, and the fronts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from analysis.mo_plots import fronts_figure, write_mo_plots
from analysis.plot_style import RunContext
from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search.mo.experiment import compare_mo


def test_mo_plots_are_written_with_units_and_every_strategy(
    synthetic_bench: TabularBenchmark, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    names = ["mo_random", "mo_evolution"]
    comp = compare_mo(synthetic_bench, names, [0, 1, 2], Budget(queries=30), "valid_acc,params")
    ctx = RunContext("synthetic", 3, "30q", budget_queries=30, synthetic=True)
    paths = write_mo_plots(comp, tmp_path, context=ctx, order=names)
    assert [p.name for p in paths] == [
        "hv_anytime.png", "hv_anytime_queries.png", "hv_final.png", "fronts.png",
    ]  # fmt: skip
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    fig = fronts_figure(comp.front, comp.fronts, order=names)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("parameters (count")
    assert ax.get_ylabel() == "test accuracy (fraction)"
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["table cells", "exact front", "Random search (MO)", "Reg. evolution (Pareto)"]
    plt.close(fig)
    # each strategy's drawn front is made of rows its runs queried
    for name, rows in comp.fronts.items():
        queried = comp.runs.loc[comp.runs["strategy"] == name, "index"].to_numpy()
        assert rows.size >= 1 and set(rows.tolist()) <= set(comp.front.row_of[queried].tolist())


def test_three_objectives_get_a_panel_per_cost(synthetic_bench: TabularBenchmark) -> None:
    from nasbench_sim.search.mo import exact_front

    front = exact_front(synthetic_bench, "valid_acc,params,latency_s")
    fig = fronts_figure(front)
    assert len(fig.axes) == 2 and fig.axes[1].get_xlabel().startswith("inference latency")
    plt.close(fig)
