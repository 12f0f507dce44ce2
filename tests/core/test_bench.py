from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.bench import (
    Benchmark,
    Budget,
    SimulatedBenchmark,
    TabularBenchmark,
    TrainingLedger,
)
from nasbench_sim.errors import BudgetExhausted, CellNotInTableError, QueryError, TableError
from nasbench_sim.space import Cell, NB201Space
from nasbench_sim.table import make_synthetic_table

SPACE = NB201Space()
EXAMPLE = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


def test_query_reads_the_table(synthetic_bench: TabularBenchmark) -> None:
    t = synthetic_bench.table
    cell = Cell.from_str(EXAMPLE)
    row = int(np.flatnonzero(t.arch_index == SPACE.canonical(cell).index)[0])
    r = synthetic_bench.query(cell, epochs=5, repeat=2)
    assert r.arch == cell and r.index == cell.index and r.epoch == 5 and r.repeat == 2
    assert r.valid_acc == pytest.approx(float(t.metrics["valid_acc"][row, 2, 4]))
    assert r.train_loss == pytest.approx(float(t.metrics["train_loss"][row, 2, 4]))
    assert r.train_time == pytest.approx(5 * float(t.cost["train_time_s"][row]))
    assert r.params == float(t.cost["params"][row])
    assert not hasattr(r, "test_acc")  # searches cannot see test accuracy
    m = synthetic_bench.query(cell, repeat="mean")
    assert m.epoch == 12 and m.repeat == -1
    assert m.valid_acc == pytest.approx(float(t.metrics["valid_acc"][row, :, -1].mean()), rel=1e-6)


def test_query_accepts_index_string_and_cell(synthetic_bench: TabularBenchmark) -> None:
    c = Cell.from_str(EXAMPLE)
    a = synthetic_bench.query(c, repeat=0)
    assert synthetic_bench.query(EXAMPLE, repeat=0).valid_acc == a.valid_acc
    assert synthetic_bench.query(c.index, repeat=0).valid_acc == a.valid_acc


def test_equivalent_cells_share_their_class_row(synthetic_bench: TabularBenchmark) -> None:
    ids = SPACE.class_ids()
    rng = np.random.default_rng(0)
    for i in rng.integers(0, SPACE.size, 200):
        rep = int(SPACE.representatives()[ids[i]])
        assert (
            synthetic_bench.query(int(i), repeat=1).valid_acc
            == synthetic_bench.query(rep, repeat=1).valid_acc
        )


def test_common_random_numbers(synthetic_bench: TabularBenchmark) -> None:
    b0 = synthetic_bench.with_run_seed(7)
    b1 = synthetic_bench.with_run_seed(7)
    idx = np.arange(0, SPACE.size, 13)
    r0 = b0.query_many(idx)
    np.testing.assert_array_equal(r0.repeat, b1.query_many(idx).repeat)
    # repeated queries in a run see the same repeat; the draw is a function of (seed, cell)
    assert b0.query(100).repeat == b0.query(100).repeat == b0.repeat_for(100)
    other = synthetic_bench.with_run_seed(8).query_many(idx).repeat
    assert (other != r0.repeat).mean() > 0.4
    # repeats are spread over all stored seeds
    counts = np.bincount(r0.repeat, minlength=3)
    assert counts.min() > 0.25 * len(idx)
    assert synthetic_bench.run_seed == 0  # with_run_seed returns a view, not a mutation


