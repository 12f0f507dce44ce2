"""The core install has no torch: torch-only predictors and strategies are left out of the
defaults (saying so), and naming one fails with the install command, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
NO_TORCH = (
    "import sys, importlib.abc\n"
    "class _NoTorch(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path, target=None):\n"
    "        if name == 'torch' or name.startswith('torch.'):\n"
    "            raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n"
    "sys.meta_path.insert(0, _NoTorch())\n"
    "from nasbench_sim.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
HINT = 'pip install -e ".[train]"'


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", NO_TORCH, *argv], env=env, capture_output=True, text=True
    )


def test_default_predictors_leave_gcn_out_and_say_why(tmp_path: Path) -> None:
    out = tmp_path / "p"
    done = _cli(
        "predictors", "--table", "synthetic", "--train-sizes", "20", "--trials", "1",
        "--test-size", "50", "--lc-fractions", "", "--no-plots", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "left out gcn" in done.stdout and HINT in done.stdout
    frame = pd.read_csv(out / "predictors.csv")
    assert "gcn" not in set(frame["predictor"]) and "xgb" in set(frame["predictor"])


def test_naming_a_torch_only_predictor_or_strategy_says_how_to_install(tmp_path: Path) -> None:
    for argv in (
        ["search", "--table", "synthetic", "--strategy", "bo_gcn", "--budget", "5q"],
        ["surrogate", "fit", "--table", "synthetic", "--predictor", "gcn", "--out",
         str(tmp_path / "s.npz")],
        ["predictors", "--table", "synthetic", "--predictors", "gcn", "--out", str(tmp_path)],
    ):  # fmt: skip
        done = _cli(*argv)
        assert done.returncode == 2, (argv, done.stderr)
        assert HINT in done.stderr and "torch" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_the_cli_default_list_is_the_registry_default() -> None:
    from nasbench_sim.cli.predict import DEFAULT_PREDICTOR_NAMES
    from predictors.registry import DEFAULT_PREDICTORS

    assert tuple(DEFAULT_PREDICTOR_NAMES.split(",")) == DEFAULT_PREDICTORS
