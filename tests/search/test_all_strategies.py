"""One suite over every registered strategy: valid proposals, budgets, reproducibility, and
every non-random strategy beats random search on a synthetic table with a planted optimum.

The weight-sharing replays (spos, darts, gdas) run on made-up stored super-networks
(``ws_kwargs`` in ``tests/conftest.py``); what they test here is the replay, not a method."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search import CORE_STRATEGIES, LOG_COLUMNS
from nasbench_sim.strategies import STRATEGIES, create, run

ALL = STRATEGIES.available()
BASELINES = {"random", "optuna_random"}
SLOW = {"bananas", "bo_xgb", "bo_gcn", "pnas", "random_es", "evolution_es", "hyperband_es"}
"""Model-based strategies (a model fit every few queries): fewer seeds in the regret test,
paired with random search on the same seeds."""


def _full_time(bench: TabularBenchmark) -> float:
    return float(np.median(bench.table.cost["train_time_s"])) * bench.n_epochs


def test_core_strategies_are_available() -> None:
    core = set(CORE_STRATEGIES)
    assert core <= set(ALL), f"core strategies that are not available: {core - set(ALL)}"
    for name in ALL:  # every available one loads, and is the class its entry names
        assert STRATEGIES.load(name).name == name


@pytest.mark.parametrize("name", ALL)
def test_proposals_are_valid_cells_and_epochs(
    name: str, synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    space = synthetic_bench.space
    strategy = create(name, space, synthetic_bench.n_epochs, seed=3, **ws_kwargs.get(name, {}))
    assert strategy.name == name
    result = run(strategy, synthetic_bench, Budget(queries=40), seed=3)
    log = result.log
    assert list(log.columns) == list(LOG_COLUMNS)
    assert len(log) == 40
    for text, index in zip(log["arch"], log["index"], strict=True):
        assert space.to_index(space.parse(text)) == index
    assert log["epoch"].between(1, synthetic_bench.n_epochs).all()
    if not strategy.multi_fidelity:
        assert (log["epoch"] == synthetic_bench.n_epochs).all()
    assert (log["regret"] >= -1e-12).all()
    # the incumbent's validation accuracy never decreases
    assert np.all(np.diff(log["incumbent_valid"].to_numpy()) >= 0)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n_workers", [1, 4])
def test_time_budget_is_respected(
    name: str,
    n_workers: int,
    synthetic_bench: TabularBenchmark,
    ws_kwargs: dict[str, dict[str, Any]],
) -> None:
    limit = 20 * _full_time(synthetic_bench)
    result = run(
        name,
        synthetic_bench,
        Budget(time_s=limit),
        seed=1,
        n_workers=n_workers,
        strategy_kwargs=ws_kwargs.get(name),
    )
    log = result.log
    assert len(log) > 0
    # no work starts after the budget; the work running at the deadline may finish later
    assert log["start"].max() < limit
    assert (log["finish"] >= log["start"]).all()
    assert log["worker"].between(0, n_workers - 1).all()
    # at any moment at most n_workers trainings run at once
    events = sorted([(s, 1) for s in log["start"]] + [(f, -1) for f in log["finish"]])
    running = np.cumsum([d for _, d in events])
    assert running.max() <= n_workers
    assert log["finish"].is_monotonic_increasing
    # nothing starts before the strategy's set-up cost (a super-network) is paid
    assert log["start"].min() >= result.meta["setup_cost_s"]


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_trajectory_different_seed_differs(
    name: str, synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    budget = Budget(queries=30)
    kw = {"n_workers": 2, "strategy_kwargs": ws_kwargs.get(name)}
    a = run(name, synthetic_bench, budget, seed=11, **kw).log
    b = run(name, synthetic_bench, budget, seed=11, **kw).log
    c = run(name, synthetic_bench, budget, seed=12, **kw).log
    cols = ["index", "epoch", "repeat", "valid_acc", "finish"]
    assert a[cols].equals(b[cols])
    assert not a["index"].equals(c["index"])


def _mean_final_regret(
    name: str, bench: TabularBenchmark, seeds: range, kwargs: dict[str, Any] | None = None
) -> float:
    budget = Budget(time_s=100 * _full_time(bench))
    return float(
        np.mean(
            [run(name, bench, budget, seed=s, strategy_kwargs=kwargs).final_regret for s in seeds]
        )
    )


@pytest.mark.parametrize("name", [n for n in ALL if n not in BASELINES])
def test_beats_random_search_on_a_planted_optimum(
    name: str, synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    assert synthetic_bench.table.provenance["planted_optimum"]
    seeds = range(6) if name in SLOW else range(20)
    regret = _mean_final_regret(name, synthetic_bench, seeds, ws_kwargs.get(name))
    random_regret = _mean_final_regret("random", synthetic_bench, seeds)
    assert regret < random_regret, f"{name}: {regret:.4f} vs random {random_regret:.4f}"


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n_workers", [1, 3])
def test_runs_on_a_table_with_nan_rows(
    name: str, n_workers: int, nan_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    """Failed trainings (NaN results) are allowed by the schema: every strategy completes on
    a table with NaN rows, and a missing result never becomes the incumbent over a real one."""
    budget = Budget(time_s=25 * _full_time(nan_bench))
    result = run(
        name, nan_bench, budget, seed=2, n_workers=n_workers, strategy_kwargs=ws_kwargs.get(name)
    )
    log = result.log
    assert len(log) > 0
    valid = log["valid_acc"].to_numpy()
    inc = log["incumbent_valid"].to_numpy()
    seen = np.fmax.accumulate(valid)
    real = ~np.isnan(seen)  # once a real result has come back...
    assert np.array_equal(inc[real], seen[real])  # ...the incumbent is the best real one
    assert math.isfinite(result.final_regret) or np.isnan(seen).all()


# -- the same suite on a NAS-Bench-101 table (a graph space, separate-run budgets) ---------
NB101_FEATURES = {"decisions"}  # what an NB101 table offers (no curves, no edge layout)
ON_NB101 = [n for n in ALL if set(STRATEGIES[n].features) <= NB101_FEATURES]
NOT_ON_NB101 = [n for n in ALL if n not in ON_NB101]


def test_nb101_offers_what_the_suite_assumes(nb101_bench: TabularBenchmark) -> None:
    assert nb101_bench.features == NB101_FEATURES
    assert {"random", "evolution", "local_search", "reinforce", "hyperband", "bananas",
            "bo_xgb", "optuna_tpe", "optuna_random"} <= set(ON_NB101)  # fmt: skip
    assert {"qlearning", "pnas", "random_es", "spos"} <= set(NOT_ON_NB101)


@pytest.mark.parametrize("name", ON_NB101)
@pytest.mark.parametrize("n_workers", [1, 3])
def test_nb101_valid_graphs_budgets_and_time(
    name: str, n_workers: int, nb101_bench: TabularBenchmark
) -> None:
    limit = 15 * nb101_bench.full_training_time
    result = run(name, nb101_bench, Budget(time_s=limit), seed=4, n_workers=n_workers)
    log = result.log
    space = nb101_bench.space
    assert len(log) > 0 and log["start"].max() < limit
    for text, index in zip(log["arch"], log["index"], strict=True):
        assert space.to_index(space.parse(text)) == index  # a graph of the table
    assert set(log["epoch"]) <= {4, 12, 36, 108}
    if not STRATEGIES.load(name).multi_fidelity:
        assert (log["epoch"] == 108).all()
    assert (log["regret"] >= -1e-12).all()


@pytest.mark.parametrize("name", ON_NB101)
def test_nb101_same_seed_same_trajectory_different_seed_differs(
    name: str, nb101_bench: TabularBenchmark
) -> None:
    budget = Budget(queries=25)
    a = run(name, nb101_bench, budget, seed=11, n_workers=2).log
    b = run(name, nb101_bench, budget, seed=11, n_workers=2).log
    c = run(name, nb101_bench, budget, seed=12, n_workers=2).log
    cols = ["index", "epoch", "repeat", "valid_acc", "finish"]
    assert a[cols].equals(b[cols])
    assert not a["index"].equals(c["index"])


@pytest.mark.parametrize("name", NOT_ON_NB101)
def test_nb101_refuses_what_cannot_apply_naming_the_space(
    name: str, nb101_bench: TabularBenchmark
) -> None:
    from nasbench_sim.errors import UnsupportedSpaceError

    with pytest.raises(UnsupportedSpaceError, match=f"strategy '{name}' needs .*nb101"):
        run(name, nb101_bench, Budget(queries=5), seed=0)


def test_nb101_hyperband_runs_the_four_budgets_as_separate_runs(
    nb101_bench: TabularBenchmark,
) -> None:
    result = run("hyperband", nb101_bench, Budget(time_s=40 * nb101_bench.full_training_time))
    log = result.log
    assert set(log["epoch"]) == {4, 12, 36, 108}
    for (index, epoch), rows in log.groupby(["index", "epoch"]):
        run_time = nb101_bench.query(int(index), int(epoch)).train_time  # this run's time
        assert rows["cost"].iloc[0] == pytest.approx(run_time)  # no discount for lower runs
