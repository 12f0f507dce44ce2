"""REINFORCE: policy-gradient math, reproducibility, adaptation, asynchrony, and search quality."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search import create, run
from nasbench_sim.search.base import Proposal
from nasbench_sim.search.reinforce import (
    Reinforce,
    StrategyConfigError,
    UnsupportedSpaceError,
)
from nasbench_sim.space import Cell, NB201Space


def _full_time(bench: TabularBenchmark) -> float:
    return float(np.median(bench.table.cost["train_time_s"])) * bench.n_epochs


def _fake_result(cell: Cell, acc: float) -> Any:
    return SimpleNamespace(valid_acc=acc, arch=cell, index=cell.index, missing=acc != acc)


def test_starts_uniform_and_registers() -> None:
    s = create("reinforce", NB201Space(), 12, seed=0)
    assert isinstance(s, Reinforce)
    np.testing.assert_allclose(s.probabilities(), np.full((6, 5), 0.2))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_update_moves_probability_towards_rewarded_ops(optimizer: str) -> None:
    s = Reinforce(NB201Space(), 12, seed=0, optimizer=optimizer)
    cell = Cell((3, 3, 1, 2, 3, 0))
    rows = np.arange(6)
    s.baseline = 0.5
    s.tell(Proposal(cell), _fake_result(cell, 0.9))  # above the baseline: reinforce
    up = s.probabilities()[rows, cell.ops]
    assert np.all(up > 0.2)
    assert s.baseline == pytest.approx(0.9 * 0.5 + 0.1 * 0.9)
    other = Cell((0, 0, 0, 0, 0, 4))
    before = s.probabilities()[rows, other.ops]
    s.tell(Proposal(other), _fake_result(other, 0.1))  # below the baseline: discourage
    assert np.all(s.probabilities()[rows, other.ops] < before)


def test_nan_reward_is_ignored() -> None:
    s = Reinforce(NB201Space(), 12, seed=0)
    p = s.ask()
    s.tell(p, _fake_result(p.arch, float("nan")))
    assert s.n_updates == 0 and np.all(np.isfinite(s.logits))


def test_same_seed_same_trajectory(synthetic_bench: TabularBenchmark) -> None:
    budget = Budget(queries=40)
    a = run("reinforce", synthetic_bench, budget, seed=5).log
    b = run("reinforce", synthetic_bench, budget, seed=5).log
    c = run("reinforce", synthetic_bench, budget, seed=6).log
    assert a["index"].equals(b["index"]) and a["valid_acc"].equals(b["valid_acc"])
    assert not a["index"].equals(c["index"])


def test_policy_concentrates_on_good_ops(synthetic_bench: TabularBenchmark) -> None:
    reps = synthetic_bench.space.representatives()
    everyone = synthetic_bench.query_many(reps, repeat="mean").valid_acc
    for seed in range(3):
        s = Reinforce(synthetic_bench.space, synthetic_bench.n_epochs, seed=seed)
        run(s, synthetic_bench, Budget(time_s=100 * _full_time(synthetic_bench)), seed=seed)
        p = s.probabilities()
        assert p.max(axis=1).mean() > 0.45  # far from uniform (0.2)
        mode = Cell(tuple(int(o) for o in p.argmax(axis=1)))
        acc = synthetic_bench.query(mode, repeat="mean").valid_acc
        assert (everyone < acc).mean() > 0.9  # the policy's mode is a top-10% cell


@pytest.mark.parametrize("n_workers", [1, 4])
def test_never_proposes_a_cell_twice(n_workers: int, synthetic_bench: TabularBenchmark) -> None:
    limit = 60 * _full_time(synthetic_bench)
    log = run("reinforce", synthetic_bench, Budget(time_s=limit), seed=2, n_workers=n_workers).log
    assert len(log) > 20
    assert log["index"].is_unique  # known cells are answered from memory, never re-queried
    assert log["start"].max() < limit


def test_async_run_keeps_learning(synthetic_bench: TabularBenchmark) -> None:
    s = Reinforce(synthetic_bench.space, synthetic_bench.n_epochs, seed=4)
    run(s, synthetic_bench, Budget(queries=60), seed=4, n_workers=4)
    assert s.n_updates >= 60 and not s._pending
    assert s.probabilities().max(axis=1).mean() > 0.25


def test_beats_random_search(synthetic_bench: TabularBenchmark) -> None:
    budget = Budget(time_s=100 * _full_time(synthetic_bench))

    def mean_regret(name: str) -> float:
        return float(
            np.mean([run(name, synthetic_bench, budget, seed=s).final_regret for s in range(20)])
        )

    assert mean_regret("reinforce") < mean_regret("random") - 0.01


def test_bad_arguments() -> None:
    with pytest.raises(StrategyConfigError, match="learning_rate"):
        Reinforce(NB201Space(), 12, learning_rate=0.0)
    with pytest.raises(StrategyConfigError, match="optimizer"):
        Reinforce(NB201Space(), 12, optimizer="rmsprop")
    with pytest.raises(UnsupportedSpaceError, match="space 'pairs' does not offer"):
        Reinforce(SimpleNamespace(name="pairs"), 12)  # type: ignore[arg-type]
