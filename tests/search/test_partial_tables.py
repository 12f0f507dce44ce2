"""A table may cover only some cells of its space (a `build --cells N` table, an imported
one): every strategy draws, mutates and steps only among the covered cells, and regret is
measured against the best covered cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.space import RestrictedSpace
from nasbench_sim.strategies import STRATEGIES, run
from nasbench_sim.table import make_synthetic_table
from tests.conftest import synthetic_oneshot_records

ALL = STRATEGIES.available()


@pytest.fixture(scope="module")
def partial_bench() -> TabularBenchmark:
    """200 of the 6,466 classes (about 3% of the cells), 12 epochs."""
    return TabularBenchmark(make_synthetic_table(3, cells=200, n_epochs=12))


def test_a_partial_table_offers_its_covered_cells(partial_bench: TabularBenchmark) -> None:
    cells = partial_bench.candidate_cells
    classes = partial_bench.space.class_ids()
    assert not partial_bench.covers_space
    assert set(np.unique(classes[cells])) == set(classes[partial_bench.table.arch_index])
    assert np.array_equal(partial_bench.distinct_cells, np.sort(partial_bench.table.arch_index))
    space = partial_bench.search_space
    assert isinstance(space, RestrictedSpace) and space.n_candidates == cells.size
    rng = np.random.default_rng(0)
    for _ in range(50):
        cell = space.sample(rng)
        assert space.contains(cell.index)
        assert space.contains(space.mutate(cell, rng).index)
        assert all(space.contains(n.index) for n in space.neighbours(cell))


@pytest.mark.parametrize("name", ALL)
def test_every_strategy_searches_only_the_covered_cells(
    name: str, partial_bench: TabularBenchmark
) -> None:
    kwargs: dict[str, Any] = synthetic_oneshot_records(partial_bench).get(name, {})
    full = partial_bench.full_training_time
    result = run(name, partial_bench, Budget(time_s=15 * full), seed=1, strategy_kwargs=kwargs)
    log = result.log
    assert len(log) > 0
    covered = set(partial_bench.candidate_cells.tolist())
    assert set(log["index"]) <= covered
    assert (log["regret"] >= -1e-12).all()  # against the best covered cell
    best = partial_bench.best_test_acc
    assert best == pytest.approx(float(np.nanmax(partial_bench.test_mean[:, -1, 1])))