def test_query_many_matches_query(synthetic_bench: TabularBenchmark) -> None:
    b = synthetic_bench.with_run_seed(3)
    idx = np.random.default_rng(1).integers(0, SPACE.size, 300)
    epochs = np.random.default_rng(2).integers(1, 13, 300)
    batch = b.query_many(idx, epochs)
    assert len(batch) == 300
    for k in range(0, 300, 37):
        r = b.query(int(idx[k]), int(epochs[k]))
        assert batch.valid_acc[k] == r.valid_acc and batch.train_time[k] == pytest.approx(
            r.train_time
        )
        assert batch.repeat[k] == r.repeat
    mean = b.query_many(idx[:5], repeat="mean")
    assert mean.valid_acc[0] == pytest.approx(b.query(int(idx[0]), repeat="mean").valid_acc)
    assert b.query_many([EXAMPLE, Cell.from_index(3)]).index.tolist() == [
        Cell.from_str(EXAMPLE).index,
        3,
    ]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"epochs": 0}, "outside 1..12"),
        ({"epochs": 13}, "outside 1..12"),
        ({"epochs": 2.5}, "epochs must be an int"),
        ({"repeat": 3}, "allowed 0..2"),
        ({"repeat": -1}, "allowed 0..2"),
        ({"repeat": "median"}, "repeat must be None, 'mean'"),
        ({"training_seed": 99}, "trained with seeds 0, 1, 2"),
        ({"repeat": 1, "training_seed": 0}, "not both"),
    ],
)
def test_bad_queries(synthetic_bench: TabularBenchmark, kwargs: dict, fragment: str) -> None:
    with pytest.raises(QueryError, match=fragment):
        synthetic_bench.query(5, **kwargs)


def test_repeat_is_a_position_and_training_seed_a_label() -> None:
    """``repeat=k`` reads the k-th stored repeat; ``training_seed=S`` the one trained with S;
    the old ``seed=k`` still means ``repeat=k``, with a deprecation warning."""
    table = dataclasses.replace(make_synthetic_table(0, cells=30, n_epochs=3))
    table = dataclasses.replace(table, seeds=np.array([777, 5, 42]))
    bench = TabularBenchmark(table)
    cell = int(table.arch_index[4])
    assert bench.training_seeds == (777, 5, 42)
    by_label = bench.query(cell, training_seed=42)
    assert by_label.repeat == 2
    assert by_label.valid_acc == pytest.approx(float(table.metrics["valid_acc"][4, 2, -1]))
    assert bench.query(cell, repeat=2).valid_acc == by_label.valid_acc
    assert bench.test_result(cell, training_seed=5).repeat == 1
    with pytest.warns(DeprecationWarning, match="repeat=k"):
        old = bench.query(cell, seed=2)
    assert old.valid_acc == by_label.valid_acc
    with pytest.warns(DeprecationWarning):
        assert bench.query_many([cell], seed="mean").repeat[0] == -1


def test_bad_query_many(synthetic_bench: TabularBenchmark) -> None:
    with pytest.raises(QueryError, match=r"1\.\.12"):
        synthetic_bench.query_many([1, 2], epochs=np.array([1, 40]))
    with pytest.raises(QueryError):
        synthetic_bench.query_many([1, 2], repeat=9)


def test_cell_not_in_partial_table() -> None:
    table = make_synthetic_table(0, cells=10, n_epochs=3)
    bench = TabularBenchmark(table)
    missing = next(
        i
        for i in range(SPACE.size)
        if SPACE.class_ids()[i] not in SPACE.class_ids()[table.arch_index]
    )
    with pytest.raises(CellNotInTableError, match="no row"):
        bench.query(missing)
    with pytest.raises(CellNotInTableError):
        bench.query_many([int(table.arch_index[0]), missing])
    assert bench.info()["cells_covered"] < SPACE.size


def test_test_path_is_separate(synthetic_bench: TabularBenchmark) -> None:
    t = synthetic_bench.table
    row = 17
    cell = int(t.arch_index[row])
    res = synthetic_bench.test_result(cell)
    assert res.test_acc == pytest.approx(float(t.metrics["test_acc"][row, :, -1].mean()), rel=1e-6)
    one = synthetic_bench.test_result(cell, epochs=3, repeat=1)
    assert one.test_acc == pytest.approx(float(t.metrics["test_acc"][row, 1, 2]))
    many = synthetic_bench.test_acc_many(t.arch_index[:50])
    assert many.shape == (50,) and math.isclose(float(many[row]), res.test_acc, rel_tol=1e-6)
    assert synthetic_bench.best_test_acc == pytest.approx(
        float(t.metrics["test_acc"][:, :, -1].mean(1).max()), rel=1e-6
    )


