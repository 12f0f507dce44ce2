"""After an import, every command of the project runs on the imported table unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.cli import main
from nasbench_sim.importers import synthetic as syn
from nasbench_sim.space import Cell, NB201Space

LIGHT = syn.SyntheticSpec(budgets=("12",), datasets=("cifar10-valid", "cifar100"), seeds=(777, 888))


def _reps() -> list[int]:
    """The benchmark indices of every class representative."""
    where = {s: i for i, s in enumerate(syn.nats_order(0))}
    return [where[str(Cell.from_index(int(i)))] for i in NB201Space().representatives()]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A NATS-Bench single file holding every equivalence class (so that a search may propose
    any cell), imported through the CLI."""
    root = tmp_path_factory.mktemp("e2e")
    reps = _reps()
    src = syn.write_nats_file(root / "NATS-tss-v1_0-3ffb9.pickle.pbz2", reps, spec=LIGHT)
    out = root / "nats_c100_12.h5"
    assert (
        main(
            [
                "import",
                "nats",
                str(src),
                "--out",
                str(out),
                "--dataset",
                "cifar100",
                "--epochs",
                "12",
            ]
        )
        == 0
    )
    return out


def test_import_cli_prints_the_report(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(imported), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows"] == 6466 and info["cells_covered"] == 15625 and info["epochs"] == 12
    assert info["seeds"] == [777, 888] and info["missing_runs"] == {
        "888": sum(i % 3 == 0 for i in _reps())
    }
    assert info["synthetic"] is True and info["provenance"]["source"]["checksum_in_name"] == "3ffb9"
    assert main(["info", str(imported)]) == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC" in text and "missing_runs: {'888'" in text


def test_search_and_compare(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["search", "--table", str(imported), "--strategy", "evolution", "--budget", "40q"])
        == 0
    )
    assert "final regret" in capsys.readouterr().out
    out = tmp_path / "cmp"
    rc = main(
        [
            "compare",
            "--table",
            str(imported),
            "--strategies",
            "random,evolution,hyperband",
            "--seeds",
            "3",
            "--budget",
            "10x",
            "--jobs",
            "1",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["strategy"]) == {"random", "evolution", "hyperband"}
    assert np.isfinite(summary["mean_regret"]).all() and (summary["mean_regret"] >= 0).all()
    assert (out / "anytime.png").stat().st_size > 1000


def test_predictors_surrogate_and_audit(imported: Path, tmp_path: Path) -> None:
    rc = main(
        [
            "predictors",
            "--table",
            str(imported),
            "--predictors",
            "ridge",
            "--train-sizes",
            "50",
            "--trials",
            "1",
            "--test-size",
            "200",
            "--lc-fractions",
            "0.5",
            "--lc-train",
            "40",
            "--no-plots",
            "--out",
            str(tmp_path / "pred"),
        ]
    )
    assert rc == 0 and len(pd.read_csv(tmp_path / "pred" / "predictors.csv")) == 1
    sur = tmp_path / "s.npz"
    assert (
        main(
            [
                "surrogate",
                "fit",
                "--table",
                str(imported),
                "--fraction",
                "0.1",
                "--predictor",
                "ridge",
                "--out",
                str(sur),
            ]
        )
        == 0
    )
    assert main(["search", "--table", str(sur), "--strategy", "random", "--budget", "20q"]) == 0
    rc = main(
        [
            "audit",
            "--table",
            str(imported),
            "--strategies",
            "random,evolution",
            "--seeds",
            "2",
            "--fractions",
            "0.1",
            "--predictor",
            "ridge",
            "--budget",
            "10x",
            "--jobs",
            "1",
            "--out",
            str(tmp_path / "audit"),
        ]
    )
    assert rc == 0 and len(pd.read_csv(tmp_path / "audit" / "audit.csv")) == 1


def test_a_csv_without_times_runs_budgeted_in_queries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reps = NB201Space().representatives()
    rng = np.random.default_rng(0)
    acc = rng.uniform(60, 90, reps.shape[0])
    pd.DataFrame(
        {
            "arch": [str(Cell.from_index(int(i))) for i in reps],
            "valid_acc": acc,
            "test_acc": acc + rng.normal(0, 0.5, acc.shape),
        }
    ).to_csv(tmp_path / "e.csv")
    table = tmp_path / "e.h5"
    assert main(["import", "csv", str(tmp_path / "e.csv"), "--out", str(table)]) == 0
    text = capsys.readouterr().out
    assert "budgeted in queries" in text
    out = tmp_path / "cmp"
    rc = main(
        [
            "compare",
            "--table",
            str(table),
            "--strategies",
            "random,evolution",
            "--seeds",
            "2",
            "--jobs",
            "1",
            "--out",
            str(out),
        ]
    )
    assert rc == 0 and "150 queries" in capsys.readouterr().out
    assert main(["search", "--table", str(table), "--strategy", "random", "--budget", "2h"]) == 2
    assert "records no training times" in capsys.readouterr().err


def test_import_cli_options_and_errors(
    nats_dir: Path, hw_pickle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t.h5"
    assert main(["import", "nats", str(nats_dir), "--out", str(out), "--arch-col", "a"]) == 2
    assert "--arch-col: not an option of format nats" in capsys.readouterr().err
    assert main(["import", "nats", str(nats_dir), "--out", str(out), "--jobs", "2"]) == 0
    text = capsys.readouterr().out
    assert "missing runs (NaN, not filled): seed 999" in text and "pseudo" in text
    rc = main(
        [
            "import",
            "hwnas",
            str(hw_pickle),
            "--table",
            str(out),
            "--out",
            str(out),
            "--hw-metrics",
            "edgegpu_latency,fpga_energy",
        ]
    )
    assert rc == 0 and "cost/hw_fpga_energy_mj" in capsys.readouterr().out
    assert main(["import", "csv", str(tmp_path / "x.csv"), "--out", str(out), "--metric", "x"]) == 2
    assert "--metric takes NAME=COLUMN" in capsys.readouterr().err
    assert main(["import", "nb201", str(nats_dir), "--out", str(out)]) == 2
    assert "a directory" in capsys.readouterr().err
