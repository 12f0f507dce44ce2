"""Q-learning (MetaQNN): epsilon schedule, Q updates, reproducibility, adaptation, asynchrony,
and search quality."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search import create, run
from nasbench_sim.search.base import Proposal
from nasbench_sim.search.qlearning import QLearning
from nasbench_sim.search.reinforce import StrategyConfigError, UnsupportedSpaceError
from nasbench_sim.space import Cell, NB201Space


def _full_time(bench: TabularBenchmark) -> float:
    return float(np.median(bench.table.cost["train_time_s"])) * bench.n_epochs


def _fake_result(cell: Cell, acc: float) -> Any:
    return SimpleNamespace(valid_acc=acc, arch=cell, index=cell.index, missing=acc != acc)


def test_epsilon_decays_linearly_then_stays() -> None:
    s = QLearning(NB201Space(), 12, seed=0, decay_episodes=10, epsilon_end=0.1)
    eps = []
    for _ in range(15):
        eps.append(s.epsilon)
        p = s.ask()
        s.tell(p, _fake_result(p.arch, 0.5))
    np.testing.assert_allclose(eps[:11], np.linspace(1.0, 0.1, 11))
    assert eps[11:] == pytest.approx([0.1] * 4)


def test_one_update_follows_the_q_learning_rule() -> None:
    s = QLearning(NB201Space(), 12, seed=0, learning_rate=0.5, q_init=0.0, replay_batch=0)
    cell = Cell((1, 2, 3, 4, 0, 3))
    s.tell(Proposal(cell), _fake_result(cell, 0.8))
    # the last step moves halfway to the reward; earlier steps to the (then) max of the next
    assert s.q[5, 0, 3] == pytest.approx(0.4)
    assert s.q[4, 4, 0] == pytest.approx(0.2)
    assert s.q[0, 5, 1] == pytest.approx(0.8 / 2**6)
    assert np.count_nonzero(s.q) == 6


def test_batched_replay_matches_one_episode_and_compounds_repeats() -> None:
    a = QLearning(NB201Space(), 12, seed=0, learning_rate=0.3)
    b = QLearning(NB201Space(), 12, seed=0, learning_rate=0.3)
    ops = (3, 3, 1, 2, 3, 3)
    a._learn(ops, 0.9)
    b._replay(np.array([ops]), np.array([0.9]))
    np.testing.assert_allclose(a.q, b.q)
    # m copies of one episode at the last edge equal m sequential steps towards the reward
    c = QLearning(NB201Space(), 12, seed=0, learning_rate=0.3, q_init=0.5)
    c._replay(np.array([ops] * 4), np.full(4, 0.9))
    assert c.q[5, 3, 3] == pytest.approx(0.9 - 0.4 * 0.7**4)


def test_same_seed_same_trajectory(synthetic_bench: TabularBenchmark) -> None:
    budget = Budget(queries=40)
    a = run("qlearning", synthetic_bench, budget, seed=5).log
    b = run("qlearning", synthetic_bench, budget, seed=5).log
    c = run("qlearning", synthetic_bench, budget, seed=6).log
    assert a["index"].equals(b["index"]) and a["valid_acc"].equals(b["valid_acc"])
    assert not a["index"].equals(c["index"])


def test_q_values_rise_and_greedy_cell_is_good(synthetic_bench: TabularBenchmark) -> None:
    reps = synthetic_bench.space.representatives()
    everyone = synthetic_bench.query_many(reps, repeat="mean").valid_acc
    percentiles = []
    for seed in range(4):
        s = create("qlearning", synthetic_bench.space, synthetic_bench.n_epochs, seed=seed)
        assert isinstance(s, QLearning)
        run(s, synthetic_bench, Budget(time_s=100 * _full_time(synthetic_bench)), seed=seed)
        greedy = s.greedy_cell()
        prev, path = s.n_ops, []
        for k, op in enumerate(greedy.ops):
            path.append(s.q[k, prev, op])
            prev = op
        assert min(path) > 0.65  # well above q_init = 0.5: the rewards propagated back
        acc = synthetic_bench.query(greedy, repeat="mean").valid_acc
        percentiles.append((everyone < acc).mean())
    assert np.mean(percentiles) > 0.6


@pytest.mark.parametrize("n_workers", [1, 4])
def test_never_proposes_a_cell_twice(n_workers: int, synthetic_bench: TabularBenchmark) -> None:
    limit = 60 * _full_time(synthetic_bench)
    log = run("qlearning", synthetic_bench, Budget(time_s=limit), seed=2, n_workers=n_workers).log
    assert len(log) > 20
    assert log["index"].is_unique
    assert log["start"].max() < limit


def test_beats_random_search(synthetic_bench: TabularBenchmark) -> None:
    budget = Budget(time_s=100 * _full_time(synthetic_bench))

    def mean_regret(name: str) -> float:
        return float(
            np.mean([run(name, synthetic_bench, budget, seed=s).final_regret for s in range(20)])
        )

    assert mean_regret("qlearning") < mean_regret("random")


def test_bad_arguments() -> None:
    with pytest.raises(StrategyConfigError, match="epsilon_end"):
        QLearning(NB201Space(), 12, epsilon_end=1.5)
    with pytest.raises(StrategyConfigError, match="replay_batch"):
        QLearning(NB201Space(), 12, replay_batch=-1)
    with pytest.raises(StrategyConfigError, match="learning_rate"):
        QLearning(NB201Space(), 12, learning_rate=0.0)
    with pytest.raises(UnsupportedSpaceError, match="qlearning"):
        QLearning(SimpleNamespace(name="pairs"), 12)  # type: ignore[arg-type]