def test_load_from_disk_and_default(
    tiny_table_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bench = Benchmark.load(tiny_table_path, run_seed=4)
    assert bench.n_epochs == 5 and bench.run_seed == 4 and bench.table.n_cells == 40
    monkeypatch.setenv("NASBENCH_SIM_TABLE", str(tiny_table_path))
    assert Benchmark.load().table.n_cells == 40
    monkeypatch.setenv("NASBENCH_SIM_TABLE", str(tmp_path / "absent.h5"))
    with pytest.raises(TableError, match="not there") as err:
        Benchmark.load()
    assert "in progress" not in str(err.value)
    (tmp_path / "absent.h5.parts").mkdir()  # a build of the default table is under way
    with pytest.raises(TableError, match=r"build is in progress .* \(0 chunks committed\)"):
        Benchmark.load()


# -- simulated time -------------------------------------------------------------------------
def test_a_budget_says_itself_in_words() -> None:
    assert Budget(time_s=3600).describe() == "3,600 simulated s (1.00 h)"
    assert Budget(time_s=10).describe() == "10 simulated s"  # not "(0.00 h)"
    assert Budget(time_s=690, queries=5).describe() == "690 simulated s (0.19 h) and 5 queries"


def test_budget_validation() -> None:
    with pytest.raises(ValueError, match="needs"):
        Budget()
    with pytest.raises(ValueError):
        Budget(time_s=-1)
    with pytest.raises(ValueError):
        Budget(queries=0)


def test_incremental_charging(synthetic_bench: TabularBenchmark) -> None:
    sim = SimulatedBenchmark(synthetic_bench)
    per_epoch = synthetic_bench.epoch_time(0)
    sim.query(0, epochs=3)
    assert sim.elapsed == pytest.approx(3 * per_epoch)
    sim.query(0, epochs=7)  # continuation: only 4 more epochs
    assert sim.elapsed == pytest.approx(7 * per_epoch)
    sim.query(0, epochs=5)  # already trained past 5: free
    sim.query(0, epochs=7)
    assert sim.elapsed == pytest.approx(7 * per_epoch)
    assert sim.trained_epochs(0) == 7 and sim.n_queries == 4
    assert [r.cost for r in sim.log] == pytest.approx([3 * per_epoch, 4 * per_epoch, 0, 0])
    assert sim.log[1].start == pytest.approx(3 * per_epoch)


def test_charge_repeats(synthetic_bench: TabularBenchmark) -> None:
    sim = SimulatedBenchmark(synthetic_bench, charge_repeats=True)
    per_epoch = synthetic_bench.epoch_time(5)
    sim.query(5, epochs=4)
    sim.query(5, epochs=4)
    assert sim.elapsed == pytest.approx(8 * per_epoch)


def test_equivalent_twin_is_charged_again(synthetic_bench: TabularBenchmark) -> None:
    ledger = TrainingLedger()
    ids = SPACE.class_ids()
    twin_a, twin_b = np.flatnonzero(ids == ids[0])[:2]
    ra = synthetic_bench.query(int(twin_a))
    rb = synthetic_bench.query(int(twin_b))
    assert ledger.charge(ra) > 0 and ledger.charge(rb) > 0


def test_time_budget(synthetic_bench: TabularBenchmark) -> None:
    per_epoch = synthetic_bench.epoch_time(1)
    sim = SimulatedBenchmark(synthetic_bench, Budget(time_s=2.5 * 12 * per_epoch))
    sim.query(1)
    sim.query(2)
    assert not sim.exhausted  # about 2 of 2.5 full trainings spent
    sim.query(3)  # crosses the line: completes, then the budget is spent
    assert sim.exhausted and sim.elapsed >= 2.5 * 12 * per_epoch
    assert sim.remaining_time == 0.0
    with pytest.raises(BudgetExhausted, match="budget spent"):
        sim.query(99)


def test_query_budget(synthetic_bench: TabularBenchmark) -> None:
    sim = SimulatedBenchmark(synthetic_bench, Budget(queries=3))
    for i in range(3):
        sim.query(i)
    assert sim.exhausted and sim.remaining_time == math.inf
    with pytest.raises(BudgetExhausted):
        sim.query(4)


def test_info(synthetic_bench: TabularBenchmark) -> None:
    info = synthetic_bench.info()
    assert info["rows"] == 6466 and info["cells_covered"] == 15625 and info["epochs"] == 12
    assert info["synthetic"] is True
    assert 0 < info["median_test_acc"] < info["best_test_acc"] <= 1


def test_discrimination_measures_seed_agreement_and_valid_test_correlation() -> None:
    import dataclasses

    from scipy import stats

    table = make_synthetic_table(0, n_seeds=2, n_epochs=4)
    d = TabularBenchmark(table).discrimination()
    v = table.metrics["valid_acc"][:, :, -1]
    assert d["seed_kendall_tau"] == pytest.approx(stats.kendalltau(v[:, 0], v[:, 1]).statistic)
    assert 0.5 < d["seed_kendall_tau"] < 1 and d["valid_test_pearson"] > 0.9
    assert d["seed_std_valid"] == pytest.approx(np.median(np.std(v, axis=1, ddof=1)), rel=1e-5)
    # a second seed that ranks the cells the other way round: no agreement left
    metrics = {k: np.array(a, copy=True) for k, a in table.metrics.items()}
    metrics["valid_acc"][:, 1, -1] = 1.0 - metrics["valid_acc"][:, 0, -1]
    flipped = TabularBenchmark(dataclasses.replace(table, metrics=metrics)).discrimination()
    assert flipped["seed_kendall_tau"] == pytest.approx(-1.0)
    one = TabularBenchmark(make_synthetic_table(0, n_seeds=1, n_epochs=4)).discrimination()
    assert one["seed_kendall_tau"] is None and one["seed_std_valid"] is None


def test_results_carry_the_read_only_validation_curve(synthetic_bench) -> None:
    cell = int(synthetic_bench.table.arch_index[3])
    r = synthetic_bench.query(cell, epochs=5)
    assert r.valid_curve is not None and r.valid_curve.shape == (5,)
    assert r.valid_curve[-1] == pytest.approx(r.valid_acc)
    full = synthetic_bench.query(cell)
    assert full.valid_curve[:5] == pytest.approx(r.valid_curve)
    assert not r.valid_curve.flags.writeable
    m = synthetic_bench.query(cell, epochs=4, repeat="mean")
    assert m.valid_curve.shape == (4,) and m.valid_curve[-1] == pytest.approx(m.valid_acc)


def test_seed_mean_reliability_is_spearman_brown_and_undefined_without_agreement() -> None:
    from nasbench_sim.bench.discrimination import discrimination

    rng = np.random.default_rng(0)
    cell = rng.normal(size=(400, 1))
    valid = cell + 0.5 * rng.normal(size=(400, 3))
    d = discrimination(valid, valid.mean(1), valid.mean(1))
    r = np.mean([np.corrcoef(valid[:, i], valid[:, j])[0, 1] for i, j in ((0, 1), (0, 2), (1, 2))])
    assert d["seed_pearson"] == pytest.approx(r)
    assert d["seed_mean_reliability"] == pytest.approx(3 * r / (1 + 2 * r))
    against = np.column_stack([cell[:, 0], -cell[:, 0]])  # two seeds that disagree
    d = discrimination(against, against.mean(1), against.mean(1))
    assert d["seed_pearson"] == pytest.approx(-1.0) and d["seed_mean_reliability"] is None
