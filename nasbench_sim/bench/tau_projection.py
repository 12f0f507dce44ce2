"""Kendall τ between two seeds over a whole space, projected from a build in progress.

A table built in pieces comes in cell-index order, so its committed rows are one region of
the space, not a sample of it. A pilot table (random cells of the whole space, trained at
the same protocol) fills in the rest: :class:`ProjectedTau` takes τ-a between two seeds over
the committed rows as they are plus the pilot's rows from outside them, each pilot row
weighted to stand for ``left / len(drawn)`` cells, so that every pair of cells of the
finished table has its share of the sum:

    τ = Σ_{i<j} w_i w_j sign(x_i - x_j) sign(y_i - y_j) / Σ_{i<j} w_i w_j

(``w = 1`` for committed rows). A bootstrap over the pilot's rows gives its interval; a
resample's copies of one pilot row do not make pairs with each other (a pair of copies is
neither concordant nor discordant, and counting it would bias τ towards 0). The pair sums
over committed rows, which the bootstrap does not resample, are computed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ProjectedTau", "TauInterval", "pair_signs"]


def pair_signs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sign(x_i - x_j) * sign(y_i - y_j)`` for every row ``i`` of ``a`` and ``j`` of ``b``
    (each ``(rows, 2)``: two seeds' accuracies), an ``(len(a), len(b))`` array."""
    return np.sign(a[:, None, 0] - b[None, :, 0]) * np.sign(a[:, None, 1] - b[None, :, 1])


def _pairs(a: np.ndarray, block: int = 512) -> float:
    """Σ over pairs ``i < j`` of rows of ``a`` of their :func:`pair_signs`, in blocks of rows
    (an all-pairs array of 100,000 rows would not fit in memory)."""
    return sum(float(pair_signs(a[i : i + block], a).sum()) for i in range(0, len(a), block)) / 2


@dataclass(frozen=True)
class TauInterval:
    """A projected τ-a with its bootstrap interval (``level``, two-sided percentile)."""

    tau: float
    low: float
    high: float
    level: float
    committed_tau: float
    """τ-a over the committed rows alone."""


class ProjectedTau:
    """Weighted τ-a over committed rows (weight 1) and pilot rows (weight ``left / drawn``).

    Args:
        built: the committed rows' accuracies under two seeds, ``(n_built, 2)``.
        drawn: the pilot's rows from outside the committed ones, ``(n_drawn, 2)``.
        left: how many cells of the space the pilot's rows stand for.

    Raises:
        ValueError: arrays not of shape ``(rows, 2)``, fewer than two rows of either, a
            non-finite accuracy (leave out missing runs before), or ``left < 0``.

    Example:
        >>> built = np.array([[0.1, 0.2], [0.2, 0.1], [0.3, 0.4]])
        >>> drawn = np.array([[0.5, 0.6], [0.6, 0.5]])
        >>> round(ProjectedTau(built, drawn, left=0).tau(), 3)  # the committed rows alone
        0.333
    """

    def __init__(self, built: np.ndarray, drawn: np.ndarray, left: int) -> None:
        built, drawn = np.asarray(built, np.float64), np.asarray(drawn, np.float64)
        for name, a in (("built", built), ("drawn", drawn)):
            if a.ndim != 2 or a.shape[1] != 2 or len(a) < 2:
                raise ValueError(f"{name}: expected (rows >= 2, 2) accuracies, got {a.shape}")
            if not np.isfinite(a).all():
                raise ValueError(f"{name}: non-finite accuracies; leave out missing runs first")
        if left < 0:
            raise ValueError(f"left must be >= 0 cells, got {left}")
        self.n_built, self.n_drawn, self.left = len(built), len(drawn), int(left)
        self.weight = left / len(drawn)
        self._s_bb = _pairs(built)
        self._s_bd = pair_signs(drawn, built).sum(axis=1)  # per pilot row, over committed ones
        self._s_dd = pair_signs(drawn, drawn)
        self._n_bb = self.n_built * (self.n_built - 1) / 2

    def tau(self, multiplicity: np.ndarray | None = None) -> float:
        """τ-a with each pilot row taken ``multiplicity[k]`` times (default: once each)."""
        m = np.ones(self.n_drawn) if multiplicity is None else np.asarray(multiplicity, float)
        if m.shape != (self.n_drawn,) or (m < 0).any():
            raise ValueError(f"multiplicity: expected {self.n_drawn} counts >= 0, got {m.shape}")
        w = self.weight
        distinct_pairs = (m.sum() ** 2 - (m**2).sum()) / 2
        num = self._s_bb + w * (m @ self._s_bd) + w * w * (m @ self._s_dd @ m) / 2
        return float(num / (self._n_bb + w * self.n_built * m.sum() + w * w * distinct_pairs))

    def interval(self, resamples: int = 1000, level: float = 0.9, seed: int = 0) -> TauInterval:
        """:meth:`tau` and a percentile bootstrap over the pilot's rows."""
        if resamples < 1 or not 0 < level < 1:
            raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples}, {level}")
        rng = np.random.default_rng(seed)
        n = self.n_drawn
        boot = [self.tau(np.bincount(rng.integers(0, n, n), minlength=n)) for _ in range(resamples)]
        tail = 100 * (1 - level) / 2
        low, high = np.percentile(boot, [tail, 100 - tail])
        return TauInterval(
            tau=self.tau(),
            low=float(low),
            high=float(high),
            level=level,
            committed_tau=self._s_bb / self._n_bb,
        )
