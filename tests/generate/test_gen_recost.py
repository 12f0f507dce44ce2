"""Re-measuring a built table's wall-clock costs: only the costs change, the timing model is
refitted on the new measurements, the provenance keeps the build's figures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.cli import main
from nasbench_sim.generate import GenerateError, Protocol, build_table
from nasbench_sim.generate.recost import recost_table
from nasbench_sim.table import METRICS, read_table, write_table
from nasbench_sim.table.synthetic import make_synthetic_table

CELLS = [0, 7, 1234, 5555, 9000, 12000]


@pytest.fixture()
def built(tmp_path: Path, tiny: Protocol) -> Path:
    return build_table(tiny, tmp_path / "t.h5", cells=CELLS, seeds=[0, 1], chunk_size=3)


def test_only_the_wall_clock_costs_change(built: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    report = recost_table(built, tmp_path / "r.h5", timed_cells=4, repeats=3, progress=seen.append)
    a, b = read_table(built), read_table(report.out)
    assert sum(seen) == len(CELLS) + 4 and report.rows == len(CELLS) and report.timed == 4
    np.testing.assert_array_equal(a.arch_index, b.arch_index)
    for name in METRICS:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
    for name in ("params", "flops"):
        np.testing.assert_array_equal(a.cost[name], b.cost[name])
    assert (b.cost["latency_s"] > 0).all() and not np.array_equal(
        a.cost["latency_s"], b.cost["latency_s"]
    )
    measured = b.cost["train_time_measured_s"]
    assert np.isfinite(measured).sum() == 4 and (measured[np.isfinite(measured)] > 0).all()
    timed = np.isfinite(measured)
    np.testing.assert_array_equal(b.cost["train_time_s"][timed], measured[timed])
    assert (b.cost["train_time_s"] > 0).all()
    done = b.provenance["costs_remeasured"]
    assert done["timed_cells"] == 4 and done["latency_repeats"] == 3 and done["threads"] == 1
    assert (
        b.provenance["costs_at_build"]["timing_model_n_measured"]
        == (a.provenance["timing_model_n_measured"])
    )
    assert b.provenance["timing_model_n_measured"] == 4
    assert b.protocol == a.protocol  # the table's protocol is untouched (repeats are recorded)
    from analysis.datasheet import write_datasheet

    text = write_datasheet(report.out, tmp_path / "ds").read_text()
    said = "- latency and training times re-measured "
    assert said in text and "median of 3 forward passes per row, the steps of 4 rows timed" in text


def test_the_same_seed_times_the_same_rows(built: Path, tmp_path: Path) -> None:
    def timed(seed: int) -> np.ndarray:
        out = recost_table(built, tmp_path / f"s{seed}.h5", timed_cells=4, repeats=1, seed=seed)
        return np.isfinite(read_table(out.out).cost["train_time_measured_s"])

    np.testing.assert_array_equal(timed(0), timed(0))
    assert not np.array_equal(timed(0), timed(5))


def test_bad_input_is_refused_before_any_work(built: Path, tmp_path: Path) -> None:
    with pytest.raises(GenerateError, match="timed_cells must be an integer >= 4"):
        recost_table(built, tmp_path / "x.h5", timed_cells=2)
    with pytest.raises(GenerateError, match="repeats must be an integer >= 1"):
        recost_table(built, tmp_path / "x.h5", repeats=0)
    synthetic = write_table(tmp_path / "syn.h5", make_synthetic_table(0, cells=20, n_epochs=2))
    with pytest.raises(GenerateError, match="records no build protocol"):
        recost_table(synthetic, tmp_path / "x.h5")
    no_protocol = write_table(
        tmp_path / "np.h5", dataclasses.replace(read_table(built), protocol={})
    )
    with pytest.raises(GenerateError, match="records no build protocol"):
        recost_table(no_protocol, tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()


def test_cli(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.h5"
    assert main(["recost", str(built), "--out", str(out), "--timed-cells", "4",
                 "--repeats", "2"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert f"wrote {out}: latency of {len(CELLS)} rows (2 passes each)" in text
    assert "timing-model error" in text
    assert main(["recost", str(built), "--out", str(out), "--repeats", "0"]) == 2
    err = capsys.readouterr().err
    assert "repeats must be an integer >= 1" in err and "re-measuring" not in err


def test_a_second_recost_keeps_the_builds_own_figures(built: Path, tmp_path: Path) -> None:
    first = recost_table(built, tmp_path / "a.h5", timed_cells=4, repeats=1)
    second = recost_table(first.out, tmp_path / "b.h5", timed_cells=5, repeats=1, seed=1)
    a, b, c = read_table(built), read_table(first.out), read_table(second.out)
    at_build = {k: a.provenance.get(k) for k in ("timing_model_cv_mape", "timing_model_n_measured")}
    for t in (b, c):
        got = t.provenance["costs_at_build"]
        assert {k: got[k] for k in at_build} == at_build
    assert c.provenance["costs_remeasured"]["timed_cells"] == 5
    assert [r["timed_cells"] for r in c.provenance["costs_remeasured_before"]] == [4]
    assert second.cv_mape_before == a.provenance.get("timing_model_cv_mape")


def test_tables_it_cannot_remeasure_are_refused(built: Path, tmp_path: Path) -> None:
    t = read_table(built)
    gpu = dataclasses.replace(
        t, provenance={**t.provenance, "numerics": {**t.provenance["numerics"], "device": "cuda"}}
    )
    with pytest.raises(GenerateError, match="built on 'cuda'"):
        recost_table(write_table(tmp_path / "gpu.h5", gpu), tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()


def test_the_data_dir_reaches_the_dataset(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = read_table(built)
    path = write_table(
        tmp_path / "cifar.h5", dataclasses.replace(t, protocol={**t.protocol, "dataset": "cifar10"})
    )
    empty = tmp_path / "no-data"
    empty.mkdir()
    assert (
        main(["recost", str(path), "--out", str(tmp_path / "x.h5"), "--data-dir", str(empty)]) == 2
    )
    assert f"missing in {empty}" in capsys.readouterr().err
