"""How well a table tells cells apart, from the final epoch of every row and every training seed.

* ``seed_kendall_tau``: Kendall τ between two training seeds' validation accuracies, the mean
  over all pairs of seeds: the ceiling of any ranking one training run per cell can support.
* ``seed_pearson``: the mean Pearson correlation between two seeds' validation accuracies,
  the reliability of one seed's accuracy (the share of its variance over cells that is the
  cell's, not the seed's).
* ``seed_mean_reliability``: the reliability of the mean over the table's ``k`` seeds, by the
  Spearman-Brown formula ``k r / (1 + (k - 1) r)`` from ``seed_pearson``: how far the mean
  that a search is scored on is repeatable (``None`` when ``seed_pearson`` is not positive:
  seeds that do not agree leave nothing for more seeds to add up).
* ``seed_std_valid``: the median over rows of the standard deviation of validation accuracy
  across seeds.
* ``valid_test_pearson``: the correlation of seed-mean validation and test accuracy (does
  searching on validation find what is good on test?).

A statistic that cannot be computed (one seed, fewer than three rows with values, a constant
column) is ``None``; NaN runs (missing from an import) are left out pair by pair, never filled.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["DISCRIMINATION_KEYS", "discrimination"]

DISCRIMINATION_KEYS: tuple[str, ...] = (
    "seed_kendall_tau",
    "seed_pearson",
    "seed_mean_reliability",
    "seed_std_valid",
    "valid_test_pearson",
)
"""The statistics :func:`discrimination` returns, in order."""


def _finite(x: Any) -> float | None:
    return float(x) if np.isfinite(x) else None


def _pairwise(valid: np.ndarray) -> tuple[list[float], list[float]]:
    """Kendall τ and Pearson r of every pair of seed columns, over rows where both have
    values (pairs with fewer than three such rows are skipped)."""
    from scipy import stats  # imported when used: opening a table does not load scipy.stats

    taus, rs = [], []
    for i in range(valid.shape[1]):
        for j in range(i + 1, valid.shape[1]):
            ok = np.isfinite(valid[:, i]) & np.isfinite(valid[:, j])
            if ok.sum() > 2:
                taus.append(float(stats.kendalltau(valid[ok, i], valid[ok, j]).statistic))
                rs.append(float(np.corrcoef(valid[ok, i], valid[ok, j])[0, 1]))
    return taus, rs


def discrimination(
    valid: np.ndarray, mean_valid: np.ndarray, mean_test: np.ndarray
) -> dict[str, float | None]:
    """The statistics of the module docstring.

    Args:
        valid: final validation accuracy, ``(rows, seeds)`` (NaN: a missing run).
        mean_valid: seed-mean final validation accuracy, ``(rows,)``.
        mean_test: seed-mean final test accuracy, ``(rows,)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> cell = rng.normal(size=(500, 1))
        >>> valid = cell + 0.5 * rng.normal(size=(500, 3))
        >>> d = discrimination(valid, valid.mean(1), valid.mean(1))
        >>> round(d["seed_pearson"], 2), round(d["seed_mean_reliability"], 2)
        (0.8, 0.92)
    """
    valid = np.asarray(valid, dtype=np.float64)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # rows with one finite seed, constant columns: no statistic, never a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        taus, rs = _pairwise(valid)
        v, t = np.asarray(mean_valid, np.float64), np.asarray(mean_test, np.float64)
        ok = np.isfinite(v) & np.isfinite(t)
        pearson = _finite(np.corrcoef(v[ok], t[ok])[0, 1]) if ok.sum() > 2 else None
        spread = np.nanstd(valid, axis=1, ddof=1) if valid.shape[1] > 1 else None
        tau = _finite(np.nanmean(taus)) if taus else None
        r1 = _finite(np.nanmean(rs)) if rs else None
        noise = _finite(np.nanmedian(spread)) if spread is not None else None
    k = valid.shape[1]
    reliability = None
    if r1 is not None and r1 > 0:
        reliability = _finite(k * r1 / (1 + (k - 1) * r1))
    return {
        "seed_kendall_tau": tau,
        "seed_pearson": r1,
        "seed_mean_reliability": reliability,
        "seed_std_valid": noise,
        "valid_test_pearson": pearson,
    }
