"""A benchmark view whose searches read the seeds' mean (or one fixed repeat) instead of one
drawn training run per cell: ``Benchmark.with_default_repeat`` and ``--search-repeat``."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.plot_style import RunContext
from nasbench_sim import Budget
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.errors import QueryError
from nasbench_sim.strategies import run

CELLS = np.arange(0, 15625, 97)


def test_the_mean_view_reads_the_seed_mean_and_keeps_it_per_run_seed(
    synthetic_bench: TabularBenchmark,
) -> None:
    mean = synthetic_bench.with_default_repeat("mean")
    want = synthetic_bench.query_many(CELLS, epochs=7, repeat="mean")
    for view in (mean, mean.with_run_seed(5)):
        got = view.query_many(CELLS, epochs=7)
        np.testing.assert_array_equal(got.valid_acc, want.valid_acc)
        np.testing.assert_array_equal(got.train_time, want.train_time)
        assert (got.repeat == -1).all()
        r = view.query(int(CELLS[3]))
        assert (r.repeat, r.valid_acc) == (-1, view.query(int(CELLS[3]), repeat="mean").valid_acc)
        assert view.repeat_for(int(CELLS[3])) == -1
    # the draw is untouched: the original reads one stored repeat per cell, several of them
    drawn = synthetic_bench.query_many(CELLS, epochs=7)
    assert set(np.unique(drawn.repeat)) == {0, 1, 2}
    assert not np.array_equal(drawn.valid_acc, want.valid_acc)
    assert synthetic_bench.default_repeat is None and not synthetic_bench.source.reads
    # explicit repeats and training seeds still answer what they ask for
    one = mean.query_many(CELLS, epochs=7, repeat=1)
    np.testing.assert_array_equal(
        one.valid_acc, synthetic_bench.query_many(CELLS, epochs=7, repeat=1).valid_acc
    )
    assert (one.repeat == 1).all()
    assert mean.query(int(CELLS[0]), training_seed=2).repeat == 2


def test_a_fixed_repeat_view_and_bad_values(synthetic_bench: TabularBenchmark) -> None:
    second = synthetic_bench.with_default_repeat(1)
    assert (second.query_many(CELLS).repeat == 1).all()
    assert second.repeat_for(int(CELLS[0])) == 1
    assert second.source.reads == "repeat 1 (training seed 1)"
    back = second.with_default_repeat(None)  # the draw again
    np.testing.assert_array_equal(
        back.query_many(CELLS).repeat, synthetic_bench.query_many(CELLS).repeat
    )
    assert back.source == synthetic_bench.source
    for bad in (3, -1, "median", 1.5):
        with pytest.raises(QueryError, match="repeat"):
            synthetic_bench.with_default_repeat(bad)  # type: ignore[arg-type]


def test_every_report_names_what_the_queries_read(synthetic_bench: TabularBenchmark) -> None:
    mean = synthetic_bench.with_default_repeat("mean")
    assert mean.source.describe().endswith("; queries read the mean of 3 repeats)")
    assert mean.source.reads == "the mean of 3 repeats"
    budget = Budget(queries=10)
    heading = RunContext.of(mean.source, mean.dataset, budget, n_seeds=2).heading
    assert "queries read the mean of 3 repeats" in heading
    named = RunContext("synthetic:3", 2, synthetic=True, reads="the mean of 3 repeats")
    assert named.heading == "SYNTHETIC table (table seed 3; queries read the mean of 3 repeats)"
    plain = RunContext.of(synthetic_bench.source, synthetic_bench.dataset, budget, n_seeds=2)
    assert "queries read" not in plain.heading


def test_a_search_on_the_mean_view_sees_the_mean(synthetic_bench: TabularBenchmark) -> None:
    """Every query a search makes reads the seed mean; the same search on the draw does not."""
    mean = synthetic_bench.with_default_repeat("mean")
    budget = Budget(time_s=30 * synthetic_bench.full_training_time)
    log = run("evolution", mean, budget, seed=3).log
    assert len(log) > 20 and (log["repeat"] == -1).all()
    idx, ep = log["index"].to_numpy(), log["epoch"].to_numpy()
    want = synthetic_bench.query_many(idx, epochs=ep, repeat="mean").valid_acc
    np.testing.assert_array_equal(log["valid_acc"].to_numpy(), want)
    drawn = run("evolution", synthetic_bench, budget, seed=3).log
    assert set(drawn["repeat"]) <= {0, 1, 2} and len(set(drawn["repeat"])) > 1


def test_a_repeat_some_cells_lack_is_refused_and_the_mean_says_so(
    nan_bench: TabularBenchmark,
) -> None:
    """Rows missing their last repeat: reading that repeat would serve searches no result
    where the draw serves one, so it is refused; the mean is over each cell's runs."""
    last, cells = nan_bench.n_seeds - 1, nan_bench.candidate_cells
    without = np.isnan(nan_bench.query_many(cells, repeat=last).valid_acc)
    first_ok = ~np.isnan(nan_bench.query_many(cells, repeat=0).valid_acc)
    lacking = int((without & first_ok).sum())  # the fixture's rows lacking only the last
    assert lacking > 100
    with pytest.raises(QueryError, match=f"repeat {last} is missing for {lacking:,} of"):
        nan_bench.with_default_repeat(last)
    first = nan_bench.with_default_repeat(0)  # failed rows lack every repeat: not refused
    assert first.source.reads == "repeat 0 (training seed 0)"
    mean = nan_bench.with_default_repeat("mean")
    assert mean.source.reads == "the mean of each cell's available repeats (up to 3)"
    with pytest.raises(
        QueryError,
        match=r"3 is not a repeat to read: .* holds 3 repeat\(s\) of each cell, 0\.\.2",
    ):
        nan_bench.with_default_repeat(3)
