"""The exact-front plots (the comparison's plots: tests/analysis/test_compare_mo.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from analysis.mo_plots import fronts_figure
from nasbench_sim.bench import TabularBenchmark


def test_three_objectives_get_a_panel_per_cost(synthetic_bench: TabularBenchmark) -> None:
    from nasbench_sim.search.mo import exact_front

    front = exact_front(synthetic_bench, "valid_acc,params,latency_s")
    fig = fronts_figure(front)
    assert len(fig.axes) == 2 and fig.axes[1].get_xlabel().startswith("inference latency")
    plt.close(fig)
