"""Feature matrices and targets built from a benchmark and cell indices.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench import TabularBenchmark
    >>> from nasbench_sim.table import make_synthetic_table
    >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=8))
    >>> idx = bench.table.arch_index[:5]
    >>> curve_features(bench, idx, k=4).shape  # 4 values, 3 + 2 differences, last, slope
    (5, 11)
    >>> target(bench, idx).shape
    (5,)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.bench import Benchmark
from nasbench_sim.checks import is_int
from nasbench_sim.space import SearchSpace
from predictors.base import PredictorError

__all__ = [
    "TARGETS",
    "cost_features",
    "curve_epochs",
    "curve_features",
    "encoding_features",
    "target",
]

TARGETS: tuple[str, ...] = ("valid_final_mean", "valid_final", "test_final_mean")
"""Target kinds of :func:`target`."""


def encoding_features(space: SearchSpace, indices: Any, kind: str = "onehot") -> np.ndarray:
    """The space's vector encoding (``"onehot"`` or ``"path"``) as float64 ``(n, d)``."""
    if kind not in space.encodings:
        raise PredictorError(f"unknown encoding {kind!r}; allowed: {', '.join(space.encodings)}")
    return np.asarray(space.encode(space.to_indices(_as_indices(indices)), kind=kind), np.float64)


def cost_features(bench: Benchmark, indices: Any) -> np.ndarray:
    """``log10`` of parameter count and FLOPs, float64 ``(n, 2)``."""
    batch = bench.query_many(_as_indices(indices), epochs=bench.budgets[0], repeat="mean")
    return np.log10(np.maximum(np.stack([batch.params, batch.flops], axis=1), 1.0))


def curve_epochs(n_epochs: int, fraction: float) -> int:
    """Epochs observed when a ``fraction`` of an ``n_epochs`` curve is seen (at least 1)."""
    if not 0.0 < fraction <= 1.0:
        raise PredictorError(f"curve fraction must lie in (0, 1], got {fraction}")
    return max(1, min(n_epochs, round(fraction * n_epochs)))


def curve_features(bench: Benchmark, indices: Any, k: int, repeat: Any = None) -> np.ndarray:
    """Partial validation curves as a search sees them, with summary features.

    Columns: the first ``k`` validation accuracies, their ``k - 1`` first and ``k - 2`` second
    differences, the last value and the least-squares slope per epoch: ``3k - 1`` columns
    (``3`` when ``k == 1``).

    Args:
        bench: the benchmark queried (each epoch is one ``query_many`` lookup).
        indices: cell indices, cells or strings.
        k: epochs observed, ``1 .. bench.n_epochs``.
        repeat: repeat to read (``None``: the run-seed draw, ``"mean"``, or an int).
    """
    if "curves" not in bench.features:
        raise PredictorError(
            f"partial learning curves need per-epoch curves; the {bench.space.name!r} "
            f"benchmark answers budgets {', '.join(map(str, bench.budgets))}, each a separate "
            "training run"
        )
    if not is_int(k) or not 1 <= k <= bench.n_epochs:
        raise PredictorError(f"k (epochs observed) must be an int in 1..{bench.n_epochs}, got {k}")
    idx = bench.space.to_indices(_as_indices(indices))
    n = idx.shape[0]
    epochs = np.tile(np.arange(1, k + 1, dtype=np.int64), n)
    vals = bench.query_many(np.repeat(idx, k), epochs=epochs, repeat=repeat).valid_acc
    curve = np.asarray(vals, dtype=np.float64).reshape(n, k)
    d1 = np.diff(curve, n=1, axis=1)
    d2 = np.diff(curve, n=2, axis=1) if k > 2 else np.zeros((n, 0))
    t = np.arange(1, k + 1, dtype=np.float64)
    if k > 1:
        tc = t - t.mean()
        slope = (curve - curve.mean(axis=1, keepdims=True)) @ tc / (tc @ tc)
    else:
        slope = np.zeros(n)
    out = np.concatenate([curve, d1, d2, curve[:, -1:], slope[:, None]], axis=1)
    return np.nan_to_num(out, nan=0.0)


def target(bench: Benchmark, indices: Any, kind: str = "valid_final_mean") -> np.ndarray:
    """Regression targets ``(n,)`` for ``indices``.

    Kinds:
        ``valid_final_mean``: mean over repeats of the final validation accuracy (default).
        ``valid_final``: final validation accuracy of the run-seed draw (what a search sees).
        ``test_final_mean``: mean final test accuracy (analysis path; never for searches).
    """
    idx = _as_indices(indices)
    if kind == "valid_final_mean":
        return np.asarray(bench.query_many(idx, repeat="mean").valid_acc, dtype=np.float64)
    if kind == "valid_final":
        return np.asarray(bench.query_many(idx, repeat=None).valid_acc, dtype=np.float64)
    if kind == "test_final_mean":
        return np.asarray(bench.test_acc_many(idx, repeat="mean"), dtype=np.float64)
    raise PredictorError(f"unknown target kind {kind!r}; allowed: {', '.join(TARGETS)}")


def _as_indices(indices: Any) -> Any:
    """Integer-like inputs become an int64 array; cells and strings pass through."""
    if isinstance(indices, np.ndarray):
        if indices.dtype.kind in "iu":
            return indices.astype(np.int64, copy=False).reshape(-1)
        if indices.dtype.kind == "f":
            raise PredictorError("cell indices must be integers, got a float array")
        return list(indices)
    if isinstance(indices, (list, tuple)) and all(is_int(i) for i in indices):
        return np.asarray(indices, dtype=np.int64)
    return indices
