"""Common random numbers: the hashes behind every random draw a benchmark answers with.

A query with ``repeat=None`` must say which training run of a cell it reads (a table holds
``n_seeds`` repeats of each cell; a surrogate models as many), and a surrogate must say what
noise that repeat carries. Both draws are fixed functions of their keys rather than the next
numbers of a random stream: the training seed a cell answers with is a hash of
``(run seed, cell)`` (:func:`crn_repeats` for a table's rows; :func:`mix64` of the equivalence
class for a surrogate), and a surrogate repeat's noise is a hash of
``(noise seed, class, repeat, epoch)`` (:func:`std_normal`). So every strategy replayed with
the same run seed sees the same training seed, and the same noise, for the same cell, whatever
order it queries cells in and however many it queries: the strategies are compared on paired
draws (their differences are not blurred by which repeat each happened to read), and re-running
a search reproduces it exactly. A new run seed (:meth:`~nasbench_sim.bench.Benchmark.with_run_seed`)
draws a new, independent set of repeats.

The hashes are splitmix64's output function on uint64 arrays (vectorised, wrapping
arithmetic); their values are pinned by the tests and must never change, or every recorded run
would replay differently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

__all__ = ["MASK64", "crn_repeats", "mix64", "std_normal"]

MASK64 = (1 << 64) - 1
"""The low 64 bits: a Python int key (a run seed may be negative or large) as a uint64."""

_GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio: splitmix64's increment
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)


def _finish(z: Any) -> Any:
    """splitmix64's output function (xor-shift-multiply, twice, then a last xor-shift)."""
    with np.errstate(over="ignore"):  # uint64 products wrap by design
        z = (z ^ (z >> np.uint64(30))) * _MUL1
        z = (z ^ (z >> np.uint64(27))) * _MUL2
    return z ^ (z >> np.uint64(31))


def crn_repeats(
    run_seed: int, n_rows: int, n_seeds: int, present: np.ndarray | None = None
) -> np.ndarray:
    """The repeat each row of a table answers ``repeat=None`` with: a hash of
    ``(run_seed, row)`` mod ``n_seeds``.

    Args:
        run_seed: the benchmark's run seed (any Python int; its low 64 bits after scaling).
        n_rows: rows of the table.
        n_seeds: repeats per row.
        present: bool ``(n_rows, n_seeds)``, which runs each row has; a row then draws among
            its own runs: the ``(h mod k)``-th present run of a row with ``k`` runs, which is
            the same repeat as without ``present`` when the row is complete (a row without
            any run answers 0).

    Returns:
        int64 ``(n_rows,)``.
    """
    with np.errstate(over="ignore"):
        z = np.arange(n_rows, dtype=np.uint64) + np.uint64((run_seed * _GOLDEN) & MASK64)
        z = _finish(z * _MUL1 + _MUL2)
    if present is None or present.all():
        return (z % np.uint64(n_seeds)).astype(np.int64)
    k = present.sum(axis=1).astype(np.uint64)
    j = (z % np.maximum(k, np.uint64(1))).astype(np.int64)
    return np.argmax(np.cumsum(present, axis=1) > j[:, None], axis=1).astype(np.int64)


def mix64(*keys: Any) -> Any:
    """splitmix64 hash of the broadcast uint64 ``keys``, folded in order.

    Returns:
        uint64 of the keys' broadcast shape (a numpy scalar for scalar keys).
    """
    arrays = np.broadcast_arrays(*[np.asarray(k, dtype=np.uint64) for k in keys])
    h = np.full(arrays[0].shape, _GOLDEN, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in arrays:
            h = _finish(h ^ (k + np.uint64(_GOLDEN)))
    return h


def std_normal(*keys: Any) -> np.ndarray:
    """A standard normal draw per broadcast key tuple: the inverse normal CDF of the top 53
    bits of :func:`mix64` (a uniform strictly inside ``(0, 1)``)."""
    u = ((mix64(*keys) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    return np.asarray(ndtri(u), dtype=np.float64)
