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
