"""`nasbench-sim compare` and `search` end to end, as a user runs them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import nasbench_sim
from nasbench_sim.cli import main
from nasbench_sim.search.runs_io import read_runs


def test_compare_writes_summary_runs_and_plots(tmp_path, capsys) -> None:
    out = tmp_path / "cmp"
    code = main(
        [
            "compare",
            "--table",
            "synthetic",
            "--strategies",
            "random,evolution",
            "--seeds",
            "12",
            "--budget",
            "60x",
            "--jobs",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC" in text and "sanity check" in text and "Regularized evolution" in text
    header = next(line for line in text.splitlines() if line.startswith("comparing"))
    assert header.count("SYNTHETIC") == 1 and "on synthetic (" not in header, header
    assert "budget 60x = " in header and "(0.00 h)" not in text
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["strategy"]) == {"random", "evolution"}
    assert {"mean_regret", "ci_low", "ci_high", "median_regret", "mean_rank"} <= set(summary)
    runs = read_runs(out / "runs.h5")
    assert runs.groupby("strategy", observed=True)["seed"].nunique().tolist() == [12, 12]
    for name in ("anytime.png", "anytime_queries.png", "final.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["synthetic"] is True


def test_compare_without_default_table_says_what_to_do(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NASBENCH_SIM_TABLE", str(tmp_path / "missing.h5"))
    assert main(["compare", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "not there" in err


def test_compare_rejects_unknown_strategy(tmp_path, capsys) -> None:
    code = main(
        ["compare", "--table", "synthetic", "--strategies", "random,nope", "--out", str(tmp_path)]
    )
    assert code == 2
    assert "known strategies" in capsys.readouterr().err


def test_search_prints_a_trajectory_and_json(capsys) -> None:
    assert (
        main(
            [
                "search",
                "--strategy",
                "evolution",
                "--table",
                "synthetic",
                "--seed",
                "2",
                "--budget",
                "30q",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "final regret" in text and "30 queries" in text
    assert (
        main(["search", "--strategy", "random", "--table", "synthetic", "--budget", "5q", "--json"])
        == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["log"]) == 5 and payload["meta"]["strategy"] == "random"


@pytest.mark.parametrize("seeds", ["abc", "5-", ","])
def test_bad_seeds_are_reported(seeds, capsys) -> None:
    assert main(["compare", "--table", "synthetic", "--seeds", seeds]) == 2
    assert "seeds" in capsys.readouterr().err


def test_audit_compares_table_and_surrogates(tmp_path, capsys) -> None:
    out = tmp_path / "audit"
    code = main(
        [
            "audit",
            "--table",
            "synthetic",
            "--strategies",
            "random,evolution",
            "--seeds",
            "4",
            "--budget",
            "40x",
            "--fractions",
            "0.05,0.2",
            "--jobs",
            "1",
            "--predictor",
            "ridge",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    agreement = pd.read_csv(out / "audit.csv")
    assert agreement["source"].tolist() == ["surrogate 5%", "surrogate 20%"]
    assert agreement["kendall_tau_vs_table"].between(-1, 1).all()
    assert {"shift_random", "shift_evolution"} <= set(agreement.columns)
    summary = pd.read_csv(out / "audit_summary.csv")
    assert set(summary["source"]) == {"table", "surrogate 5%", "surrogate 20%"}
    assert (out / "audit.png").read_bytes()[:4] == b"\x89PNG"
    assert (
        main(["audit", "--table", "synthetic", "--fractions", "2", "--out", str(tmp_path / "x")])
        == 2
    )
    assert "fractions" in capsys.readouterr().err


def test_compare_and_info_accept_a_saved_surrogate(tmp_path, capsys) -> None:
    sur = tmp_path / "s.npz"
    assert (
        main(
            [
                "surrogate",
                "fit",
                "--table",
                "synthetic",
                "--fraction",
                "0.05",
                "--predictor",
                "ridge",
                "--out",
                str(sur),
            ]
        )
        == 0
    )
    assert main(["info", str(sur)]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC SURROGATE" in out and "ridge fitted on 5% of 6466 rows" in out
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                "--table",
                str(sur),
                "--strategies",
                "random,evolution",
                "--seeds",
                "3",
                "--budget",
                "30x",
                "--jobs",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    meta = json.loads((out / "meta.json").read_text())
    assert "SURROGATE" in meta["source"] and meta["synthetic"] is True


def test_search_marks_results_after_the_budget(capsys) -> None:
    argv = ["search", "--strategy", "random", "--table", "synthetic", "--budget", "5x",
            "--workers", "4", "--seed", "1"]  # fmt: skip
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("final regret at the budget (")
    assert main([*argv, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    limit, log = payload["meta"]["budget_time_s"], payload["log"]
    changes = [r for i, r in enumerate(log)
               if i == 0 or r["incumbent_index"] != log[i - 1]["incumbent_index"]]  # fmt: skip
    marked = [line for line in lines if line.endswith("(after the budget: not counted)")]
    assert len(marked) == sum(r["finish"] > limit for r in changes)
    assert f"({limit:,.0f} simulated s)" in lines[-1]


def test_an_unknown_strategy_fails_before_any_work(capsys) -> None:
    assert main(["compare", "--table", "synthetic", "--strategies", "random,foo"]) == 2
    captured = capsys.readouterr()
    assert "unknown strategy 'foo'" in captured.err and "comparing" not in captured.out


@pytest.mark.parametrize("workers", ["0", "-2", "x"])
def test_bad_worker_counts_are_refused_before_any_work(workers, capsys) -> None:
    assert main(["compare", "--table", "synthetic", "--workers", workers]) == 2
    err = capsys.readouterr().err
    assert "--workers: must be an integer >= 1" in err and "replaying" not in err


def test_a_partial_table_is_searched_within_its_cells(tmp_path, capsys) -> None:
    """A table of some cells (`build --cells N`; here its synthetic twin) can be searched:
    strategies stay within its cells and the output says regret is against the best of them."""
    table = tmp_path / "small.h5"
    assert main(["synthetic", "--cells", "150", "--epochs", "6", "--out", str(table)]) == 0
    capsys.readouterr()
    out = tmp_path / "cmp"
    argv = ["compare", "--table", str(table), "--strategies", "random,evolution,reinforce"]
    assert main([*argv, "--seeds", "3", "--budget", "20q", "--jobs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "the table covers" in text and "(150 rows)" in text and "best covered cell" in text
    runs = read_runs(out / "runs.h5")
    bench = nasbench_sim.open(str(table))
    assert set(runs["index"]) <= set(bench.candidate_cells.tolist())
    assert main(["search", "--table", str(table), "--strategy", "local_search"]) == 0
    assert "best covered cell" in capsys.readouterr().out


def test_compare_and_search_with_the_seed_mean(tmp_path, capsys) -> None:
    """--search-repeat mean: the runs read the seeds' mean, the output and the records say so,
    and the regrets differ from the default draw's; a bad value fails before any work."""
    out = {}
    for how in ("mean", "draw"):
        out[how] = tmp_path / how
        args = ["compare", "--table", "synthetic", "--strategies", "random,evolution",
                "--seeds", "3", "--budget", "20x", "--jobs", "1", "--search-repeat", how,
                "--out", str(out[how])]  # fmt: skip
        assert main(args) == 0
        text = capsys.readouterr().out
        noted = "note: every query reads the mean of 3 repeats (--search-repeat mean)" in text
        header = next(line for line in text.splitlines() if line.startswith("comparing"))
        assert noted == (how == "mean") and ("queries read the mean" in header) == noted
        meta = json.loads((out[how] / "meta.json").read_text())
        assert ("queries read the mean of 3 repeats" in meta["source"]) == noted
    mean, draw = (read_runs(out[h] / "runs.h5") for h in ("mean", "draw"))
    assert (mean["repeat"] == -1).all() and (draw["repeat"] >= 0).all()
    final = {h: pd.read_csv(out[h] / "final.csv")["final_regret"].to_numpy() for h in out}
    assert not np.array_equal(final["mean"], final["draw"])
    assert main(["search", "--strategy", "random", "--table", "synthetic", "--search-repeat",
                 "1", "--budget", "5q", "--json"]) == 0  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    assert {r["repeat"] for r in payload["log"]} == {1}
    assert "queries read repeat 1 (training seed 1)" in payload["meta"]["source"]
    assert main(["search", "--strategy", "random", "--table", "synthetic", "--search-repeat",
                 "3"]) == 2  # fmt: skip
    assert "--search-repeat 3: 3 is not a repeat to read: this benchmark holds 3 repeat(s)" in (
        capsys.readouterr().err
    )
