"""Every command that writes a folder writes it as a whole: a temporary folder swapped in at
the end, so a folder never mixes two outputs, a failure (or Ctrl-C) leaves the previous one
untouched, and a folder holding other files is refused before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.datasheet import write_datasheet
from analysis.predictor_plots import write_predictor_study
from nasbench_sim.atomic import OutputFolderError, check_output_dir
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.cli import main
from nasbench_sim.table import make_synthetic_table, write_table
from predictors.evaluate import predictor_study


def test_patterns_name_the_files_an_output_may_hold(tmp_path: Path) -> None:
    (tmp_path / "gap_spos_seed3.png").write_bytes(b"")
    check_output_dir(tmp_path, ["gap.json", "gap_*_seed*.png"])
    (tmp_path / "gap_notes.txt").write_bytes(b"")
    with pytest.raises(OutputFolderError, match=r"gap_notes\.txt"):
        check_output_dir(tmp_path, ["gap.json", "gap_*_seed*.png"])


def test_a_datasheet_folder_is_replaced_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = write_table(tmp_path / "t.h5", make_synthetic_table(0, cells=60, n_epochs=4))
    out = tmp_path / "ds"
    write_datasheet(table, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"README.md", "datasheet.json", "accuracy_hist.png"} <= set(before)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("analysis.datasheet.fronts_figure_of_costs", boom)
    with pytest.raises(OSError, match="disk full"):
        write_datasheet(table, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "t.h5"]  # no temporary left
    (out / "mine.txt").write_text("keep")
    with pytest.raises(OutputFolderError, match=r"mine\.txt"):
        write_datasheet(table, out)


def test_a_predictor_study_is_written_whole(
    synthetic_bench: TabularBenchmark, tmp_path: Path
) -> None:
    study = predictor_study(synthetic_bench, ["ridge"], [20], trials=2, test_size=50)
    out = tmp_path / "p"
    written = write_predictor_study(study, out, plots=True, synthetic=True)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in written) and "predictors.csv" in names
    assert "predictors_tau.png" in names and "predictors_time.png" in names
    write_predictor_study(study, out, plots=False)  # the PNGs of the first study are gone
    assert sorted(p.name for p in out.iterdir()) == ["predictors.csv"]


def test_the_predictors_command_refuses_a_foreign_folder_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "thesis.tex").write_text("mine")
    argv = ["predictors", "--table", "synthetic", "--predictors", "ridge", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "thesis.tex" in err and "%|" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]
