from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from nasbench_sim.errors import TableError
from nasbench_sim.space import NB201Space
from nasbench_sim.table import (
    COST_METRICS,
    METRICS,
    TableData,
    make_synthetic_table,
    read_table,
    table_to_frame,
    write_table,
)


def test_round_trip(tmp_path: Path) -> None:
    table = make_synthetic_table(3, cells=25, n_epochs=4, n_seeds=2)
    path = write_table(tmp_path / "t.h5", table)
    back = read_table(path)
    assert np.array_equal(back.arch_index, table.arch_index)
    assert np.array_equal(back.seeds, table.seeds)
    for name in METRICS:
        np.testing.assert_array_equal(back.metrics[name], table.metrics[name])
    for name in COST_METRICS:
        np.testing.assert_array_equal(back.cost[name], table.cost[name])
    assert back.protocol == table.protocol
    assert back.provenance["synthetic"] is True
    assert "software" in back.provenance and back.created


def test_readable_with_plain_h5py_and_pandas(tmp_path: Path) -> None:
    table = make_synthetic_table(3, cells=10, n_epochs=3)
    path = write_table(tmp_path / "t.h5", table)
    space = NB201Space()
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "nasbench-sim-table"
        assert int(f.attrs["schema_version"]) == 1
        assert f["metrics/valid_acc"].shape == (10, 3, 3)
        strings = f["arch/string"].asstr()[...]
        idx = f["arch/index"][...]
        assert [str(space.from_index(int(i))) for i in idx] == list(strings)
        assert np.array_equal(f["arch/class_id"][...], space.class_ids()[idx])
        json.loads(f.attrs["protocol"])
    frame = pd.DataFrame(
        {"arch": strings, "final_valid": table.metrics["valid_acc"][:, :, -1].mean(1)}
    )
    assert len(frame) == 10
    long = table_to_frame(table)
    assert len(long) == 10 * 3 * 3
    row = long.iloc[4]
    assert row["epoch"] == 2 and row["seed"] == 1
    assert row["valid_acc"] == pytest.approx(table.metrics["valid_acc"][0, 1, 1])


def _write_and_corrupt(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    path = write_table(tmp_path / "t.h5", make_synthetic_table(0, cells=8, n_epochs=3))
    with h5py.File(path, "a") as f:
        mutate(f)
    return path


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda f: f.__delitem__("metrics/test_acc"), "missing dataset metrics/test_acc"),
        (lambda f: f.__delitem__("cost/params"), "missing dataset cost/params"),
        (lambda f: f.__delitem__("arch/index"), "missing dataset arch/index"),
        (lambda f: f.attrs.__setitem__("schema_version", 99), "unknown schema version 99"),
        (lambda f: f.attrs.__setitem__("format", "other"), "format attribute"),
        (lambda f: f.attrs.__delitem__("space"), "missing file attribute 'space'"),
        (lambda f: f.attrs.__setitem__("space", "nb999"), "unknown space"),
        (lambda f: f.attrs.__setitem__("protocol", "{not json"), "not JSON"),
        (
            lambda f: (
                f.__delitem__("metrics/valid_loss"),
                f.create_dataset("metrics/valid_loss", data=np.zeros((8, 3, 2))),
            ),
            "metrics/valid_loss has shape",
        ),
        (
            lambda f: (
                f.__delitem__("cost/flops"),
                f.create_dataset("cost/flops", data=np.zeros(7)),
            ),
            "cost/flops has shape",
        ),
        (
            lambda f: (
                f.__delitem__("arch/index"),
                f.create_dataset("arch/index", data=np.zeros(8, dtype=np.int64)),
            ),
            "lists a cell twice",
        ),
    ],
)
def test_corruptions_raise_table_error(tmp_path: Path, mutate, fragment: str) -> None:  # type: ignore[no-untyped-def]
    path = _write_and_corrupt(tmp_path, mutate)
    with pytest.raises(TableError, match=fragment):
        read_table(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="no such table file"):
        read_table(tmp_path / "nope.h5")


def test_not_hdf5(tmp_path: Path) -> None:
    p = tmp_path / "x.h5"
    p.write_text("hello, I am a CSV\n")
    with pytest.raises(TableError, match="not an HDF5 file"):
        read_table(p)


def test_truncated_file(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.h5", make_synthetic_table(0, cells=300, n_epochs=10))
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(TableError):
        read_table(cut)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="directory"):
        read_table(tmp_path)


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_table(tmp_path / "t.h5", make_synthetic_table(0, cells=5, n_epochs=2))
    before = path.read_bytes()
    bad = make_synthetic_table(1, cells=5, n_epochs=2)
    import nasbench_sim.table.io as io

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(io.os, "replace", boom)
    with pytest.raises(RuntimeError):
        write_table(path, bad)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))


def test_validate_rejects_bad_data() -> None:
    t = make_synthetic_table(0, cells=5, n_epochs=2)
    broken = TableData(
        t.space,
        t.dataset,
        t.arch_index,
        t.seeds,
        {k: v for k, v in t.metrics.items() if k != "valid_loss"},
        t.cost,
    )
    with pytest.raises(TableError, match="valid_loss"):
        broken.validate()
    outside = TableData(t.space, t.dataset, t.arch_index + 20000, t.seeds, t.metrics, t.cost)
    with pytest.raises(TableError, match="outside"):
        outside.validate()


def test_synthetic_table_properties() -> None:
    t = make_synthetic_table(0)
    space = NB201Space()
    assert t.n_cells == space.n_classes
    assert np.array_equal(t.arch_index, space.representatives())
    final = t.metrics["valid_acc"][:, :, -1]
    assert final.min() >= 0.0 and final.max() <= 1.0
    # curves rise on average, seeds agree on ranking, and the optimum is what it says
    assert (t.metrics["valid_acc"][:, :, -1] >= t.metrics["valid_acc"][:, :, 0]).mean() > 0.9
    from scipy.stats import kendalltau

    assert kendalltau(final[:, 0], final[:, 1]).statistic > 0.7
    best = t.arch_index[np.argmax(final.mean(axis=1))]
    assert str(space.from_index(int(best))) == t.provenance["planted_optimum"]
    again = make_synthetic_table(0)
    np.testing.assert_array_equal(again.metrics["valid_acc"], t.metrics["valid_acc"])
    assert not np.array_equal(make_synthetic_table(1).metrics["valid_acc"], t.metrics["valid_acc"])
