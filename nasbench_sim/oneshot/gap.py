"""The optimisation gap: how well a super-network ranks cells against stand-alone training.

The one-shot score of a cell is its validation accuracy with inherited weights (SPOS), or its
log-probability under the final ``softmax(alpha)`` (DARTS, GDAS: the sum over edges of
``log alpha[edge, op]``, so the derived cell scores highest); :func:`rank_gap` measures how
well a score ranks cells against their stand-alone accuracy. Pure numpy / scipy; no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench_sim.oneshot.store import OneShotError, OneShotRecord
from nasbench_sim.space import OPS

__all__ = [
    "PARAMETER_FREE",
    "GapReport",
    "alpha_log_prob",
    "gap_report",
    "parameter_free_fraction",
    "precision_at_k",
    "rank_gap",
    "seed_spread",
    "standalone_percentile",
]

PARAMETER_FREE: tuple[str, ...] = ("none", "skip_connect", "avg_pool_3x3")
"""Ops without weights; a derived cell made mostly of them signals a collapse."""
_FREE_IDS = np.array([OPS.index(o) for o in PARAMETER_FREE])


@dataclass(frozen=True)
class GapReport:
    """Rank agreement between one-shot and stand-alone accuracy over the evaluated cells.

    Attributes:
        method: the one-shot method.
        seed: the super-network seed.
        n_cells: cells with both scores.
        kendall_tau: Kendall τ (tau-b) over all of them.
        spearman_rho: Spearman ρ over all of them.
        top_fraction: the stand-alone top fraction of the ``top_*`` statistics.
        n_top: cells in that top fraction.
        top_kendall_tau: Kendall τ within the stand-alone top fraction.
        top_spearman_rho: Spearman ρ within the stand-alone top fraction.
        precision: ``k`` -> fraction of the one-shot top-``k`` that is in the stand-alone
            top-``k``.
        cost: the super-network cost recorded with the run.
        pick_standalone: stand-alone accuracy of the cell the one-shot score ranks first (the
            first of equal scores): the cell a pure one-shot search would return.
        pick_percentile: its percentile among the compared cells' stand-alone accuracies
            (0-100: the share of them at most as accurate; 100 is the best).
        derived: DARTS / GDAS: the derived cell after each epoch (empty for SPOS).
        standalone_valid_acc: DARTS / GDAS: the derived cell's stand-alone validation
            accuracy per epoch (NaN where the table has no row for it).
        standalone_percentile: DARTS / GDAS: that accuracy's percentile among the table's
            cells per epoch, as ``pick_percentile``.
        parameter_free: DARTS / GDAS: the derived cell's fraction of parameter-free ops per
            epoch (a collapse shows as a rise to 1).
    """

    method: str
    seed: int
    n_cells: int
    kendall_tau: float
    spearman_rho: float
    top_fraction: float
    n_top: int
    top_kendall_tau: float
    top_spearman_rho: float
    precision: Mapping[int, float] = field(default_factory=dict)
    cost: Mapping[str, Any] = field(default_factory=dict)
    pick_standalone: float = float("nan")
    pick_percentile: float = float("nan")
    derived: tuple[int, ...] = ()
    standalone_valid_acc: tuple[float, ...] = ()
    standalone_percentile: tuple[float, ...] = ()
    parameter_free: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (precision keys as strings)."""
        return {
            "method": self.method,
            "seed": self.seed,
            "n_cells": self.n_cells,
            "kendall_tau": self.kendall_tau,
            "spearman_rho": self.spearman_rho,
            "top_fraction": self.top_fraction,
            "n_top": self.n_top,
            "top_kendall_tau": self.top_kendall_tau,
            "top_spearman_rho": self.top_spearman_rho,
            "precision": {str(k): v for k, v in self.precision.items()},
            "cost": dict(self.cost),
            "pick_standalone": self.pick_standalone,
            "pick_percentile": self.pick_percentile,
            **(
                {
                    "derived": list(self.derived),
                    "standalone_valid_acc": list(self.standalone_valid_acc),
                    "standalone_percentile": list(self.standalone_percentile),
                    "parameter_free_fraction": list(self.parameter_free),
                }
                if self.derived
                else {}
            ),
        }


