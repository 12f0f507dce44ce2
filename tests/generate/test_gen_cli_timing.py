"""``nasbench-sim build`` / ``merge`` and the training-time model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.cli import main
from nasbench_sim.generate.timing_model import FALLBACK, METHOD, fit_timing_model
from nasbench_sim.space import get_space
from nasbench_sim.table import read_table

TINY_ARGS = [
    "--dataset", "digits", "--epochs", "1", "--channels", "4", "--cells-per-stage", "1",
    "--train-subset", "64", "--eval-subset", "64", "--batch-size", "32", "--chunk-size", "2",
    "--threads", "1", "--no-progress",
]  # fmt: skip


def test_cli_build_shards_and_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(2):
        rc = main(
            ["build", "--out", str(tmp_path / f"s{i}.h5"), "--cells", "4", "--seeds", "0,1",
             "--shard", f"{i}/2", *TINY_ARGS]
        )  # fmt: skip
        assert rc == 0
    assert "2 cells x 2 seeds x 1 epochs on digits" in capsys.readouterr().out
    rc = main(
        ["merge", str(tmp_path / "s0.h5"), str(tmp_path / "s1.h5"), "--out", str(tmp_path / "m.h5")]
    )
    assert rc == 0
    t = read_table(tmp_path / "m.h5")
    assert t.n_cells == 4 and t.seeds.tolist() == [0, 1] and t.dataset == "digits"
    assert t.protocol["channels"] == 4 and t.provenance["shards"][0]["trainer"] == "batched"


def test_cli_reference_trainer_and_resume_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t.h5"
    (tmp_path / "t.h5.parts").mkdir()
    rc = main(["build", "--out", str(out), "--cells", "2", *TINY_ARGS])
    assert rc == 2 and "--resume" in capsys.readouterr().err
    (tmp_path / "t.h5.parts").rmdir()
    assert main(["build", "--out", str(out), "--cells", "2", "--reference", *TINY_ARGS]) == 0
    assert read_table(out).provenance["trainer"] == "reference"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--cells", "lots"], "--cells must be"),
        (["--seeds", "0,x"], "--seeds must be"),
        (["--shard", "5/2"], "0 <= i < n"),
        (["--epochs", "0"], "epochs must be an integer >= 1"),
    ],
)
def test_cli_build_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    rc = main(["build", "--out", str(tmp_path / "t.h5"), *TINY_ARGS, *extra])
    assert rc == 2
    assert words in capsys.readouterr().err


def test_cli_merge_refuses_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["merge", str(tmp_path / "nope.h5"), "--out", str(tmp_path / "m.h5")]) == 2
    assert "no such table file" in capsys.readouterr().err


def test_cli_and_generate_package_do_not_import_torch() -> None:
    code = (
        "import sys, nasbench_sim.cli, nasbench_sim.generate\n"
        "nasbench_sim.cli.build_parser()\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_build_without_torch_says_how_to_install(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # make `import torch` fail\n"
        "from nasbench_sim.cli import main\n"
        f"sys.exit(main(['build', '--out', {str(tmp_path / 't.h5')!r}, '--cells', '2']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2
    assert 'pip install -e ".[train]"' in out.stderr and "'torch'" in out.stderr
    assert not (tmp_path / "t.h5.parts").exists()


def test_timing_model_recovers_a_linear_cost_and_reports_its_error() -> None:
    rng = np.random.default_rng(0)
    idx = rng.choice(get_space("nb201").size, 60, replace=False)
    flops = rng.uniform(1e6, 5e7, 60)
    params = rng.uniform(1e3, 1e5, 60)
    true = 0.05 + 2e-9 * flops + 1e-7 * params
    measured = np.full(60, np.nan)
    measured[:40] = true[:40] * rng.normal(1, 0.02, 40)
    model = fit_timing_model(idx, flops, params, measured)
    assert model.method == METHOD and model.n_measured == 40
    assert 0 < model.cv_mape < 0.05
    np.testing.assert_array_equal(model.predicted[:40], measured[:40])  # measured kept
    assert np.abs(model.predicted[40:] / true[40:] - 1).max() < 0.1
    # noisier measurements give a larger reported error
    noisy = measured.copy()
    noisy[:40] = true[:40] * rng.normal(1, 0.3, 40).clip(0.2)
    assert fit_timing_model(idx, flops, params, noisy).cv_mape > model.cv_mape


def test_timing_model_with_few_or_no_measurements() -> None:
    idx = np.array([1, 2, 3])
    few = fit_timing_model(idx, np.ones(3), np.ones(3), np.array([0.2, np.nan, 0.4]))
    assert few.method == FALLBACK and np.isnan(few.cv_mape)
    assert few.predicted.tolist() == [0.2, pytest.approx(0.3), 0.4]
    none = fit_timing_model(idx, np.ones(3), np.ones(3), np.full(3, np.nan))
    assert none.n_measured == 0 and np.isnan(none.predicted).all()
    assert none.provenance()["timing_model_cv_mape"] is None


@pytest.mark.parametrize(("batch", "trainer"), [("32", "matmul_stacked"), ("256", "matmul")])
def test_cli_auto_trainer_on_cpu_with_1d_data(tmp_path: Path, batch: str, trainer: str) -> None:
    """``--trainer auto`` on a CPU with MNIST-1D: stacked below batch 256, one model above."""
    out = tmp_path / "t.h5"
    args = [
        "build", "--out", str(out), "--cells", "3", "--dataset", "mnist1d", "--epochs", "1",
        "--channels", "2", "--cells-per-stage", "1", "--data-sizes", "256,64,64",
        "--batch-size", batch, "--chunk-size", "3", "--workers", "1", "--no-progress",
    ]  # fmt: skip
    assert main(args) == 0
    assert read_table(out).provenance["trainer"] == trainer


def test_resume_bar_prints_no_line_per_skipped_chunk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A resumed build's bar leaves out the committed chunks without printing each of them
    (a log of a build resumed at chunk 110 used to open with 110 lines of 0 %), but says
    once, after the last, how many cells they hold."""
    out = tmp_path / "t.h5"
    args = ["build", "--out", str(out), "--cells", "6", "--keep-parts", *TINY_ARGS]
    assert main(args) == 0  # three chunks of two cells
    out.unlink()
    (tmp_path / "t.h5.parts" / "chunk-000002.npz").unlink()
    capsys.readouterr()
    assert main([a for a in args if a != "--no-progress"] + ["--resume"]) == 0
    err = capsys.readouterr().err
    # the bar counts all six cells, the committed four from the start: one line for them
    assert "6/6" in err and "resumed=4" in err and "chunk=3/3" in err
    assert "2/6" not in err and err.count("4/6 [") == 1


def test_bar_of_a_build_that_fails_early_is_cleared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error before any chunk leaves no empty ``0cell`` bar on the last line above it."""
    out = tmp_path / "t.h5"
    out.write_bytes(b"")  # the table exists already: refused before any training
    args = ["build", "--out", str(out), "--cells", "6", *TINY_ARGS]
    assert main([a for a in args if a != "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert "exists" in err
    assert "0cell" not in err.split("\r")[-1]  # cleared: the line was overwritten
