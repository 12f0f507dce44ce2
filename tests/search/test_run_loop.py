"""The run loop: accounting, asynchrony, logs, rescoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.bench import Budget, Result, TabularBenchmark
from nasbench_sim.errors import RegistryError
from nasbench_sim.search import Proposal, Strategy, create, regret_at, rescore, run
from nasbench_sim.space import SearchSpace
from nasbench_sim.table import make_synthetic_table


class _Scripted(Strategy):
    """Proposes a fixed list of (index, epochs) and records what it is told."""

    name = "scripted"

    def __init__(self, space: SearchSpace, n_epochs: int, seed: int = 0, *, script=()) -> None:
        super().__init__(space, n_epochs, seed)
        self.script = list(script)
        self.told: list[tuple[int, int]] = []

    def ask(self) -> Proposal:
        i, e = self.script.pop(0) if self.script else (0, None)
        return Proposal(self.space.from_index(i), epochs=e)

    def tell(self, proposal: Proposal, result: Result) -> None:
        self.told.append((result.index, result.epoch))


def test_continuations_are_charged_incrementally(synthetic_bench: TabularBenchmark) -> None:
    space = synthetic_bench.space
    cell = int(synthetic_bench.table.arch_index[5])
    per_epoch = synthetic_bench.query(cell, 1).train_time
    s = _Scripted(space, synthetic_bench.n_epochs, script=[(cell, 2), (cell, 5), (cell, 3)])
    log = run(s, synthetic_bench, Budget(queries=3), seed=0).log
    assert log["cost"].tolist() == pytest.approx([2 * per_epoch, 3 * per_epoch, 0.0])
    assert log["finish"].iloc[-1] == pytest.approx(5 * per_epoch)
    again = _Scripted(space, synthetic_bench.n_epochs, script=[(cell, 2), (cell, 2)])
    log = run(again, synthetic_bench, Budget(queries=2), seed=0, charge_repeats=True).log
    assert log["cost"].tolist() == pytest.approx([2 * per_epoch, 2 * per_epoch])


def test_async_results_arrive_in_finish_order(synthetic_bench: TabularBenchmark) -> None:
    space = synthetic_bench.space
    costs = synthetic_bench.table.cost["train_time_s"]
    rows = np.argsort(costs)
    slow, fast = (
        int(synthetic_bench.table.arch_index[rows[-1]]),
        int(synthetic_bench.table.arch_index[rows[0]]),
    )
    s = _Scripted(space, synthetic_bench.n_epochs, script=[(slow, None), (fast, None)])
    run(s, synthetic_bench, Budget(queries=2), seed=0, n_workers=2)
    assert [i for i, _ in s.told] == [fast, slow]


def test_a_cell_still_training_elsewhere_is_waited_for(synthetic_bench: TabularBenchmark) -> None:
    """With two workers, a continuation or a re-read of a cell whose training is still
    running on the other worker starts (or is answered) only when that training ends."""
    space, n = synthetic_bench.space, synthetic_bench.n_epochs
    cell = int(synthetic_bench.table.arch_index[7])
    per_epoch = synthetic_bench.query(cell, 1).train_time
    s = _Scripted(space, n, script=[(cell, 4), (cell, 10)])
    log = run(s, synthetic_bench, Budget(queries=2), seed=0, n_workers=2).log
    first, second = log.iloc[0], log.iloc[1]
    assert first["finish"] == pytest.approx(4 * per_epoch)
    assert second["start"] == pytest.approx(first["finish"])  # continues where it ended
    assert second["finish"] == pytest.approx(10 * per_epoch) and second["cost"] == pytest.approx(
        6 * per_epoch
    )
    # with charge_repeats every query is its own training: nothing to wait for
    log = run(
        _Scripted(space, n, script=[(cell, 4), (cell, 10)]), synthetic_bench, Budget(queries=2),
        seed=0, n_workers=2, charge_repeats=True,
    ).log  # fmt: skip
    assert log["start"].tolist() == [0.0, 0.0]
    assert log["finish"].max() == pytest.approx(10 * per_epoch)
    # a wait that would start after a time budget is not run
    budget = Budget(time_s=2 * per_epoch)
    log = run(_Scripted(space, n, script=[(cell, 4), (cell, 10)]), synthetic_bench, budget,
              seed=0, n_workers=2).log  # fmt: skip
    assert log["epoch"].tolist() == [4] and (log["start"] < budget.time_s).all()
    twice = _Scripted(space, n, script=[(cell, n), (cell, n)])
    log = run(twice, synthetic_bench, Budget(queries=2), seed=0, n_workers=2).log
    assert log["cost"].tolist() == pytest.approx([n * per_epoch, 0.0])
    assert log["finish"].tolist() == pytest.approx([n * per_epoch] * 2)  # no early answer


def test_regret_is_test_gap_of_best_validation_incumbent(synthetic_bench: TabularBenchmark) -> None:
    log = run("random", synthetic_bench, Budget(queries=50), seed=4).log
    best_pos = int(np.argmax(log["valid_acc"].to_numpy()))
    inc = int(log["index"].iloc[best_pos])
    assert log["incumbent_index"].iloc[-1] == inc
    expected = synthetic_bench.best_test_acc - synthetic_bench.test_result(inc).test_acc
    assert log["regret"].iloc[-1] == pytest.approx(expected)
    assert regret_at(log, np.array([-1.0]))[0] != regret_at(log, np.array([-1.0]))[0]  # nan
    assert regret_at(log, np.array([1e12]))[0] == pytest.approx(expected)


def test_rescore_against_another_table_changes_only_the_scores(
    synthetic_bench: TabularBenchmark,
) -> None:
    log = run("evolution", synthetic_bench, Budget(queries=40), seed=2).log
    assert rescore(log, synthetic_bench).equals(log)
    other = TabularBenchmark(make_synthetic_table(5, n_epochs=12))
    moved = rescore(log, other)
    assert moved["index"].equals(log["index"])
    assert not moved["regret"].equals(log["regret"])


def test_bad_arguments_are_typed_errors(synthetic_bench: TabularBenchmark) -> None:
    with pytest.raises(RegistryError, match="known strategies"):
        run("nope", synthetic_bench, Budget(queries=3))
    with pytest.raises(ValueError, match="n_workers"):
        run("random", synthetic_bench, Budget(queries=3), n_workers=0)
    with pytest.raises(RegistryError, match="rejected its arguments"):
        create("evolution", synthetic_bench.space, 12, 0, populaton_size=3)
    bad = _Scripted(synthetic_bench.space, synthetic_bench.n_epochs, script=[(0, 99)])
    with pytest.raises(ValueError, match="epochs=99"):
        run(bad, synthetic_bench, Budget(queries=1))


def test_strategy_time_can_be_charged(synthetic_bench: TabularBenchmark) -> None:
    a = run("random", synthetic_bench, Budget(queries=20), seed=0)
    b = run("random", synthetic_bench, Budget(queries=20), seed=0, charge_strategy_time=True)
    assert a.log["index"].equals(b.log["index"])
    assert b.log["finish"].iloc[-1] > a.log["finish"].iloc[-1]
    assert b.meta["strategy_time_s"] > 0


def test_runs_files_round_trip_and_read_with_plain_h5py(synthetic_bench, tmp_path) -> None:
    import h5py
    import pandas as pd

    from nasbench_sim.search.runs_io import RunsFileError, read_runs, write_runs

    log = run("evolution", synthetic_bench, Budget(queries=12), seed=3).log
    frame = log.assign(strategy="evolution", seed=3)
    path = write_runs(frame, tmp_path / "runs.h5")
    back = read_runs(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    with h5py.File(path) as f:  # as the module docstring shows, without nasbench-sim
        g = f["runs"]
        plain = {k: g[k].asstr()[...] if g[k].dtype.kind == "O" else g[k][...] for k in g}
    assert list(plain["arch"]) == list(frame["arch"])
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(RunsFileError, match="not a readable HDF5"):
        read_runs(tmp_path / "bad.h5")


def test_one_clock_prices_the_run_loop_and_the_simulated_benchmark_alike(
    synthetic_bench: TabularBenchmark,
) -> None:
    """The same queries through SimulatedBenchmark and through the sequential run loop give
    the same log, row for row (one clock, one row type)."""
    from nasbench_sim.bench import SimulatedBenchmark
    from nasbench_sim.bench.log import LOG_COLUMNS as BENCH_COLUMNS

    cells = [int(i) for i in synthetic_bench.table.arch_index[:6]]
    script = [(cells[0], 3), (cells[1], None), (cells[0], 7), (cells[0], 2), (cells[2], 5)]
    strategy = _Scripted(synthetic_bench.space, synthetic_bench.n_epochs, script=script)
    loop_log = run(strategy, synthetic_bench, Budget(queries=len(script)), seed=0).log
    sim = SimulatedBenchmark(synthetic_bench.with_run_seed(0), Budget(queries=len(script)))
    for i, e in script:
        sim.query(i, e)
    sim_log = sim.log_frame()
    assert list(sim_log.columns) == list(loop_log.columns) == list(BENCH_COLUMNS)
    pd.testing.assert_frame_equal(sim_log, loop_log)


def test_strategy_diagnostics_reach_the_run_metadata(synthetic_bench: TabularBenchmark) -> None:
    from nasbench_sim.strategies import run as run_any

    budget = Budget(queries=60)
    assert run_any("hyperband", synthetic_bench, budget).meta["diagnostics"]["promotions"] > 0
    assert run_any("bo_xgb", synthetic_bench, budget).meta["diagnostics"]["n_fits"] > 0
    diag = run_any("optuna_tpe_hyperband", synthetic_bench, budget).meta["diagnostics"]
    assert diag["pruned"] > 0 and diag["trials"] >= 1
