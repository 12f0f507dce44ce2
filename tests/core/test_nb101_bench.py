"""A NAS-Bench-101 table through the Benchmark interface: queries by graph, budgets, the clock's
separate-run semantics, the table format, and a surrogate of it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.bench import Budget, SimulatedBenchmark, TabularBenchmark
from nasbench_sim.bench.clock import Clock
from nasbench_sim.errors import CellNotInTableError, CellParseError, QueryError, TableError
from nasbench_sim.importers.synthetic_nb101 import random_cells
from nasbench_sim.space import NB101Cell
from nasbench_sim.space.nb101_space import pad
from nasbench_sim.table import read_table, write_table


def _cell(bench: TabularBenchmark, row: int) -> NB101Cell:
    cell: NB101Cell = bench.space.from_index(row)
    return cell


def test_a_graph_answers_by_cell_string_hash_index_and_any_spelling(
    nb101_bench: TabularBenchmark,
) -> None:
    cell = _cell(nb101_bench, 17)
    m, ops = pad(cell)  # the same graph with unconnected vertices: pruned back
    spellings = [cell, str(cell), cell.hash, 17, NB101Cell.from_spec(m, ops)]
    results = [nb101_bench.query(a, 36, repeat=1) for a in spellings]
    assert {r.index for r in results} == {17}
    assert len({r.valid_acc for r in results}) == 1
    batch = nb101_bench.query_many(np.array([17, 3]), epochs=np.array([36, 4]), repeat=1)
    assert batch.valid_acc[0] == results[0].valid_acc
    assert batch.valid_acc[1] == nb101_bench.query(3, 4, repeat=1).valid_acc


def test_absent_and_invalid_graphs_say_what_they_are(nb101_bench: TabularBenchmark) -> None:
    held = {c.hash for c in (_cell(nb101_bench, i) for i in range(nb101_bench.space.size))}
    absent = next(c for c in random_cells(50, seed=123) if c.hash not in held)
    with pytest.raises(CellNotInTableError, match=r"valid NAS-Bench-101 graph .* not one of"):
        nb101_bench.query(absent)
    with pytest.raises(CellNotInTableError, match=r"no graph of this table .* has the hash"):
        nb101_bench.query("0" * 32)
    with pytest.raises(CellParseError, match="does not reach the output"):
        nb101_bench.query("0000|input,output")


def test_budgets_are_the_only_epochs_and_runs_carry_their_own_time(
    nb101_bench: TabularBenchmark,
) -> None:
    assert nb101_bench.budgets == (4, 12, 36, 108) and nb101_bench.n_epochs == 108
    assert not nb101_bench.nested_budgets and "curves" not in nb101_bench.features
    with pytest.raises(QueryError, match="not a budget of this table: 4, 12, 36, 108"):
        nb101_bench.query(0, epochs=5)
    run_times = nb101_bench.table.metrics["train_time_s"]
    for e, pos in ((4, 0), (108, 3)):
        for k in range(3):
            r = nb101_bench.query(9, e, repeat=k)
            assert r.train_time == pytest.approx(float(run_times[9, k, pos]))
            assert r.valid_curve is None  # separate runs: no curve
    mean = nb101_bench.query(9, 12, repeat="mean").train_time
    assert mean == pytest.approx(float(np.mean(run_times[9, :, 1])))
    assert nb101_bench.query(9).epoch == 108


def test_a_higher_budget_costs_its_whole_run(nb101_bench: TabularBenchmark) -> None:
    sim = SimulatedBenchmark(nb101_bench, Budget(queries=10))
    r4 = sim.query(5, 4)
    r12 = sim.query(5, 12)
    sim.query(5, 12)  # the same run again: free
    sim.query(5, 4)  # the 4-epoch run again: free
    costs = [rec.cost for rec in sim.log]
    assert costs == [pytest.approx(r4.train_time), pytest.approx(r12.train_time), 0.0, 0.0]
    assert sim.elapsed == pytest.approx(r4.train_time + r12.train_time)  # no discount
    assert sim.trained_epochs(5) == 12
    full = SimulatedBenchmark(nb101_bench, Budget(queries=10), charge_repeats=True)
    full.query(5, 4)
    full.query(5, 4)
    assert full.elapsed == pytest.approx(2 * r4.train_time)


def test_with_workers_only_the_same_run_waits(nb101_bench: TabularBenchmark) -> None:
    clock = Clock(Budget(queries=10), nested_budgets=False)
    b = nb101_bench
    first = clock.book(b.query(2, 36), worker=0, earliest=0.0)
    other = clock.book(b.query(2, 108), worker=1, earliest=0.0)  # another run: starts now
    again = clock.book(b.query(2, 36), worker=2, earliest=0.0)  # the same run: waits for it
    assert first is not None and other is not None and again is not None
    assert other.start == 0.0 and other.cost == pytest.approx(b.query(2, 108).train_time)
    assert again.start == pytest.approx(first.finish) and again.cost == 0.0


def test_the_table_round_trips_and_validates(nb101_path: Path, tmp_path: Path) -> None:
    table = read_table(nb101_path)
    again = read_table(write_table(tmp_path / "again.h5", table))
    assert again.budgets.tolist() == table.budgets.tolist()
    for name in ("hash", "matrix", "ops"):
        np.testing.assert_array_equal(again.arch[name], table.arch[name])
    np.testing.assert_array_equal(again.metrics["valid_acc"], table.metrics["valid_acc"])
    bad = dataclasses.replace(table, budgets=np.array([4, 36, 12, 108]))
    with pytest.raises(TableError, match="strictly increasing"):
        write_table(tmp_path / "bad.h5", bad)
    missing = dataclasses.replace(table, arch={"hash": table.arch["hash"]})
    with pytest.raises(TableError, match="missing: arch/matrix, arch/ops"):
        write_table(tmp_path / "bad.h5", missing)
    twice = dict(table.arch, hash=np.repeat(table.arch["hash"][:1], table.n_cells))
    with pytest.raises(TableError, match="share a graph hash"):
        write_table(tmp_path / "bad.h5", dataclasses.replace(table, arch=twice))


def test_a_surrogate_of_an_nb101_table(nb101_bench: TabularBenchmark, tmp_path: Path) -> None:
    from nasbench_sim import open as open_bench
    from predictors.surrogate import fit_surrogate

    sur = fit_surrogate(nb101_bench, fraction=0.3, predictor="ridge", seed=0)
    assert sur.budgets == (4, 12, 36, 108) and not sur.nested_budgets
    assert sur.space.size == nb101_bench.space.size
    cell = _cell(nb101_bench, 11)
    r = sur.query(cell.hash, 12, repeat="mean")
    assert r.index == 11 and r.valid_curve is None and 0.0 <= r.valid_acc <= 1.0
    assert sur.query(cell, 108).train_time > sur.query(cell, 4).train_time > 0
    with pytest.raises(QueryError, match="4, 12, 36, 108"):
        sur.query(cell, 5)
    loaded = open_bench(sur.save(tmp_path / "s.npz"))
    assert loaded.query(cell, 36).valid_acc == sur.query(cell, 36).valid_acc
    assert loaded.budgets == sur.budgets and loaded.space.to_index(cell) == 11


def test_a_table_naming_a_huge_budget_is_refused_on_open(nb101_path: Path, tmp_path: Path) -> None:
    import shutil

    import h5py

    path = shutil.copy(nb101_path, tmp_path / "huge.h5")
    with h5py.File(path, "r+") as f:
        f["budgets"][-1] = 10**12  # a crafted table: opening it would allocate ~8 TB
    with pytest.raises(TableError, match=r"budgets \[4, 12, 36, 1000000000000\] exceed 100,000"):
        TabularBenchmark.from_file(path)


def test_a_surrogate_names_its_budgets_and_refuses_huge_ones(
    nb101_bench: TabularBenchmark, tmp_path: Path
) -> None:
    import json

    from nasbench_sim.bench import SurrogateBenchmark, SurrogateFileError
    from predictors.surrogate import fit_surrogate

    sur = fit_surrogate(nb101_bench, fraction=0.3, predictor="ridge", seed=0)
    with pytest.raises(QueryError, match=r"among 4, 12, 36, 108 .*got 12.0"):
        sur.query(_cell(nb101_bench, 3), 12.0)  # type: ignore[arg-type]
    path = sur.save(tmp_path / "s.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    for n, budgets in ((10**12, [4, 12, 36, 10**12]), (108, [4, 36, 12, 108]), (0, [])):
        meta = json.loads(str(arrays["meta"]))
        meta.update(n_epochs=n, budgets=budgets)
        np.savez(tmp_path / "bad.npz", **{**arrays, "meta": np.array(json.dumps(meta))})
        with pytest.raises(SurrogateFileError, match=rf"n_epochs {n}, budgets .*allowed"):
            SurrogateBenchmark.load(tmp_path / "bad.npz")
    arch = {k: v for k, v in arrays.items() if k.startswith("arch_")}
    assert arch  # the graphs travel with the surrogate
    name = sorted(arch)[0]
    broken = {**arrays, name: arch[name][: len(arch[name]) // 2]}  # half the graphs lost
    np.savez(tmp_path / "bad.npz", **broken)
    with pytest.raises(SurrogateFileError, match=r"bad\.npz"):
        SurrogateBenchmark.load(tmp_path / "bad.npz")
