"""ProjectedTau against a brute-force weighted τ-a over explicit pairs, and scipy's τ."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from nasbench_sim.bench.tau_projection import ProjectedTau, pair_signs


def _brute(built: np.ndarray, drawn: np.ndarray, w: float, m: np.ndarray) -> float:
    """Every committed row once (weight 1), pilot row k ``m[k]`` times (weight w each); pairs
    of copies of one pilot row are left out."""
    rows = [(x, 1.0, ("b", i)) for i, x in enumerate(built)]
    rows += [(drawn[k], w, ("d", k)) for k in range(len(drawn)) for _ in range(int(m[k]))]
    num = den = 0.0
    for (x, wx, gx), (y, wy, gy) in itertools.combinations(rows, 2):
        if gx == gy:
            continue
        num += wx * wy * np.sign(x[0] - y[0]) * np.sign(x[1] - y[1])
        den += wx * wy
    return num / den


def _data(rng: np.random.Generator, n: int) -> np.ndarray:
    """Accuracies on a grid of 0.01 (many ties) with two seeds correlated by a cell effect."""
    cell = rng.normal(size=(n, 1))
    return np.round(0.8 + 0.05 * (cell + 0.7 * rng.normal(size=(n, 2))), 2)


@pytest.mark.parametrize("case", range(12))
def test_weighted_tau_equals_brute_force_with_ties_and_resampled_copies(case: int) -> None:
    rng = np.random.default_rng(case)
    built, drawn = _data(rng, int(rng.integers(2, 25))), _data(rng, int(rng.integers(2, 12)))
    if case % 3 == 0:  # a pilot row equal to a committed one, and a repeated pilot row
        drawn[0] = built[0]
        drawn[-1] = drawn[0]
    left = int(rng.integers(0, 60))
    proj = ProjectedTau(built, drawn, left)
    m = np.bincount(rng.integers(0, len(drawn), len(drawn)), minlength=len(drawn))
    w = left / len(drawn)
    assert proj.tau(m) == pytest.approx(_brute(built, drawn, w, m), abs=1e-12)
    assert proj.tau() == pytest.approx(_brute(built, drawn, w, np.ones(len(drawn))), abs=1e-12)


def test_weight_one_is_plain_tau_a_over_all_rows() -> None:
    """A pilot row standing for one cell: the τ-a of the union, which is scipy's τ-b when
    there are no ties."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 2)) + rng.normal(size=(40, 1))
    proj = ProjectedTau(x[:30], x[30:], left=10)
    assert proj.tau() == pytest.approx(stats.kendalltau(x[:, 0], x[:, 1]).statistic, abs=1e-12)
    assert proj.interval(resamples=20).committed_tau == pytest.approx(
        stats.kendalltau(x[:30, 0], x[:30, 1]).statistic, abs=1e-12
    )


def test_blocked_pair_sum_covers_more_rows_than_one_block() -> None:
    """The committed rows' pair sum goes in blocks of 512 rows: over 1,300 rows it equals
    the all-pairs sum."""
    rng = np.random.default_rng(3)
    built = _data(rng, 1300)
    proj = ProjectedTau(built, _data(rng, 3), left=0)
    full = pair_signs(built, built)
    assert proj.tau() == pytest.approx(full[np.triu_indices(1300, 1)].mean(), abs=1e-12)


def test_interval_is_seeded_and_brackets_the_estimate() -> None:
    rng = np.random.default_rng(1)
    proj = ProjectedTau(_data(rng, 200), _data(rng, 60), left=800)
    a, b = proj.interval(200, seed=4), proj.interval(200, seed=4)
    assert a == b
    assert a.low < a.tau < a.high and a.level == 0.9
    assert proj.interval(200, seed=5).low != a.low


@pytest.mark.parametrize(
    ("built", "drawn", "left", "match"),
    [
        (np.zeros((5, 3)), np.zeros((5, 2)), 1, "built: expected"),
        (np.zeros((5, 2)), np.zeros((1, 2)), 1, "drawn: expected"),
        (np.full((5, 2), np.nan), np.zeros((5, 2)), 1, "non-finite"),
        (np.zeros((5, 2)), np.zeros((5, 2)), -1, "left must be"),
    ],
)
def test_bad_input_is_refused(built, drawn, left, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        ProjectedTau(built, drawn, left)


def test_bad_multiplicity_and_interval_arguments_are_refused() -> None:
    proj = ProjectedTau(np.eye(3, 2), np.eye(3, 2)[::-1], left=3)
    with pytest.raises(ValueError, match="multiplicity"):
        proj.tau(np.ones(4))
    with pytest.raises(ValueError, match="resamples"):
        proj.interval(resamples=0)
