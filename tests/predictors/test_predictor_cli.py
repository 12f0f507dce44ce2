"""``nasbench-sim predictors`` and ``nasbench-sim surrogate fit`` end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nasbench_sim.cli import main
from predictors.evaluate import LC_COLUMNS, RESULT_COLUMNS
from predictors.surrogate import SurrogateBenchmark


def test_predictors_cli_writes_its_files(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    rc = main(
        [
            "predictors",
            "--table",
            "synthetic:1",
            "--predictors",
            "ridge,knn",
            "--train-sizes",
            "20,50",
            "--trials",
            "2",
            "--test-size",
            "200",
            "--lc-fractions",
            "0.25,0.5",
            "--lc-train",
            "40",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC" in text and "noise ceiling" in text and "ridge" in text
    df = pd.read_csv(out / "predictors.csv")
    assert list(df.columns) == list(RESULT_COLUMNS) and len(df) == 2 * 2 * 2
    lc = pd.read_csv(out / "lc_fraction.csv")
    assert list(lc.columns) == list(LC_COLUMNS) and len(lc) == 4
    for name in ("tau", "rho", "r2", "top5", "time"):
        png = out / f"predictors_{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "lc_fraction.png").stat().st_size > 1000


def test_predictors_cli_reports_bad_input(tmp_path: Path, tiny_table_path: Path, capsys) -> None:
    rc = main(
        [
            "predictors",
            "--table",
            str(tiny_table_path),
            "--train-sizes",
            "x",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 2 and "--train-sizes" in capsys.readouterr().err
    rc = main(
        [
            "predictors",
            "--table",
            str(tiny_table_path),
            "--predictors",
            "ridge",
            "--train-sizes",
            "30",
            "--test-size",
            "20",
            "--trials",
            "1",
            "--out",
            str(tmp_path / "p"),
        ]
    )
    assert rc == 2 and "40 cells" in capsys.readouterr().err
    rc = main(
        ["predictors", "--table", "synthetic", "--predictors", "nope", "--out", str(tmp_path / "p")]
    )
    assert rc == 2 and "known predictors" in capsys.readouterr().err


def test_surrogate_fit_cli(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sur.npz"
    rc = main(
        [
            "surrogate",
            "fit",
            "--table",
            "synthetic",
            "--fraction",
            "0.1",
            "--predictor",
            "ridge",
            "--out",
            str(path),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "SYNTHETIC" in text and "held-out" in text
    sur = SurrogateBenchmark.load(path)
    assert sur.fit_report.predictor == "ridge" and sur.n_epochs == 20


@pytest.mark.parametrize("argv", [["--train-sizes", "1"], ["--trials", "0"], ["--test-size", "-5"]])
def test_sizes_and_counts_below_their_minimum_are_refused(argv, tmp_path, capsys) -> None:
    try:
        rc = main(["predictors", "--table", "synthetic", "--out", str(tmp_path), *argv])
    except SystemExit as exc:  # argparse type errors
        rc = exc.code
    assert rc == 2
    assert argv[0] in capsys.readouterr().err
