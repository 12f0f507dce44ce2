"""`nasbench-sim compare --objectives`: the multi-objective comparison as a user runs it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nasbench_sim.cli import main
from nasbench_sim.search.runs_io import read_runs


def test_compare_with_objectives_writes_both_families_of_outputs(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "mo"
    args = ["compare", "--table", "synthetic", "--objectives", "valid_acc,flops",
            "--strategies", "mo_random,mo_evolution", "--seeds", "3", "--budget", "30q",
            "--jobs", "1", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC" in text and "exact front:" in text and "Reg. evolution (Pareto)" in text
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["strategy"]) == {"mo_random", "mo_evolution"}
    cols = {"mean_regret", "ci_low", "mean_igd", "mean_acc_regret", "p_vs_mo_random"}
    assert cols <= set(summary)
    final = pd.read_csv(out / "final.csv")
    assert len(final) == 6 and (final["final_regret"] >= 0).all() and (final["igd"] >= 0).all()
    runs = read_runs(out / "runs.h5")
    assert {"hv", "regret", "igd", "acc_regret", "front_size"} <= set(runs.columns)
    for name in ("hv_anytime.png", "hv_anytime_queries.png", "hv_final.png", "fronts.png",
                 "anytime.png", "anytime_queries.png", "final.png"):  # fmt: skip
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["settings"]["objectives"] == ["valid_acc:max", "flops:min"]
    assert meta["settings"]["reference_point"] == [1.1, 1.1]
    assert "1.1" in meta["reference_point_rule"]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--objectives", "valid_acc,energy_j"], "unknown objective 'energy_j'"),
        (["--objectives", "test_acc,params"], "never sees test metrics"),
        (["--objectives", "valid_acc,params", "--strategies", "evolution"], "multi-objective"),
        (["--objectives", "valid_acc,params", "--baseline", "foo"], "--baseline 'foo'"),
    ],
)
def test_bad_objectives_or_strategies_fail_before_any_work(  # type: ignore[no-untyped-def]
    tmp_path, capsys, extra, fragment
) -> None:
    out = tmp_path / "never"
    assert main(["compare", "--table", "synthetic", "--out", str(out), *extra]) == 2
    assert fragment in capsys.readouterr().err
    assert not (out / "runs.h5").exists()


def test_a_multi_objective_comparison_can_read_the_seed_mean(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "mo"
    args = ["compare", "--table", "synthetic", "--objectives", "valid_acc,flops",
            "--strategies", "mo_random", "--seeds", "2", "--budget", "10q", "--jobs", "1",
            "--search-repeat", "mean", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert "note: every query reads the mean of 3 repeats" in capsys.readouterr().out
    assert (read_runs(out / "runs.h5")["repeat"] == -1).all()
    assert (
        "queries read the mean of 3 repeats"
        in json.loads((out / "meta.json").read_text())["source"]
    )
