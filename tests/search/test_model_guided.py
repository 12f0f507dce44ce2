"""Predictor-guided strategies: BANANAS, BO with XGBoost / GCN ensembles, PNAS."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.strategies import create, run


def test_model_guided_search_never_repeats_and_fits_once_per_batch(
    synthetic_bench: TabularBenchmark,
) -> None:
    s = create(
        "bo_xgb", synthetic_bench.space, synthetic_bench.n_epochs, seed=0, n_init=8, batch_size=5
    )
    log = run(s, synthetic_bench, Budget(queries=38), seed=0).log
    assert log["index"].is_unique
    assert s.n_fits == (38 - 8) // 5
    # model proposals come from the neighbourhood of good cells: on average they beat the
    # random initial design
    assert log["valid_acc"].iloc[8:].mean() > log["valid_acc"].iloc[:8].mean()


@pytest.mark.parametrize("acquisition", ["its", "ucb", "mean"])
def test_acquisitions_run(acquisition: str, synthetic_bench: TabularBenchmark) -> None:
    log = run(
        "bananas",
        synthetic_bench,
        Budget(queries=25),
        seed=1,
        strategy_kwargs={"acquisition": acquisition, "n_init": 10},
    ).log
    assert len(log) == 25 and log["index"].is_unique


def test_pnas_grows_one_active_edge_per_level(synthetic_bench: TabularBenchmark) -> None:
    space = synthetic_bench.space
    s = create("pnas", space, synthetic_bench.n_epochs, seed=0, beam=4)
    log = run(s, synthetic_bench, Budget(queries=24 + 4 * 5), seed=0).log
    ops = space.ops_matrix(log["index"].to_numpy())
    active = (ops != 0).sum(axis=1)
    assert (active[:24] == 1).all() and len(set(log["index"].iloc[:24])) == 24
    for level in range(2, 7):
        rows = slice(24 + 4 * (level - 2), 24 + 4 * (level - 1))
        assert (active[rows] == level).all()
        # every cell of a level extends a cell of the level below by one edge
        below = ops[active == level - 1]
        for cell in ops[rows]:
            diff = (below != cell[None, :]).sum(axis=1)
            assert diff.min() == 1
    assert s.level == 6


def test_bad_arguments(synthetic_bench: TabularBenchmark) -> None:
    space = synthetic_bench.space
    with pytest.raises(ValueError, match="acquisition"):
        create("bananas", space, 12, 0, acquisition="ei")
    with pytest.raises(ValueError, match="n_candidates"):
        create("bo_xgb", space, 12, 0, n_candidates=3, batch_size=5)
    with pytest.raises(ValueError, match="beam"):
        create("pnas", space, 12, 0, beam=0)


def test_gcn_guided_search_runs(synthetic_bench: TabularBenchmark) -> None:
    pytest.importorskip("torch")
    s = create(
        "bo_gcn",
        synthetic_bench.space,
        synthetic_bench.n_epochs,
        seed=0,
        n_init=10,
        predictor_kwargs={"epochs": 5},
    )
    log = run(s, synthetic_bench, Budget(queries=20), seed=0).log
    assert log["index"].is_unique and s.n_fits == 1
    assert np.isfinite(log["regret"]).all()
