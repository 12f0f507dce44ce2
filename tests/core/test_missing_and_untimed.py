"""Schema additions for imported tables: missing runs, tables without times, extra costs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.bench import Budget, SimulatedBenchmark, TabularBenchmark
from nasbench_sim.bench.crn import crn_repeats
from nasbench_sim.search.experiment import parse_budget
from nasbench_sim.table import TableData, make_synthetic_table, read_table, write_table


def _with_missing(table: TableData, rows: np.ndarray, seed: int) -> TableData:
    metrics = {k: v.copy() for k, v in table.metrics.items()}
    for v in metrics.values():
        v[rows, seed] = np.nan
    return dataclasses.replace(table, metrics=metrics)


def test_complete_rows_draw_as_before() -> None:
    for run_seed in range(5):
        plain = crn_repeats(run_seed, 500, 3)
        assert np.array_equal(crn_repeats(run_seed, 500, 3, np.ones((500, 3), bool)), plain)


def test_rows_draw_only_among_their_runs() -> None:
    present = np.ones((300, 3), dtype=bool)
    present[:100, 2] = False  # rows 0..99 lack the third run
    present[100:150, 0] = False  # rows 100..149 lack the first
    draws = np.stack([crn_repeats(s, 300, 3, present) for s in range(60)])
    assert present[np.arange(300)[None, :].repeat(60, 0), draws].all()
    assert np.array_equal(
        draws[:, 150:], np.stack([crn_repeats(s, 300, 3) for s in range(60)])[:, 150:]
    )
    share = np.bincount(draws[:, :100].ravel(), minlength=3) / draws[:, :100].size
    assert share[2] == 0 and abs(share[0] - 0.5) < 0.05  # both remaining runs used evenly


def test_missing_runs_are_reported_and_never_answered(tmp_path: Path) -> None:
    base = make_synthetic_table(0, cells=60, n_epochs=4)
    table = read_table(write_table(tmp_path / "t.h5", _with_missing(base, np.arange(7), 1)))
    bench = TabularBenchmark(table)
    assert bench.info()["missing_runs"] == {"1": 7}
    assert TabularBenchmark(base).info()["missing_runs"] == {}
    for run_seed in range(10):
        b = bench.with_run_seed(run_seed)
        assert all(b.repeat_for(int(i)) != 1 for i in table.arch_index[:7])
        assert np.isfinite(b.query_many(table.arch_index).valid_acc).all()
    mean = bench.query(int(table.arch_index[0]), repeat="mean").valid_acc
    expect = np.nanmean(table.metrics["valid_acc"][0, :, -1])
    assert mean == pytest.approx(expect, rel=1e-6)


def test_a_table_without_times(tmp_path: Path) -> None:
    base = make_synthetic_table(0, cells=40, n_epochs=3)
    cost = {**base.cost, "train_time_s": np.full(40, np.nan), "energy_mj": np.arange(40.0)}
    table = read_table(write_table(tmp_path / "t.h5", dataclasses.replace(base, cost=cost)))
    assert not table.has_times and base.has_times
    np.testing.assert_array_equal(table.cost["energy_mj"], np.arange(40.0))  # extra costs kept
    bench = TabularBenchmark(table)
    assert bench.time_unit == "epoch" and TabularBenchmark(base).time_unit == "s"
    cell = int(table.arch_index[0])
    assert bench.query(cell, epochs=2).train_time == 2.0  # one unit per epoch
    sim = SimulatedBenchmark(bench, Budget(queries=3))
    sim.query(cell, 1)
    sim.query(cell, 3)
    assert sim.elapsed == 3.0  # the continuation costs the two new epochs
    assert parse_budget("25x", bench).queries == 25
    with pytest.raises(ValueError, match="budget it in queries"):
        parse_budget("3600s", bench)


def test_cells_without_a_time_in_a_timed_table_pay_the_median(tmp_path: Path) -> None:
    base = make_synthetic_table(0, cells=40, n_epochs=3)
    t = base.cost["train_time_s"].copy()
    t[:4] = np.nan
    bench = TabularBenchmark(dataclasses.replace(base, cost={**base.cost, "train_time_s": t}))
    assert bench.time_unit == "s" and bench.n_cells_without_time == 4
    assert bench.query(int(base.arch_index[0]), 1).train_time == pytest.approx(np.nanmedian(t))
    assert "4 cells without" in bench.info()["times"]
