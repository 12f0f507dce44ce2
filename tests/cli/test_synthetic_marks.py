"""Every output computed from a synthetic table says so (the README promises it)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import pandas as pd
import pytest

from nasbench_sim.cli import main


def test_compare_outputs_carry_the_synthetic_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import analysis.plots

    titles: list[str] = []
    real = analysis.plots.final_figure

    def spy(final: pd.DataFrame, **kw: object) -> object:
        fig = real(final, **kw)  # type: ignore[arg-type]
        titles.append(fig.axes[0].get_title())
        return fig

    monkeypatch.setattr(analysis.plots, "final_figure", spy)
    out = tmp_path / "c"
    argv = ["compare", "--table", "synthetic", "--strategies", "random,evolution", "--seeds", "2"]
    assert main([*argv, "--budget", "10q", "--jobs", "1", "--out", str(out)]) == 0
    for name in ("summary.csv", "final.csv"):
        frame = pd.read_csv(out / name)
        assert frame["source"].str.contains("SYNTHETIC").all(), name
    with h5py.File(out / "runs.h5") as f:
        assert bool(f.attrs["synthetic"]) and "SYNTHETIC" in str(f.attrs["source"])
    assert titles and "SYNTHETIC" in titles[0]
    assert json.loads((out / "meta.json").read_text())["synthetic"] is True


def test_query_says_synthetic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "11791", "--table", "synthetic"]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    assert main(["query", "11791", "--table", "synthetic", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["synthetic"] is True and "SYNTHETIC" in data["source"]


def test_predictor_plots_name_their_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import analysis.predictor_plots as pp

    titles: list[str] = []
    real = pp._title

    def spy(title: str, mark: str) -> str:
        titles.append(real(title, mark))
        return titles[-1]

    monkeypatch.setattr(pp, "_title", spy)
    argv = ["predictors", "--table", "synthetic:3", "--predictors", "ridge", "--train-sizes",
            "10,20", "--trials", "1", "--test-size", "50", "--lc-train", "20",
            "--lc-fractions", "0.5", "--out", str(tmp_path / "p")]  # fmt: skip
    assert main(argv) == 0
    assert titles and all(t.endswith("\nSYNTHETIC table (table seed 3)") for t in titles)