def _corr(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan")
    from scipy import stats  # imported here: scipy.stats is slow to import

    tau = stats.kendalltau(a, b).statistic
    rho = stats.spearmanr(a, b).statistic
    return float(tau), float(rho)


def precision_at_k(score: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Fraction of the ``k`` best cells by ``score`` that are among the ``k`` best by
    ``truth`` (ties broken by position, stably)."""
    if not 1 <= k <= score.size:
        raise OneShotError(f"k={k} must lie in 1..{score.size}")
    top_s = np.argsort(-score, kind="stable")[:k]
    top_t = np.argsort(-truth, kind="stable")[:k]
    return float(np.intersect1d(top_s, top_t).size / k)


def standalone_percentile(population: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Percentile (0-100) of each of ``values`` among the finite ``population``: the share of
    it at most as large (``scipy.stats.percentileofscore``, ``kind="weak"``); NaN for a NaN
    value or an empty population.

    Example:
        >>> standalone_percentile(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.3, np.nan]))
        array([75., nan])
    """
    from scipy import stats

    pop = np.asarray(population, dtype=np.float64)
    pop = pop[np.isfinite(pop)]
    v = np.atleast_1d(np.asarray(values, dtype=np.float64))
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v)
    if pop.size and ok.any():
        out[ok] = stats.percentileofscore(pop, v[ok], kind="weak")
    return out


def _ks(ks: Sequence[float], n: int) -> list[int]:
    out = []
    for k in ks:
        kk = max(1, round(k * n)) if 0 < k < 1 else int(k)
        if kk < 1:
            raise OneShotError(f"top-k value {k} must be a count >= 1 or a fraction in (0, 1)")
        if kk < n and kk not in out:  # k = n is trivially 1
            out.append(kk)
    return out


def rank_gap(
    method: str,
    seed: int,
    score: np.ndarray,
    standalone: np.ndarray,
    *,
    ks: Sequence[float] = (10, 50, 100),
    top_fraction: float = 0.1,
    cost: Mapping[str, Any] | None = None,
) -> GapReport:
    """Kendall τ, Spearman ρ (all cells and stand-alone top fraction), top-k precision of a
    one-shot ``score`` against ``standalone`` accuracy (pairs with a NaN are left out), and
    where the cell the score ranks first stands (``pick_standalone``, ``pick_percentile``).

    Args:
        method, seed: which super-network.
        score: one-shot score per cell, higher is better.
        standalone: stand-alone accuracy of the same cells.
        ks: top-k sizes: counts, or fractions in (0, 1); sizes not below the cell count are
            skipped.
        top_fraction: the stand-alone top fraction for the ``top_*`` statistics.
        cost: the super-network's recorded cost.
    """
    if not 0 < top_fraction <= 1:
        raise OneShotError(f"top_fraction must lie in (0, 1], got {top_fraction}")
    score = np.asarray(score, dtype=np.float64)
    truth = np.asarray(standalone, dtype=np.float64)
    if truth.shape != score.shape:
        raise OneShotError(f"standalone has shape {truth.shape}, expected {score.shape}")
    keep = np.isfinite(score) & np.isfinite(truth)
    score, truth = score[keep], truth[keep]
    n = int(score.size)
    if n < 2:
        raise OneShotError(f"need at least 2 cells with both scores, got {n}")
    tau, rho = _corr(score, truth)
    n_top = max(2, int(np.ceil(top_fraction * n)))
    top = np.argsort(-truth, kind="stable")[:n_top]
    ttau, trho = _corr(score[top], truth[top])
    pick = float(truth[int(np.argmax(score))])
    return GapReport(
        method=method,
        seed=seed,
        n_cells=n,
        kendall_tau=tau,
        spearman_rho=rho,
        top_fraction=float(top_fraction),
        n_top=n_top,
        top_kendall_tau=ttau,
        top_spearman_rho=trho,
        precision={k: precision_at_k(score, truth, k) for k in _ks(ks, n)},
        cost=dict(cost or {}),
        pick_standalone=pick,
        pick_percentile=float(standalone_percentile(truth, np.array([pick]))[0]),
    )


def gap_report(
    record: OneShotRecord,
    standalone: np.ndarray,
    *,
    ks: Sequence[float] = (10, 50, 100),
    top_fraction: float = 0.1,
) -> GapReport:
    """:func:`rank_gap` of a record's per-cell one-shot scores (SPOS: ``record.valid_acc`` of
    ``record.arch_index``) against the stand-alone accuracy of those cells.

    Example:
        >>> import numpy as np
        >>> rec = OneShotRecord("spos", 0, np.arange(5), np.arange(5.0), np.zeros(1))
        >>> r = gap_report(rec, np.arange(5.0) * 2, ks=(2,))
        >>> round(r.kendall_tau, 6), r.precision
        (1.0, {2: 1.0})
    """
    return rank_gap(
        record.method,
        record.seed,
        record.valid_acc,
        standalone,
        ks=ks,
        top_fraction=top_fraction,
        cost=record.cost,
    )


def alpha_log_prob(alpha: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Log-probability of each cell (NB201 indices) under one epoch's ``softmax(alpha)``
    ``(6, 5)``: the sum over edges of ``log alpha[edge, op]``."""
    from nasbench_sim.space import NB201Space

    logp = np.log(np.clip(np.asarray(alpha, dtype=np.float64), 1e-300, None))
    ops = NB201Space().ops_matrix(np.asarray(cells, dtype=np.int64)).astype(np.int64)
    return logp[np.arange(ops.shape[1]), ops].sum(axis=1)


def parameter_free_fraction(arch_index: np.ndarray) -> np.ndarray:
    """Fraction of the six edges holding a parameter-free op (none, skip, pool), per cell."""
    from nasbench_sim.space import Cell

    ops = np.array([Cell.from_index(int(i)).ops for i in np.asarray(arch_index)], dtype=np.int64)
    return np.isin(ops.reshape(-1, 6), _FREE_IDS).mean(axis=1)


def seed_spread(reports: Sequence[GapReport]) -> dict[str, dict[str, float]]:
    """:func:`spread` over seeds of τ, ρ, the top-fraction τ and the one-shot pick's
    stand-alone percentile."""
    return {
        name: spread([getattr(r, name) for r in reports])
        for name in ("kendall_tau", "spearman_rho", "top_kendall_tau", "pick_percentile")
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, standard deviation (ddof=1; 0 for one value), min and max of the finite values,
    and their count ``n_seeds`` (NaN statistics when none is finite)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    nan = float("nan")
    return {
        "mean": float(v.mean()) if v.size else nan,
        "std": float(v.std(ddof=1)) if v.size > 1 else (0.0 if v.size else nan),
        "min": float(v.min()) if v.size else nan,
        "max": float(v.max()) if v.size else nan,
        "n_seeds": float(v.size),
    }
