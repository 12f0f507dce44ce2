"""Pareto dominance, fronts, crowding and the quality indicators, on loss arrays.

Every function takes *losses* ``(n_points, n_objectives)``: lower is better in every coordinate
(see :attr:`~nasbench_sim.search.mo.objectives.ObjectiveSet.signs`). A point dominates another
when it is no worse in every objective and strictly better in one; points with equal values do
not dominate each other, so ties all stay on a front.

Non-dominated sorting and the hypervolume come from Optuna (``optuna.study._multi_objective``,
``optuna._hypervolume``: maintained, tested implementations, the same code Optuna's NSGA-II
and multi-objective TPE use); this module is the one place that reaches into them.
"""

from __future__ import annotations

import numpy as np
from optuna._hypervolume import compute_hypervolume
from optuna.study._multi_objective import _fast_non_domination_rank
from scipy.spatial.distance import cdist

__all__ = [
    "crowding_distance",
    "dominates",
    "hypervolume",
    "igd",
    "nondominated_mask",
    "nondominated_rank",
]


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether loss vector ``a`` dominates ``b``.

    Example:
        >>> dominates(np.array([1.0, 2.0]), np.array([1.0, 3.0])), dominates(np.ones(2), np.ones(2))
        (True, False)
    """
    return bool(np.all(a <= b) and np.any(a < b))


def nondominated_rank(losses: np.ndarray) -> np.ndarray:
    """Rank of each point under non-dominated sorting: 0 for the front, 1 for the front of the
    rest, and so on (Deb et al. 2002). Points with a NaN loss get the last rank."""
    x = np.asarray(losses, dtype=np.float64)
    if x.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    bad = np.isnan(x).any(axis=1)
    rank = np.full(x.shape[0], 0, dtype=np.int64)
    if (~bad).any():
        rank[~bad] = _fast_non_domination_rank(x[~bad])
    rank[bad] = rank[~bad].max() + 1 if (~bad).any() else 0
    return rank


def nondominated_mask(losses: np.ndarray) -> np.ndarray:
    """Bool mask of the points no other point dominates (NaN points never are on the front).

    Example:
        >>> nondominated_mask(np.array([[1.0, 3.0], [2.0, 2.0], [2.0, 3.0], [1.0, 3.0]]))
        array([ True,  True, False,  True])
    """
    x = np.asarray(losses, dtype=np.float64)
    mask = nondominated_rank(x) == 0
    return mask & ~np.isnan(x).any(axis=1) if x.size else mask


def crowding_distance(losses: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each point within its set: the sum over objectives of the
    normalised gap between its two neighbours; the extremes of each objective get ``inf``."""
    x = np.asarray(losses, dtype=np.float64)
    n, m = x.shape
    out = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(x[:, k], kind="stable")
        span = x[order[-1], k] - x[order[0], k]
        out[order[0]] = out[order[-1]] = np.inf
        if span > 0:
            gaps = (x[order[2:], k] - x[order[:-2], k]) / span
            out[order[1:-1]] += gaps
    return out


def hypervolume(losses: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume dominated by ``losses`` and bounded by ``reference`` (Optuna's
    ``compute_hypervolume``); points not strictly better than the reference in every
    objective add nothing. An empty set has hypervolume 0."""
    x = np.asarray(losses, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if x.size:
        x = x[np.all(x < ref, axis=1) & ~np.isnan(x).any(axis=1)]
    if x.shape[0] == 0:
        return 0.0
    return float(compute_hypervolume(x, ref))


def igd(front: np.ndarray, approximation: np.ndarray) -> float:
    """Inverted generational distance: the mean, over the points of ``front``, of the Euclidean
    distance to the nearest point of ``approximation`` (``inf`` for an empty approximation)."""
    f = np.asarray(front, dtype=np.float64)
    a = np.asarray(approximation, dtype=np.float64)
    if a.size:
        a = a[~np.isnan(a).any(axis=1)]
    if a.shape[0] == 0:
        return float("inf")
    return float(cdist(f, a).min(axis=1).mean())
