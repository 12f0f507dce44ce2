"""benchmarks/figures_report.py: the Markdown report of default_table_figures.sh's output,
read from the files the comparisons really write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.compare import compare, write_comparison
from nasbench_sim.bench import Budget, TabularBenchmark
from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]


def _report_module() -> Any:
    return load_script("figures_report")


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
    # a comparison without a baseline has no p-value column
    (out / "tpe").mkdir()
    pd.read_csv(out / "compare" / "summary.csv").drop(columns="p_vs_random").to_csv(
        out / "tpe" / "summary.csv", index=False
    )
    _log(out, "03_tpe", "nasbench-sim compare --baseline none")
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
    tpe = text[text.index("### Optuna's TPE") :].split("###")[1]
    assert "| evolution | 3 |" in tpe and "p vs" not in tpe
    assert "| 05_predictors | no |" in text and "| 01_compare | yes | 7.25 | 9.5 |" in text


def _log(out: Path, name: str, command: str) -> None:
    (out / f"{name}.log").write_text(
        f"# {command}\n# started\nwrote something\nthe result line\n"
        "# wall 1.000 s, user 2.000 s, sys 0.000 s\n# done in 1 s\n"
    )


def test_report_reads_the_predictor_audit_and_gap_files_as_written(
    synthetic_bench: TabularBenchmark, tmp_path: Path
) -> None:
    """The sections after the comparisons, from the files the library writes (a renamed
    column or key fails here, not at the end of a two-hour run)."""
    from analysis.audit import audit, write_audit
    from nasbench_sim.oneshot import gap_study, write_gap_study, write_oneshot
    from nasbench_sim.table import make_synthetic_table, write_table
    from predictors.evaluate import evaluate_predictors
    from tests.conftest import synthetic_oneshot_records

    out = tmp_path / "figs"
    (out / "predictors").mkdir(parents=True)
    frame = evaluate_predictors(synthetic_bench, ["ridge"], train_sizes=(20,), trials=2,
                                test_size=50)  # fmt: skip
    frame.to_csv(out / "predictors" / "predictors.csv", index=False)
    _log(out, "05_predictors", "nasbench-sim predictors")
    budget = Budget(time_s=10 * synthetic_bench.full_training_time)
    write_audit(audit(synthetic_bench, ["random"], range(2), budget, fractions=(0.2,)),
                out / "audit")  # fmt: skip
    _log(out, "06_audit", "nasbench-sim audit")
    table = write_table(tmp_path / "t.h5", make_synthetic_table(0, n_epochs=12))
    for kw in synthetic_oneshot_records(TabularBenchmark.from_file(table)).values():
        for rec in kw["records"][:1]:
            write_oneshot(table, rec)
    write_gap_study(gap_study(table), out / "gap")
    _log(out, "09_gap", "nasbench-sim gap")
    _log(out, "07_spos_seed0", "nasbench-sim oneshot --method spos")
    text = _report_module().report(out)
    ridge = next(ln for ln in text.splitlines() if ln.startswith("| ridge | 20 | 2 |"))
    tau = frame["kendall_tau"].mean()
    assert f"| {tau:.4g} ± " in ridge
    assert "| surrogate 20% |" in text
    for method in ("darts", "gdas", "spos"):
        assert f"| {method} | 1 |" in text
    assert "tau in the top 10%" in text
    # the last column: where each method's pick stands among the table's cells: SPOS its
    # best-scored cell; DARTS / GDAS the final derived cell (stored as NaN by these made-up
    # records: shown as a dash)
    summary = json.loads((out / "gap" / "gap.json").read_text())
    pct = summary["spos"]["seed_spread"]["pick_percentile"]["mean"]
    rows = {ln.split(" | ")[0][2:]: ln for ln in text.splitlines() if ln.startswith("| ")}
    assert rows["spos"].endswith(f" | {pct:.4g} |") and 0 <= pct <= 100
    assert summary["darts"]["final_standalone_percentile"]["mean"] is None
    assert rows["darts"].endswith(" | — |")
    assert (
        "- `07_spos_seed0`: `nasbench-sim oneshot --method spos`: 1 s wall, 2 s CPU; "
        "wrote something; the result line" in text
    )
