"""Malformed NAS-Bench-101 files are refused with a typed error naming the record."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from nasbench_sim.importers import ImportFormatError
from nasbench_sim.importers.nb101 import (
    encode_row,
    read_naslib_pickle,
    read_nb101_tfrecord,
)
from nasbench_sim.importers.synthetic_nb101 import random_cells, synthetic_runs
from nasbench_sim.importers.tfrecord import write_tfrecord

CELLS = random_cells(3, seed=7)
RUNS = list(synthetic_runs(CELLS, (108,)))  # 3 cells x 3 repeats


def _rows(runs: list[Any], **change: Any) -> list[bytes]:
    return [
        encode_row(change.get("h", c.hash), change.get("epochs", e), change.get("spec", str(c)), m)
        for c, e, _, m in runs
    ]


def test_a_known_hash_with_another_graph_is_refused(tmp_path: Path) -> None:
    a, b = CELLS[0], CELLS[1]
    rows = [*_rows(RUNS[:3]), encode_row(a.hash, 108, str(b), RUNS[3][3])]
    path = write_tfrecord(tmp_path / "x.tfrecord", rows)
    with pytest.raises(ImportFormatError, match=rf"record 3 \(hash {a.hash}\).*first given"):
        read_nb101_tfrecord(path)


def test_more_repeats_than_nb101_has_are_refused(tmp_path: Path) -> None:
    rows = _rows(RUNS[:3])
    path = write_tfrecord(tmp_path / "x.tfrecord", rows + rows[:2])  # 5 copies of one graph
    with pytest.raises(ImportFormatError, match=r"record 3 .*run 4 .* at most 3"):
        read_nb101_tfrecord(path)
    ok = read_nb101_tfrecord(write_tfrecord(tmp_path / "ok.tfrecord", rows))
    assert ok.values.shape[2] == 3 and ok.records == 3


@pytest.mark.parametrize("epochs", [0, -4, 2**31, 10**12, 10_001, True])
def test_tfrecord_epochs_out_of_range_are_refused(tmp_path: Path, epochs: int) -> None:
    path = write_tfrecord(tmp_path / "x.tfrecord", _rows(RUNS[:1], epochs=epochs))
    with pytest.raises(ImportFormatError, match=r"x\.tfrecord: record 0 .*epochs .*1\.\.10000"):
        read_nb101_tfrecord(path)


def _pickle(tmp_path: Path, computed: Any) -> Path:
    cell = CELLS[0]
    fixed = {"module_adjacency": cell.array(), "module_operations": list(cell.ops)}
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps({cell.hash: (fixed, computed)}, protocol=4))
    return path


POINT = {"final_validation_accuracy": 0.9, "final_training_time": 100.0}


@pytest.mark.parametrize(
    ("computed", "match"),
    [
        ({"abc": [POINT]}, r"epochs 'abc'"),
        ({10**12: [POINT]}, r"epochs 1000000000000"),
        ({0: [POINT]}, r"epochs 0"),
        ({108: 3}, r"repeats at 108 epochs are not a list"),
        ({108: [{"final_validation_accuracy": [0.9]}]}, r"repeat 0 at 108 epochs .*non-number"),
        ({108: [POINT] * 4}, r"run 4 .* at most 3"),
    ],
)
def test_naslib_pickle_bad_computed_statistics_are_typed(
    tmp_path: Path, computed: Any, match: str
) -> None:
    with pytest.raises(ImportFormatError, match=rf"x\.pkl: graph {CELLS[0].hash}: .*{match}"):
        read_naslib_pickle(_pickle(tmp_path, computed))
    assert read_naslib_pickle(_pickle(tmp_path, {"108": [POINT]})).budgets == (108,)


def test_arguments_are_checked_before_the_file_is_read(tmp_path: Path) -> None:
    from nasbench_sim.importers import import_nb101

    path = write_tfrecord(tmp_path / "x.tfrecord", _rows(RUNS))
    read: list[int] = []
    with pytest.raises(ImportFormatError, match=r"check_hashes='most'; allowed: all, sample"):
        import_nb101(path, tmp_path / "t.h5", check_hashes="most", progress=read.append)
    assert read == [] and not (tmp_path / "t.h5").exists()


def test_crc_checks_asked_of_a_pickle_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nasbench_sim.cli import main
    from nasbench_sim.importers import import_nb101

    src = _pickle(tmp_path, {108: [POINT]})
    out = tmp_path / "t.h5"
    rc = main(["import", "nb101", str(src), "--out", str(out), "--crc", "on"])
    assert rc == 2 and "CRCs exist only in TFRecord files" in capsys.readouterr().err
    assert not out.exists()
    for off in (False, None):  # "--crc off" or the default: nothing to check, nothing refused
        report = import_nb101(src, out, check_crc=off)[0]
        assert report.rows == 1
