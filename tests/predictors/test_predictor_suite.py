"""One shared suite over every registered predictor (synthetic table from conftest)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.errors import NasBenchSimError, RegistryError
from predictors import PREDICTORS, Predictor, PredictorError, create_predictor
from predictors.features import target

NAMES = sorted(PREDICTORS)
N_TRAIN, N_TEST = 200, 400


@pytest.fixture(scope="module")
def split(synthetic_bench: TabularBenchmark) -> dict[str, np.ndarray]:
    perm = np.random.default_rng(7).permutation(synthetic_bench.table.arch_index)
    train, test = perm[:N_TRAIN], perm[N_TRAIN : N_TRAIN + N_TEST]
    return {
        "train": train,
        "test": test,
        "y_train": target(synthetic_bench, train),
        "y_test": target(synthetic_bench, test),
    }


_CACHE: dict[tuple[str, int], tuple[Predictor, np.ndarray, np.ndarray]] = {}


def _fitted(
    name: str, seed: int, bench: TabularBenchmark, split: dict[str, Any]
) -> tuple[Predictor, np.ndarray, np.ndarray]:
    """(predictor, test features, predictions) for one seed, fitted once per module."""
    key = (name, seed)
    if key not in _CACHE:
        p = create_predictor(name, random_state=seed)
        X_train = p.featurize(bench, split["train"])
        X_test = p.featurize(bench, split["test"])
        returned = p.fit(X_train, split["y_train"])
        assert returned is p
        _CACHE[key] = (p, X_test, p.predict(X_test))
    return _CACHE[key]


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_predicts_finite(name, synthetic_bench, split) -> None:
    p, X_test, pred = _fitted(name, 0, synthetic_bench, split)
    assert isinstance(p, Predictor) and p.name == name
    assert pred.shape == (N_TEST,)
    assert pred.dtype == np.float64
    assert np.isfinite(pred).all()
    assert X_test.ndim == 2 and X_test.shape[0] == N_TEST


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_predictions(name, synthetic_bench, split) -> None:
    _, X_test, pred = _fitted(name, 0, synthetic_bench, split)
    again = create_predictor(name, random_state=0)
    again.fit(again.featurize(synthetic_bench, split["train"]), split["y_train"])
    np.testing.assert_array_equal(again.predict(X_test), pred)


@pytest.mark.parametrize("name", NAMES)
def test_different_seed_changes_stochastic_predictors(name, synthetic_bench, split) -> None:
    _, _, pred0 = _fitted(name, 0, synthetic_bench, split)
    _, _, pred1 = _fitted(name, 1, synthetic_bench, split)
    if PREDICTORS.load(name).stochastic:
        assert not np.array_equal(pred0, pred1)
    else:
        np.testing.assert_array_equal(pred0, pred1)


@pytest.mark.parametrize("name", NAMES)
def test_beats_a_constant_predictor(name, synthetic_bench, split) -> None:
    _, _, pred = _fitted(name, 0, synthetic_bench, split)
    tau = stats.kendalltau(pred, split["y_test"]).statistic
    assert tau > 0.3, f"{name}: Kendall tau {tau:.3f} with {N_TRAIN} training cells"
    # ... and its errors are smaller than those of the training mean.
    mse = np.mean((pred - split["y_test"]) ** 2)
    mse_const = np.mean((split["y_train"].mean() - split["y_test"]) ** 2)
    assert mse < mse_const


@pytest.mark.parametrize("name", NAMES)
def test_return_std(name, synthetic_bench, split) -> None:
    p, X_test, pred = _fitted(name, 0, synthetic_bench, split)
    if p.has_std:
        mean, std = p.predict(X_test, return_std=True)
        np.testing.assert_allclose(mean, pred)
        assert std.shape == pred.shape and (std >= 0).all() and std.max() > 0
    else:
        with pytest.raises(PredictorError, match="EnsemblePredictor"):
            p.predict(X_test, return_std=True)


@pytest.mark.parametrize("name", NAMES)
def test_sklearn_conventions(name, synthetic_bench, split) -> None:
    p = create_predictor(name, random_state=3)
    params = p.get_params()
    assert params["random_state"] == 3
    assert clone(p).get_params() == params
    # Unfitted: a typed error, no learned attributes yet.
    assert not [k for k in vars(p) if k.endswith("_") and not k.startswith("_")]
    X = p.featurize(synthetic_bench, split["test"][:5])
    with pytest.raises(PredictorError, match="not fitted"):
        p.predict(X)


@pytest.mark.parametrize("name", NAMES)
def test_cell_level_helpers_match_matrix_api(name, synthetic_bench, split) -> None:
    p, X_test, pred = _fitted(name, 0, synthetic_bench, split)
    np.testing.assert_array_equal(p.predict_cells(synthetic_bench, split["test"]), pred)
    cells = [synthetic_bench.space.from_index(int(i)) for i in split["test"][:4]]
    np.testing.assert_array_equal(p.featurize(synthetic_bench, cells), X_test[:4])


@pytest.mark.parametrize("name", NAMES)
def test_architecture_only_predictors_need_no_benchmark(name, synthetic_bench, split) -> None:
    p = create_predictor(name)
    needs = p.needs_curve or getattr(p, "base_needs_curve", False)
    if needs:
        with pytest.raises(PredictorError, match="Benchmark"):
            p.featurize(synthetic_bench.space, split["test"][:3])
    else:
        np.testing.assert_array_equal(
            p.featurize(synthetic_bench.space, split["test"][:3]),
            p.featurize(synthetic_bench, split["test"][:3]),
        )


def test_bad_input_raises_typed_errors(synthetic_bench, split) -> None:
    p = create_predictor("ridge")
    X = p.featurize(synthetic_bench, split["train"])
    with pytest.raises(PredictorError, match="rows"):
        p.fit(X, split["y_train"][:-1])
    with pytest.raises(PredictorError, match="2-D"):
        p.fit(X[0], split["y_train"][:1])
    with pytest.raises(PredictorError, match="NaN"):
        p.fit(X, np.full(X.shape[0], np.nan))
    with pytest.raises(PredictorError, match="integers"):
        p.featurize(synthetic_bench, np.array([1.5]))
    with pytest.raises(PredictorError, match="allowed: onehot, path"):
        create_predictor("xgb", encoding="adjacency").featurize(synthetic_bench, [1, 2])


def test_registry_lists_names_on_error() -> None:
    with pytest.raises(RegistryError, match="known predictors: bananas, ensemble, gcn"):
        create_predictor("transformer")
    with pytest.raises(PredictorError, match="valid arguments"):
        create_predictor("xgb", n_trees=3)
    assert issubclass(PredictorError, NasBenchSimError)
    assert set(PREDICTORS) >= {"lcsvr", "xgb", "gcn", "bananas", "rf", "ridge", "knn"}


def test_ensemble_wraps_any_predictor(synthetic_bench, split) -> None:
    p = create_predictor("ensemble", base="ridge", n_estimators=6, random_state=0)
    p.fit_cells(synthetic_bench, split["train"], split["y_train"])
    mean, std = p.predict_cells(synthetic_bench, split["test"], return_std=True)
    assert len(p.members_) == 6 and std.min() > 0
    # Bootstrap spread is larger far from the data: cells at chance vs typical ones differ.
    tau = stats.kendalltau(mean, split["y_test"]).statistic
    assert tau > 0.5
    curve = create_predictor("ensemble", base="lcsvr", n_estimators=2, random_state=0)
    assert curve.base_needs_curve
