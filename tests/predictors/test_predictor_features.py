"""Feature matrices and targets."""

from __future__ import annotations

import numpy as np
import pytest

from predictors import PredictorError
from predictors.features import (
    cost_features,
    curve_epochs,
    curve_features,
    encoding_features,
    target,
)


def test_curve_features_layout(synthetic_bench) -> None:
    idx = synthetic_bench.table.arch_index[:30]
    k = 5
    f = curve_features(synthetic_bench, idx, k, repeat=None)
    assert f.shape == (30, 3 * k - 1)
    curve = np.stack(
        [synthetic_bench.query_many(idx, epochs=e, repeat=None).valid_acc for e in range(1, k + 1)],
        axis=1,
    )
    np.testing.assert_allclose(f[:, :k], curve)
    np.testing.assert_allclose(f[:, k : 2 * k - 1], np.diff(curve, axis=1))
    np.testing.assert_allclose(f[:, 2 * k - 1 : 3 * k - 3], np.diff(curve, n=2, axis=1))
    np.testing.assert_allclose(f[:, -2], curve[:, -1])
    slope = np.polyfit(np.arange(1, k + 1), curve.T, 1)[0]
    np.testing.assert_allclose(f[:, -1], slope, atol=1e-12)


def test_curve_features_follow_the_seed(synthetic_bench) -> None:
    idx = synthetic_bench.table.arch_index[:50]
    a = curve_features(synthetic_bench, idx, 3, repeat=0)
    b = curve_features(synthetic_bench, idx, 3, repeat=1)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, curve_features(synthetic_bench, idx, 3, repeat=0))
    assert curve_features(synthetic_bench, idx, 1).shape == (50, 3)


@pytest.mark.parametrize("k", [0, 13, 2.5])
def test_curve_features_reject_bad_k(synthetic_bench, k) -> None:
    with pytest.raises(PredictorError, match=r"1\.\.12"):
        curve_features(synthetic_bench, [1, 2], k)


def test_targets(synthetic_bench) -> None:
    idx = synthetic_bench.table.arch_index[:40]
    rows = np.arange(40)
    y = target(synthetic_bench, idx)
    table_mean = synthetic_bench.table.metrics["valid_acc"][rows, :, -1].mean(axis=1)
    np.testing.assert_allclose(y, table_mean, rtol=1e-6)
    test = target(synthetic_bench, idx, "test_final_mean")
    assert np.corrcoef(y, test)[0, 1] > 0.95
    seen = target(synthetic_bench, idx, "valid_final")
    assert np.abs(seen - y).max() < 0.05 and not np.array_equal(seen, y)
    with pytest.raises(PredictorError, match="allowed: valid_final_mean"):
        target(synthetic_bench, idx, "final")


def test_encodings_and_costs(synthetic_bench) -> None:
    idx = np.array([0, 1, 15624])
    one = encoding_features(synthetic_bench.space, idx, "onehot")
    assert one.shape == (3, 30) and (one.sum(axis=1) == 6).all()
    assert encoding_features(synthetic_bench.space, idx, "path").shape == (3, 84)
    with pytest.raises(PredictorError, match="allowed"):
        encoding_features(synthetic_bench.space, idx, "graph")
    cost = cost_features(synthetic_bench, synthetic_bench.table.arch_index[:20])
    assert cost.shape == (20, 2) and np.isfinite(cost).all()
    # Parameter count and FLOPs order cells the same way on the synthetic table.
    assert (np.argsort(cost[:, 0], kind="stable") == np.argsort(cost[:, 1], kind="stable")).all()


def test_curve_epochs() -> None:
    assert curve_epochs(20, 0.25) == 5
    assert curve_epochs(20, 0.01) == 1
    assert curve_epochs(20, 1.0) == 20
    with pytest.raises(PredictorError, match=r"\(0, 1\]"):
        curve_epochs(20, 0.0)
