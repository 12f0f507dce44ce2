"""Baseline predictors: thin scikit-learn wrappers on a vector encoding of the cell."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor

from predictors._encoded import EncodedPredictor
from predictors.base import check_X, check_Xy, seed_of

__all__ = ["KNNPredictor", "RandomForestPredictor", "RidgePredictor"]


class RandomForestPredictor(EncodedPredictor):
    """A random forest on the encoding; ``return_std`` gives the spread over trees.

    Args:
        encoding: ``"onehot"`` or ``"path"``.
        n_estimators: number of trees.
        min_samples_leaf: minimum samples per leaf.
        max_features: features tried per split (scikit-learn semantics).
        n_jobs: threads used by scikit-learn.
        random_state: seed (``None`` means 0).
    """

    name = "rf"
    has_std = True

    def __init__(
        self,
        encoding: str = "onehot",
        n_estimators: int = 200,
        min_samples_leaf: int = 1,
        max_features: float | str = 0.5,
        n_jobs: int | None = 1,
        random_state: Any = None,
    ) -> None:
        self.encoding = encoding
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _make_model(self) -> RandomForestRegressor:
        return RandomForestRegressor(
            n_estimators=self.n_estimators,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            n_jobs=self.n_jobs,
            random_state=seed_of(self.random_state),
        )

    def predict(self, X: Any, return_std: bool = False) -> Any:
        self._check_fitted("model_")
        Xa = check_X(X)
        if not return_std:
            return np.asarray(self.model_.predict(Xa), dtype=np.float64)
        per_tree = np.stack([t.predict(Xa) for t in self.model_.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


class RidgePredictor(EncodedPredictor):
    """Ridge regression on the encoding: a linear (additive per edge-op) model.

    Args:
        encoding: ``"onehot"`` or ``"path"``.
        alpha: L2 penalty.
        random_state: stored for the common interface; the fit is deterministic.
    """

    name = "ridge"
    stochastic = False

    def __init__(self, encoding: str = "onehot", alpha: float = 1.0, random_state: Any = None):
        self.encoding = encoding
        self.alpha = alpha
        self.random_state = random_state

    def _make_model(self) -> Ridge:
        return Ridge(alpha=self.alpha)


class KNNPredictor(EncodedPredictor):
    """k-nearest neighbours on the encoding (Hamming-like distance on one-hot).

    Args:
        encoding: ``"onehot"`` or ``"path"``.
        n_neighbors: neighbours averaged (capped at the training-set size).
        weights: ``"distance"`` or ``"uniform"``.
        random_state: stored for the common interface; the fit is deterministic.
    """

    name = "knn"
    stochastic = False

    def __init__(
        self,
        encoding: str = "onehot",
        n_neighbors: int = 10,
        weights: str = "distance",
        random_state: Any = None,
    ) -> None:
        self.encoding = encoding
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.random_state = random_state

    def _make_model(self) -> KNeighborsRegressor:
        return KNeighborsRegressor(n_neighbors=self.n_neighbors, weights=self.weights)

    def fit(self, X: Any, y: Any) -> KNNPredictor:
        Xa, ya = check_Xy(X, y)
        model = KNeighborsRegressor(
            n_neighbors=min(self.n_neighbors, Xa.shape[0]), weights=self.weights
        )
        self.model_ = model.fit(Xa, ya)
        self.n_features_in_ = Xa.shape[1]
        return self
