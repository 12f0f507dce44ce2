"""The shared strategy suite over every multi-objective strategy: valid proposals, budgets,
reproducibility (same seed, same trajectory), results with NaN, and every non-random strategy
beats multi-objective random search on hypervolume regret against the exact front."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search import LOG_COLUMNS, run
from nasbench_sim.search.mo import ObjectiveSet, exact_front, score_log
from nasbench_sim.search.mo.base import MultiObjectiveStrategy
from nasbench_sim.search.mo.registry import create_mo
from nasbench_sim.strategies import MO_STRATEGIES
from nasbench_sim.table import make_synthetic_table

ALL = list(MO_STRATEGIES)
SLOW = {"mo_parego", "mo_tpe"}
OBJ = "valid_acc,latency_s"


def _full_time(bench: TabularBenchmark) -> float:
    return float(np.median(bench.table.cost["train_time_s"])) * bench.n_epochs


def _strategy(name: str, bench: TabularBenchmark, seed: int, objectives: str = OBJ):  # type: ignore[no-untyped-def]
    objs = ObjectiveSet.parse(objectives).bind(bench)
    return create_mo(
        name, bench.space, bench.n_epochs, seed, objectives=objs, registry=MO_STRATEGIES
    )


@pytest.mark.parametrize("name", ALL)
def test_proposals_are_valid_and_objectives_are_read(
    name: str, synthetic_bench: TabularBenchmark
) -> None:
    s = _strategy(name, synthetic_bench, 3, "valid_acc,flops,train_time_s")
    assert s.name == name
    log = run(s, synthetic_bench, Budget(queries=40), seed=3).log
    assert list(log.columns) == list(LOG_COLUMNS) and len(log) == 40
    space = synthetic_bench.space
    for text, index in zip(log["arch"], log["index"], strict=True):
        assert space.to_index(space.parse(text)) == index
    assert (log["epoch"] == synthetic_bench.n_epochs).all()
    assert log["index"].nunique() >= 36  # a multi-objective search rarely repeats itself


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n_workers", [1, 4])
def test_time_budget_is_respected(
    name: str, n_workers: int, synthetic_bench: TabularBenchmark
) -> None:
    limit = 20 * _full_time(synthetic_bench)
    log = run(_strategy(name, synthetic_bench, 1), synthetic_bench, Budget(time_s=limit), seed=1,
              n_workers=n_workers).log  # fmt: skip
    assert len(log) > 0 and log["start"].max() < limit
    assert log["worker"].between(0, n_workers - 1).all()
    events = sorted([(s, 1) for s in log["start"]] + [(f, -1) for f in log["finish"]])
    assert np.cumsum([d for _, d in events]).max() <= n_workers


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_trajectory_different_seed_differs(
    name: str, synthetic_bench: TabularBenchmark
) -> None:
    def trajectory(seed: int):  # type: ignore[no-untyped-def]
        s = _strategy(name, synthetic_bench, seed)
        return run(s, synthetic_bench, Budget(queries=30), seed=seed, n_workers=2).log

    a, b, c = trajectory(11), trajectory(11), trajectory(12)
    cols = ["index", "epoch", "repeat", "valid_acc", "finish"]
    assert a[cols].equals(b[cols])
    assert not a["index"].equals(c["index"])


@pytest.mark.parametrize("name", ALL)
def test_results_with_nan_are_survived(name: str) -> None:
    """The schema allows NaN (a failed training): a strategy must keep going."""
    table = make_synthetic_table(2, cells="classes", n_epochs=4)
    valid = np.array(table.metrics["valid_acc"])
    valid[::3, 0] = np.nan  # one repeat of every third row failed
    metrics = {**table.metrics, "valid_acc": valid}
    bench = TabularBenchmark(dataclasses.replace(table, metrics=metrics))
    log = run(_strategy(name, bench, 0), bench, Budget(queries=60), seed=0, n_workers=2).log
    assert len(log) == 60 and log["valid_acc"].isna().any()


def test_every_strategy_is_multi_objective(synthetic_bench: TabularBenchmark) -> None:
    for name in ALL:
        s = _strategy(name, synthetic_bench, 0)
        assert s.objectives.names == ("valid_acc", "latency_s")
        assert isinstance(s, MultiObjectiveStrategy) or name in {"mo_nsga2", "mo_tpe", "mo_parego"}


def _mean_hv_regret(name: str, bench: TabularBenchmark, seeds: range) -> float:
    front = exact_front(bench, OBJ)
    budget = Budget(time_s=100 * _full_time(bench))
    out = []
    for seed in seeds:
        log = run(_strategy(name, bench, seed), bench, budget, seed=seed).log
        out.append(score_log(log, bench, front, seed)["regret"].iloc[-1])
    return float(np.mean(out))


@pytest.mark.parametrize("name", [n for n in ALL if n != "mo_random"])
def test_beats_random_search_on_hypervolume_regret(
    name: str, synthetic_bench: TabularBenchmark
) -> None:
    seeds = range(6) if name in SLOW else range(12)
    regret = _mean_hv_regret(name, synthetic_bench, seeds)
    random_regret = _mean_hv_regret("mo_random", synthetic_bench, seeds)
    assert regret < random_regret, f"{name}: {regret:.4f} vs random {random_regret:.4f}"
