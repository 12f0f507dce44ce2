"""SPOS's evolutionary search on a super-network (Guo et al. 2020): only new candidates,
reproducible, and selection pressure that beats random sampling of as many cells."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.oneshot.spos_search import SposSearchSettings, spos_search
from nasbench_sim.space import get_space


def _fitness(seed: int = 0) -> np.ndarray:
    """Score = number of conv3x3 edges + number of conv1x1 edges / 2, plus noise."""
    ops = get_space("nb201").ops_matrix()
    rng = np.random.default_rng(seed)
    return (ops == 3).sum(1) + 0.5 * (ops == 2).sum(1) + rng.normal(0, 0.3, 15625)


def test_evaluates_exactly_n_new_cells_reproducibly() -> None:
    score = _fitness()
    a = spos_search(score, 1000, np.random.default_rng(1))
    b = spos_search(score, 1000, np.random.default_rng(1))
    c = spos_search(score, 1000, np.random.default_rng(2))
    assert len(a) == 1000 and list(a) == list(b) and list(a) != list(c)
    assert all(a[i] == score[i] for i in a)
    # more than the space holds: every cell once
    assert len(spos_search(score, 20000, np.random.default_rng(0))) == 15625
    # fewer than a population: all of them the random initial population
    assert len(spos_search(score, 30, np.random.default_rng(0))) == 30


def test_selection_pressure_beats_random_sampling() -> None:
    score = _fitness()
    evolved, sampled, found_best = [], [], 0
    for seed in range(5):
        got = np.sort(
            np.fromiter(spos_search(score, 1000, np.random.default_rng(seed)).values(), float)
        )
        pick = np.random.default_rng(100 + seed).choice(15625, 1000, replace=False)
        evolved.append(got[-10:].mean())  # the final top-k
        found_best += got[-1] == score.max()
        sampled.append(np.sort(score[pick])[-10:].mean())
    assert np.mean(evolved) > np.mean(sampled) + 0.3
    assert found_best >= 4  # 1,000 of 15,625 cells evaluated, the best one among them


def test_bad_settings_are_named() -> None:
    score = _fitness()
    rng = np.random.default_rng(0)
    with pytest.raises(StrategyConfigError, match="population"):
        spos_search(score, 10, rng, SposSearchSettings(population=1))
    with pytest.raises(StrategyConfigError, match="top_k"):
        spos_search(score, 10, rng, SposSearchSettings(top_k=60))
    with pytest.raises(StrategyConfigError, match="mutation_prob"):
        spos_search(score, 10, rng, SposSearchSettings(mutation_prob=0.0))
    with pytest.raises(StrategyConfigError, match="finite"):
        spos_search(np.where(np.arange(15625) == 3, np.nan, score), 10, rng)
