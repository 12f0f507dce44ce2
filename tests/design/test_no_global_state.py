"""No global state: plotting chooses no backend, replays leave no benchmark behind, results
are built by keyword."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.bench import Benchmark, Budget, Result, TabularBenchmark
from nasbench_sim.search import experiment
from nasbench_sim.search.experiment import run_many

ROOT = Path(__file__).resolve().parents[2]


def test_plotting_leaves_the_matplotlib_backend_alone(tmp_path: Path) -> None:
    """Importing the plot modules and drawing (comparisons, predictors, datasheets) neither
    imports pyplot, nor switches the user's backend, nor changes the global rcParams."""
    code = (
        "import sys, matplotlib, numpy as np, pandas as pd\n"
        "import analysis.plots, analysis.predictor_plots, analysis.datasheet\n"
        "import nasbench_sim.oneshot.plots\n"
        "from nasbench_sim.table import make_synthetic_table, write_table\n"
        "rc = dict(matplotlib.rcParams)\n"
        "final = pd.DataFrame({'strategy': ['random', 'evolution'] * 3,\n"
        "                      'seed': [0, 0, 1, 1, 2, 2], 'final_regret': [.1, .2] * 3})\n"
        f"analysis.plots.final_plot(final, {str(tmp_path / 'f.png')!r})\n"
        "frame = pd.DataFrame({'predictor': ['xgb'] * 4, 'train_size': [10, 10, 20, 20],\n"
        "    'trial': [0, 1, 0, 1], 'kendall_tau': [.3, .4, .5, .6], 'fit_time_s': [.1] * 4,\n"
        "    'predict_time_s': [.01] * 4, 'n_test': [50] * 4})\n"
        f"analysis.predictor_plots.plot_predictor_metrics(frame, {str(tmp_path)!r},\n"
        "    metrics=['kendall_tau'])\n"
        f"analysis.predictor_plots.plot_times(frame, {str(tmp_path / 't.png')!r})\n"
        f"table = write_table({str(tmp_path / 'T.h5')!r}, make_synthetic_table(0, cells=40))\n"
        f"analysis.datasheet.write_datasheet(table, {str(tmp_path / 'ds')!r})\n"
        "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules,\n"
        "      dict(matplotlib.rcParams) == rc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "svg"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["svg", "False", "True"]
    for png in ("f.png", "predictors_tau.png", "t.png", "ds/accuracy_hist.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG", png


def _benchmarks_in(obj: object, depth: int = 0) -> int:
    if isinstance(obj, Benchmark):
        return 1
    if depth > 2:
        return 0
    if isinstance(obj, dict):
        return sum(_benchmarks_in(v, depth + 1) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(_benchmarks_in(v, depth + 1) for v in obj)
    return 0


def test_replaying_in_this_process_leaves_no_benchmark_behind(
    synthetic_bench: TabularBenchmark,
) -> None:
    run_many(synthetic_bench, ["random"], [0, 1], Budget(queries=5), n_jobs=1)
    held = sum(_benchmarks_in(v) for v in vars(experiment).values())
    assert held == 0


def test_results_are_built_by_keyword() -> None:
    with pytest.raises(TypeError):
        Result(None, 0, 1, 0, *([math.nan] * 8))  # type: ignore[misc]
    r = Result(
        arch=None, index=0, epoch=1, repeat=0, train_loss=1.0, train_acc=0.5, valid_loss=1.0,
        valid_acc=0.5, train_time=2.0, params=1.0, flops=1.0, latency=1.0,
    )  # fmt: skip
    assert r.valid_curve is None and not r.missing and np.isclose(r.train_time, 2.0)
