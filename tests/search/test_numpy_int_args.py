"""NumPy integers are accepted where an int is, and stored as Python ints, so what a run
records (``RunResult.meta``, ``Replays.settings``, a comparison's ``meta.json``) holds numbers,
not the strings ``json.dumps(..., default=str)`` would make of NumPy scalars."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from analysis.compare import compare
from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.search import experiment, run
from nasbench_sim.search.evolution import RegularizedEvolution
from nasbench_sim.search.experiment import run_many
from nasbench_sim.search.qlearning import QLearning
from nasbench_sim.search.reinforce import Reinforce

NUMPY_INTS = (np.int64(2), np.int32(2), np.uint8(2))


@pytest.mark.parametrize("value", NUMPY_INTS, ids=lambda v: type(v).__name__)
def test_strategies_store_python_ints(synthetic_bench: TabularBenchmark, value: Any) -> None:
    space, n = synthetic_bench.space, synthetic_bench.n_epochs
    evo = RegularizedEvolution(
        space, n, max_repeats=value, population_size=value, sample_size=value
    )
    q = QLearning(space, n, decay_episodes=value, replay_batch=value, max_resamples=value)
    rl = Reinforce(space, n, max_resamples=value)
    stored = [evo.max_repeats, evo.population_size, evo.sample_size]
    stored += [q.decay_episodes, q.replay_batch, q.max_resamples, rl.max_resamples]
    assert [type(v) for v in stored] == [int] * 7
    assert stored == [2] * 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"population_size": 2.5}, "population_size must be an integer >= 2, got 2.5"),
        ({"population_size": True}, "population_size must be an integer >= 2, got True"),
        ({"sample_size": "3"}, "sample_size must be an integer >= 1, got '3'"),
        ({"sample_size": 0}, "sample_size must be an integer >= 1, got 0"),
        ({"population_size": 4, "sample_size": 5}, "sample_size must lie in 1..population_size=4"),
    ],
)
def test_evolution_sizes_are_checked(
    synthetic_bench: TabularBenchmark, kwargs: dict[str, Any], message: str
) -> None:
    from nasbench_sim.errors import StrategyConfigError

    with pytest.raises(StrategyConfigError, match=message.replace(".", r"\.")):
        RegularizedEvolution(synthetic_bench.space, synthetic_bench.n_epochs, **kwargs)


def test_run_records_n_workers_as_an_int(synthetic_bench: TabularBenchmark) -> None:
    r = run("random", synthetic_bench, Budget(queries=6), seed=0, n_workers=np.int64(2))
    assert type(r.meta["n_workers"]) is int
    assert json.loads(json.dumps(r.meta, default=str))["n_workers"] == 2
    # the two simulated workers really ran side by side: the first two queries start at once
    assert r.log["start"].iloc[0] == r.log["start"].iloc[1]


def test_run_many_stores_ints(
    synthetic_bench: TabularBenchmark, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []

    def in_process(bench: Any, tasks: list[Any], n_jobs: Any, progress: Any) -> list[Any]:
        seen.append(n_jobs)  # what would size the process pool
        return [o for t in tasks for o in experiment._replay(bench, t)]

    monkeypatch.setattr(experiment, "_in_pool", in_process)
    reps = run_many(
        synthetic_bench,
        ["random"],
        [0, 1],
        Budget(queries=4),
        n_workers=np.int64(2),
        n_jobs=np.int32(2),
    )
    assert [type(v) for v in seen] == [int] and seen == [2]
    assert type(reps.settings["n_workers"]) is int and reps.settings["n_workers"] == 2
    with pytest.raises(ValueError, match="n_workers must be a positive int, got True"):
        run_many(synthetic_bench, ["random"], [0], Budget(queries=4), n_workers=True)


def test_comparison_meta_json_has_numbers(synthetic_bench: TabularBenchmark) -> None:
    comp = compare(
        synthetic_bench, ["random"], [0, 1], Budget(queries=4), baseline=None,
        n_workers=np.int64(3),
    )  # fmt: skip
    text = json.dumps(comp.meta(), indent=2, default=str)  # as compare writes meta.json
    assert json.loads(text)["settings"]["n_workers"] == 3
    assert '"n_workers": 3' in text


def test_run_many_refuses_a_seed_given_twice(synthetic_bench: TabularBenchmark) -> None:
    # its runs would be averaged in the paired statistics yet drawn twice in the plots
    with pytest.raises(ValueError, match=r"seeds \[1\] given more than once"):
        run_many(synthetic_bench, ["random"], [0, 1, np.int64(1)], budget=1)
