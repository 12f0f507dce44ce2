"""A table is validated once: as it is read from a file, or, made in memory, when a benchmark
is built from it; a table derived from a read one is validated anew."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import nasbench_sim
from nasbench_sim.bench import Benchmark, TabularBenchmark
from nasbench_sim.errors import TableError
from nasbench_sim.table import TableData, make_synthetic_table, read_table, write_table


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ``source`` of every :meth:`TableData.validate` call from here on."""
    seen: list[str] = []
    validate = TableData.validate

    def counted(self: TableData, source: str = "table") -> None:
        seen.append(source)
        validate(self, source)

    monkeypatch.setattr(TableData, "validate", counted)
    return seen


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return write_table(tmp_path / "t.h5", make_synthetic_table(0, cells=40, n_epochs=4))


def test_a_table_read_from_a_file_is_validated_once(path: Path, calls: list[str]) -> None:
    table = read_table(path)
    assert calls == [str(path)]
    TabularBenchmark(table)
    TabularBenchmark(table, run_seed=3)
    assert calls == [str(path)]
    for opened in (
        TabularBenchmark.from_file(path),
        Benchmark.load(path),
        nasbench_sim.open(str(path)),
    ):
        assert isinstance(opened, TabularBenchmark)
    assert calls == [str(path)] * 4  # one read, one validation, each


def test_a_table_made_in_memory_is_validated_by_the_benchmark(calls: list[str]) -> None:
    table = make_synthetic_table(0, cells=40, n_epochs=4)
    assert calls == []
    TabularBenchmark(table)
    TabularBenchmark(table)
    assert calls == ["memory", "memory"]  # every time: its arrays are the caller's
    bad = dataclasses.replace(table, arch_index=np.zeros(40, dtype=np.int64))
    with pytest.raises(TableError, match="memory: arch/index lists a cell twice"):
        TabularBenchmark(bad)


def test_a_table_derived_from_a_read_one_is_validated_anew(path: Path, calls: list[str]) -> None:
    table = read_table(path)
    metrics = {k: v.copy() for k, v in table.metrics.items()}
    metrics["valid_acc"][0, 0, 0] = 1.5
    with pytest.raises(TableError, match=r"metrics/valid_acc holds 1 value\(s\) out of range"):
        TabularBenchmark(dataclasses.replace(table, metrics=metrics))
    good = dataclasses.replace(table, created="later")
    TabularBenchmark(good)
    assert calls == [str(path), "memory", "memory"]


def test_the_mark_cannot_be_set_by_users(path: Path, calls: list[str]) -> None:
    table = read_table(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        table._checked_on_read = False  # type: ignore[misc]
    parts = (table.space, table.dataset, table.arch_index, table.seeds, table.metrics, table.cost)
    with pytest.raises(TypeError, match="_checked_on_read"):
        TableData(*parts, _checked_on_read=True)  # type: ignore[call-arg]
    assert "_checked_on_read" not in repr(table)
    TabularBenchmark(TableData(*parts))  # the same arrays, made in memory: checked
    assert calls == [str(path), "memory"]


def test_a_read_tables_arrays_cannot_be_edited_past_its_validation(path: Path) -> None:
    table = read_table(path)
    arrays = [table.arch_index, table.seeds, *table.metrics.values(), *table.cost.values()]
    assert arrays and all(not a.flags.writeable for a in arrays)
    with pytest.raises(ValueError, match="read-only"):
        table.metrics["valid_acc"][0, 0, 0] = 50.0  # an accuracy far out of range
    edited = table.metrics["valid_acc"].copy()
    edited[0, 0, 0] = 50.0
    with pytest.raises(TableError, match="valid_acc"):
        TabularBenchmark(dataclasses.replace(table, metrics={**table.metrics, "valid_acc": edited}))


def test_a_read_table_changed_through_its_dicts_or_copied_is_validated_again(
    path: Path, calls: list[str]
) -> None:
    import copy
    import pickle

    table = read_table(path)
    calls.clear()
    TabularBenchmark(table)
    assert calls == []  # as read: not again
    for twin in (pickle.loads(pickle.dumps(table)), copy.deepcopy(table)):
        TabularBenchmark(twin)  # a copy's arrays are new and writable: checked anew
        assert len(calls) == 1
        calls.clear()
        twin.metrics["valid_acc"][0, 0, 0] = 50.0  # type: ignore[index]
        with pytest.raises(TableError, match="valid_acc"):
            TabularBenchmark(twin)
        calls.clear()
    table.metrics["valid_acc"] = np.full_like(table.metrics["valid_acc"], 50.0)  # type: ignore[index]
    with pytest.raises(TableError, match="valid_acc"):
        TabularBenchmark(table)
