"""benchmarks/figures_report.py: the Markdown report of default_table_figures.sh's output,
read from the files the comparisons really write."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from analysis.compare import compare, write_comparison
from nasbench_sim.bench import Budget, TabularBenchmark

ROOT = Path(__file__).resolve().parents[2]


def _report_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "figures_report", ROOT / "benchmarks" / "figures_report.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_quotes_a_comparison_and_lists_what_is_missing(
    synthetic_bench: TabularBenchmark, tmp_path: Path
) -> None:
    out = tmp_path / "figs"
    comp = compare(
        synthetic_bench, ["random", "evolution"], range(3),
        Budget(time_s=20 * synthetic_bench.full_training_time),
    )  # fmt: skip
    write_comparison(comp, out / "compare")
    (out / "01_compare.log").write_text(
        "# nasbench-sim compare --table T.h5 --seeds 3 --out figs/compare\n"
        "# started 2026-12-01T00:00:00Z on 2 cores\nsome output\n"
        "# wall 7.250 s, user 9.000 s, sys 0.500 s\n# done in 8 s\n"
    )
    (out / "05_predictors.log").write_text("# nasbench-sim predictors --table T.h5\n# started\n")
    text = _report_module().report(out)
    row = next(ln for ln in text.splitlines() if ln.startswith("| evolution |"))
    s = comp.summary.set_index("strategy")
    assert f"{s.loc['evolution', 'mean_regret']:.4f} [{s.loc['evolution', 'ci_low']:.4f}," in row
    assert (
        "`nasbench-sim compare --table T.h5 --seeds 3 --out figs/compare`: 7.25 s wall, 9.5 s CPU"
        in text
    )
    assert "### multi-fidelity strategies, 1 worker\n\nnot measured yet" in text
    assert "### predictors\n\nnot measured yet" in text  # its log is there but unfinished
    assert "| 05_predictors | no |" in text and "| 01_compare | yes | 7.25 | 9.5 |" in text
