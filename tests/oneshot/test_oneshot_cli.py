"""``nasbench-sim oneshot`` and ``gap`` end to end on a tiny real table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.cli import main
from nasbench_sim.oneshot import OneShotError, list_oneshot, read_oneshot, run_oneshot
from nasbench_sim.oneshot.run import standalone_accuracy, table_protocol, with_overrides
from nasbench_sim.table import read_table


def test_oneshot_spos_then_gap(
    table_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = read_table(table_copy)
    for seed in (0, 1):
        rc = main(
            ["oneshot", "--table", str(table_copy), "--method", "spos", "--seed", str(seed),
             "--epochs", "1", "--bn-batches", "2", "--no-progress"]
        )  # fmt: skip
        assert rc == 0
    assert "scored 24 cells" in capsys.readouterr().out
    rec = read_oneshot(table_copy, "spos", 1)
    np.testing.assert_array_equal(rec.arch_index, before.arch_index)
    assert ((rec.valid_acc >= 0) & (rec.valid_acc <= 1)).all()
    assert rec.cost["epochs"] == 1 and rec.cost["steps"] == 3 and rec.cost["device"] == "cpu"
    assert rec.cost["train_wall_s"] > 0 and rec.protocol["epochs"] == 1
    assert rec.protocol["channels"] == before.protocol["channels"]  # the table's skeleton
    assert "torch" in rec.software
    after = read_table(table_copy)  # still a valid table, unchanged data
    np.testing.assert_array_equal(after.metrics["valid_acc"], before.metrics["valid_acc"])

    out = tmp_path / "gap"
    rc = main(["gap", "--table", str(table_copy), "--out", str(out), "--top-k", "5,0.5"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "spos seed 0" in text and "spos over 2 seeds" in text
    summary = json.loads((out / "gap.json").read_text())
    runs = summary["spos"]["runs"]
    assert [r["seed"] for r in runs] == [0, 1] and runs[0]["n_cells"] == 24
    assert set(runs[0]["precision"]) == {"5", "12"}
    assert -1 <= runs[0]["kendall_tau"] <= 1
    assert 0 <= runs[0]["pick_percentile"] <= 100
    assert "best-scored cell: stand-alone valid acc" in text
    assert "spos over 2 seeds: best-scored cell's stand-alone percentile" in text
    for seed in (0, 1):
        png = out / f"gap_spos_seed{seed}.png"
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_darts_and_gdas_record_derived_cells(table_copy: Path, tmp_path: Path) -> None:
    for method in ("darts", "gdas"):
        rc = main(
            ["oneshot", "--table", str(table_copy), "--method", method, "--epochs", "2",
             "--arch-lr", "0.05", "--bn-batches", "1", "--no-progress"]
        )  # fmt: skip
        assert rc == 0
    assert list_oneshot(table_copy) == [("darts", 0), ("gdas", 0)]
    bench = TabularBenchmark(read_table(table_copy))
    for method in ("darts", "gdas"):
        rec = read_oneshot(table_copy, method, 0)
        assert rec.alpha is not None and rec.alpha.shape == (2, 6, 5)
        # nothing to score: the charge is the training alone, diagnostics timed apart
        assert rec.cost["eval_wall_s"] == 0.0 and rec.cost["diagnostic_wall_s"] > 0
        assert rec.cost["wall_s"] == rec.cost["train_wall_s"] > 0
        assert rec.arch_index.shape == (2,)
        # the stored stand-alone accuracy is the table's mean (NaN where the table lacks it)
        for idx, sa in zip(rec.arch_index, rec.standalone_valid_acc, strict=True):
            row = bench._row_of[idx]
            if row < 0:
                assert np.isnan(sa)
            else:
                assert sa == pytest.approx(bench.query(int(idx), repeat="mean").valid_acc)
    out = tmp_path / "gap"
    rc = main(["gap", "--table", str(table_copy), "--method", "gdas", "--out", str(out)])
    assert rc == 0
    assert (out / "trajectory_gdas_seed0.png").stat().st_size > 10_000
    summary = json.loads((out / "gap.json").read_text())
    run = summary["gdas"]["runs"][0]
    assert len(run["parameter_free_fraction"]) == 2
    # the derived cell's percentile among the table's cells, per epoch (None: not in the table)
    assert len(run["standalone_percentile"]) == 2
    for acc, pct in zip(run["standalone_valid_acc"], run["standalone_percentile"], strict=True):
        assert (acc is None) == (pct is None)
        if pct is not None:
            pop = standalone_accuracy(bench, bench.distinct_cells)
            assert pct == pytest.approx(100 * np.mean(pop[np.isfinite(pop)] <= acc))


def test_spos_subset_without_writing(built_table: Path) -> None:
    rec = run_oneshot(built_table, "spos", overrides={"epochs": 1}, cells=[5, 77, 5], write=False)
    assert rec.arch_index.tolist() == [5, 77]
    assert rec.cost["cells_evaluated"] == 2 and rec.cost["eval_wall_s"] > 0
    assert rec.cost["wall_s"] == pytest.approx(rec.cost["train_wall_s"] + rec.cost["eval_wall_s"])
    assert list_oneshot(built_table) == []


def test_protocol_overrides_are_checked(built_table: Path) -> None:
    table = read_table(built_table)
    proto = table_protocol(table, epochs=None)  # None: keep the table's value
    assert proto == table_protocol(table)
    assert with_overrides(proto, {"epochs": 1, "lr": None}).epochs == 1
    with pytest.raises(OneShotError, match=r"unknown protocol field.*epoch; allowed:.*epochs"):
        with_overrides(proto, {"epoch": 1})
    with pytest.raises(OneShotError, match="unknown protocol field"):
        run_oneshot(built_table, "spos", protocol=proto, overrides={"chanels": 2}, write=False)


def test_a_synthetic_table_is_refused_with_the_reason() -> None:
    from nasbench_sim.table import make_synthetic_table

    with pytest.raises(OneShotError, match=r"synthetic table records no training protocol.*build"):
        table_protocol(make_synthetic_table(0, cells=20, n_epochs=2))


def test_cli_errors_are_clear(
    tiny_table_path: Path, table_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["oneshot", "--table", str(tiny_table_path), "--method", "spos", "--no-progress"])
    assert rc == 2
    assert "protocol" in capsys.readouterr().err  # a synthetic table has no generator protocol
    assert main(["gap", "--table", str(table_copy)]) == 2
    assert "run `nasbench-sim oneshot` first" in capsys.readouterr().err
    rc = main(["oneshot", "--table", str(table_copy), "--method", "spos", "--cells", "1,x"])
    assert rc == 2
    assert "--cells" in capsys.readouterr().err


def test_weight_sharing_joins_compare_charged_with_its_super_network(
    table_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nasbench_sim.oneshot import write_oneshot
    from nasbench_sim.search.runs_io import read_runs
    from nasbench_sim.strategies import select_strategies
    from nasbench_sim.table import make_synthetic_table, write_table

    for method, seed in (("spos", 0), ("spos", 1), ("darts", 0)):
        rc = main(
            ["oneshot", "--table", str(table_copy), "--method", method, "--seed", str(seed),
             "--epochs", "1", "--bn-batches", "1", "--no-progress"]
        )  # fmt: skip
        assert rc == 0
    # searches need every class in the table: replay the stored super-networks against a
    # full synthetic table file that carries copies of them
    full = write_table(tmp_path / "full.h5", make_synthetic_table(0, n_epochs=4))
    for method, seed in list_oneshot(table_copy):
        write_oneshot(full, read_oneshot(table_copy, method, seed))
    everything = select_strategies("all", str(full))
    assert everything.names[-2:] == ("spos", "darts") and "gdas" not in everything.names
    assert "gdas super-network" in everything.left_out["gdas"]
    capsys.readouterr()
    out = tmp_path / "cmp"
    rc = main(
        ["compare", "--table", str(full), "--strategies", "random,spos,darts", "--seeds", "3",
         "--budget", "20q", "--jobs", "1", "--out", str(out)]
    )  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "spos: 2 stored super-network(s)" in text and "darts: 1 stored" in text
    runs = read_runs(out / "runs.h5")
    assert set(runs["strategy"]) == {"spos", "darts", "random"}
    for seed in range(3):
        rec = read_oneshot(full, "spos", seed % 2)
        first = runs[(runs["strategy"] == "spos") & (runs["seed"] == seed)]
        assert first["start"].min() == pytest.approx(rec.cost["wall_s"])  # super-network first
        score = dict(zip(rec.arch_index.tolist(), rec.valid_acc, strict=True))
        assert score[int(first["index"].iloc[0])] == rec.valid_acc.max()  # a best-scored cell
    assert main(["search", "--table", str(full), "--strategy", "darts", "--budget", "3q"]) == 0
    assert "super-network cost charged first" in capsys.readouterr().out
    assert main(["search", "--table", str(full), "--strategy", "gdas"]) == 2
    assert "no stored gdas super-network" in capsys.readouterr().err
