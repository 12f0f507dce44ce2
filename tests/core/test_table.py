from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from nasbench_sim.bench import Benchmark
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


def test_a_table_made_in_memory_is_checked_like_a_file() -> None:
    from nasbench_sim.bench import TabularBenchmark

    t = make_synthetic_table(0, cells=5, n_epochs=3)
    with pytest.raises(TableError, match=r"memory: budgets must be positive and strictly"):
        TabularBenchmark(dataclasses.replace(t, budgets=np.array([4, 2, 8])))
    with pytest.raises(TableError, match=r"memory: budgets must be 3 integers"):
        TabularBenchmark(dataclasses.replace(t, budgets=np.array([1, 2])))
    with pytest.raises(TableError, match="lists a cell twice"):
        TabularBenchmark(dataclasses.replace(t, arch_index=np.zeros(5, dtype=np.int64)))
    assert TabularBenchmark(dataclasses.replace(t, budgets=np.array([1, 4, 9]))).budgets == (
        1,
        4,
        9,
    )


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


# -- checksums and range checks ---------------------------------------------------------------


def _overwrite_middle(path: Path, n_bytes: int = 200_000) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size // 2 - n_bytes // 2)
        f.write(np.random.default_rng(0).bytes(n_bytes))


def test_200kb_overwritten_mid_table_is_a_typed_error_naming_the_dataset(
    tmp_path: Path, synthetic_table: TableData
) -> None:
    """The issue's reproduction: a default-sized table (6,466 rows x 3 seeds x 12 epochs) with
    200 KB of noise in the middle must not be served."""
    path = write_table(tmp_path / "t.h5", synthetic_table)
    _overwrite_middle(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak either
        with pytest.raises(TableError, match=r"dataset metrics/\w+ is damaged.*checksum"):
            read_table(path)
        with pytest.raises(TableError, match=r"metrics/\w+"):
            Benchmark.load(path)


def test_a_single_flipped_bit_in_range_is_caught_by_the_checksum(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.h5", make_synthetic_table(0, cells=300, n_epochs=5))
    with h5py.File(path, "r") as f:
        dset = f["metrics/test_acc"]
        assert dset.fletcher32 and dset.chunks is not None
        offset = dset.id.get_chunk_info(0).byte_offset
        value = float(dset[0, 0, 0])
    with open(path, "r+b") as f:  # the lowest mantissa bit of the first value
        f.seek(offset)
        low = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([low ^ 1]))
    raw = np.frombuffer(path.read_bytes()[offset : offset + 4], "<f4")  # still a valid accuracy
    assert 0.0 <= float(raw[0]) <= 1.0 and float(raw[0]) != value
    with pytest.raises(TableError, match="dataset metrics/test_acc is damaged"):
        read_table(path)


def test_every_dataset_is_checksummed_and_strings_stay_readable(tmp_path: Path) -> None:
    table = make_synthetic_table(2, cells=30, n_epochs=3)
    path = write_table(tmp_path / "t.h5", table)
    space = NB201Space()
    with h5py.File(path, "r") as f:
        names: list[str] = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        assert len(names) == 4 + len(table.metrics) + len(table.cost)
        assert all(f[n].fletcher32 for n in names)
        strings = list(f["arch/string"].asstr()[...])
    assert strings == [str(space.from_index(int(i))) for i in table.arch_index]


def test_a_table_without_checksums_still_loads(tmp_path: Path) -> None:
    """Tables written before checksums (contiguous datasets, variable-length strings)."""
    table = make_synthetic_table(2, cells=30, n_epochs=3)
    path = write_table(tmp_path / "old.h5", table, checksums=False)
    with h5py.File(path, "r") as f:
        assert not f["metrics/valid_acc"].fletcher32
        assert f["arch/string"].dtype == object and f["metrics/valid_acc"].chunks is None
    back = read_table(path)
    np.testing.assert_array_equal(back.metrics["valid_acc"], table.metrics["valid_acc"])


def test_damage_to_a_table_without_checksums_is_caught_by_the_range_checks(
    tmp_path: Path, synthetic_table: TableData
) -> None:
    path = write_table(tmp_path / "old.h5", synthetic_table, checksums=False)
    _overwrite_middle(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TableError, match=r"metrics/\w+ holds \d+ value\(s\) out of range"):
            read_table(path)


def _with(
    table: TableData, group: str, name: str, index: tuple[int, ...], value: float
) -> TableData:
    arrays = {k: np.array(v) for k, v in getattr(table, group).items()}
    if name not in arrays:
        arrays[name] = np.zeros_like(next(iter(arrays.values())))
    arrays[name][index] = value
    return dataclasses.replace(table, **{group: arrays})


@pytest.mark.parametrize(
    ("group", "name", "value", "rule"),
    [
        ("metrics", "valid_acc", 1.5, r"accuracies are fractions in \[0, 1\]"),
        ("metrics", "test_acc", -0.01, r"accuracies are fractions in \[0, 1\]"),
        ("metrics", "train_acc", np.inf, r"accuracies are fractions in \[0, 1\]"),
        ("metrics", "train_loss", -1e-3, "losses are finite and >= 0"),
        ("metrics", "valid_loss", np.inf, "losses are finite and >= 0"),
        ("metrics", "grad_norm", -np.inf, "values are finite"),
        ("cost", "train_time_s", -2.0, "costs are finite and >= 0"),
        ("cost", "latency_s", np.inf, "costs are finite and >= 0"),
        ("cost", "energy_j", -1.0, "costs are finite and >= 0"),
    ],
)
def test_values_out_of_range_are_refused_on_read_and_on_write(
    tmp_path: Path, group: str, name: str, value: float, rule: str
) -> None:
    table = make_synthetic_table(0, cells=12, n_epochs=3)
    index = (7, 1, 2) if group == "metrics" else (7,)
    bad = _with(table, group, name, index, value)
    where = ", ".join(map(str, index))
    with pytest.raises(TableError, match=rf"{group}/{name} holds 1 value.*at \[{where}\]; {rule}"):
        write_table(tmp_path / "refused.h5", bad)
    assert not (tmp_path / "refused.h5").exists()
    # the same values in a file written by someone else (plain h5py) are refused on read
    path = write_table(tmp_path / "t.h5", table)
    with h5py.File(path, "a") as f:
        if f"{group}/{name}" not in f:
            f.create_dataset(f"{group}/{name}", data=np.asarray(getattr(bad, group)[name]))
        else:
            f[f"{group}/{name}"][index] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TableError, match=rf"{group}/{name} holds 1 value.*; {rule}"):
            read_table(path)


def test_nan_marks_a_missing_value_and_passes_the_range_checks(tmp_path: Path) -> None:
    table = make_synthetic_table(0, cells=12, n_epochs=3)
    table = _with(table, "metrics", "valid_acc", (3, 0, 1), np.nan)
    table = _with(table, "metrics", "train_loss", (4, 2, 2), np.nan)
    table = _with(table, "cost", "latency_s", (5,), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = read_table(write_table(tmp_path / "t.h5", table))
    assert np.isnan(back.metrics["valid_acc"][3, 0, 1]) and np.isnan(back.cost["latency_s"][5])


def test_a_non_numeric_metric_is_refused(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.h5", make_synthetic_table(0, cells=4, n_epochs=2))
    with h5py.File(path, "a") as f:
        f.create_dataset("metrics/note", data=np.full((4, 3, 2), b"x"))
    with pytest.raises(TableError, match="metrics/note has dtype"):
        read_table(path)
