"""The shared rule for missing results: a NaN validation accuracy ranks below every real one,
and is never learnt from as a value."""

from __future__ import annotations

import math

from nasbench_sim.bench import Result
from nasbench_sim.search import Proposal, score
from nasbench_sim.search.evolution import RegularizedEvolution
from nasbench_sim.space import NB201Space

SPACE = NB201Space()


def _result(index: int, acc: float) -> Result:
    nan = math.nan
    return Result(
        arch=SPACE.from_index(index), index=index, epoch=12, repeat=0, train_loss=nan,
        train_acc=nan, valid_loss=nan, valid_acc=acc, train_time=1.0, params=nan, flops=nan,
        latency=nan,
    )  # fmt: skip


def test_score_puts_a_missing_result_below_every_real_one() -> None:
    assert score(_result(1, 0.3)) == 0.3
    assert score(_result(1, math.nan)) == -math.inf
    assert _result(1, math.nan).missing and not _result(1, 0.0).missing


def test_evolution_never_picks_a_missing_result_as_parent() -> None:
    """Python's max() with a NaN key returns whatever comes first; the rule must not."""
    for seed in range(20):
        evo = RegularizedEvolution(SPACE, 12, seed=seed, population_size=3, sample_size=3)
        members = [(17, math.nan), (400, 0.5), (9000, 0.9)]
        for index, acc in members:
            evo.tell(Proposal(SPACE.from_index(index)), _result(index, acc))
        child = evo.ask().arch
        parent = SPACE.from_index(9000)
        assert sum(a != b for a, b in zip(child.ops, parent.ops, strict=True)) == 1
