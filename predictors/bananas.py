"""The BANANAS predictor (White et al. 2021): an ensemble of small MLPs on the path encoding."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from predictors._encoded import EncodedPredictor
from predictors.base import PredictorError, check_X, check_Xy, seed_of

__all__ = ["BananasPredictor"]


class BananasPredictor(EncodedPredictor):
    """``n_models`` scikit-learn ``MLPRegressor`` networks, each from its own child seed.

    ``predict(X, return_std=True)`` returns the ensemble mean and the spread (standard
    deviation) across members, the uncertainty BANANAS' acquisition function uses.

    Args:
        encoding: ``"path"`` (BANANAS) or ``"onehot"``.
        n_models: ensemble size.
        hidden_layer_sizes: widths of the hidden layers.
        alpha: L2 penalty.
        learning_rate_init: Adam step size.
        max_iter: most training epochs (Adam stops early once the loss stalls).
        random_state: seed (``None`` means 0); members get ``SeedSequence.spawn`` children.
    """

    name = "bananas"
    has_std = True

    def __init__(
        self,
        encoding: str = "path",
        n_models: int = 5,
        hidden_layer_sizes: tuple[int, ...] = (64, 64),
        alpha: float = 1e-2,
        learning_rate_init: float = 3e-3,
        max_iter: int = 200,
        random_state: Any = None,
    ) -> None:
        self.encoding = encoding
        self.n_models = n_models
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> BananasPredictor:
        Xa, ya = check_Xy(X, y)
        if self.n_models < 1:
            raise PredictorError(f"n_models must be >= 1, got {self.n_models}")
        self.y_mean_ = float(ya.mean())
        self.y_scale_ = float(ya.std()) or 1.0
        z = (ya - self.y_mean_) / self.y_scale_
        children = np.random.SeedSequence(seed_of(self.random_state)).spawn(self.n_models)
        members = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for child in children:
                mlp = MLPRegressor(
                    hidden_layer_sizes=tuple(self.hidden_layer_sizes),
                    alpha=self.alpha,
                    learning_rate_init=self.learning_rate_init,
                    batch_size=min(64, Xa.shape[0]),
                    max_iter=self.max_iter,
                    random_state=int(child.generate_state(1)[0]),
                )
                members.append(mlp.fit(Xa, z))
        self.members_ = members
        self.model_ = members[0]
        self.n_features_in_ = Xa.shape[1]
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        self._check_fitted("members_")
        Xa = check_X(X)
        preds = np.stack([m.predict(Xa) for m in self.members_]) * self.y_scale_ + self.y_mean_
        mean = preds.mean(axis=0)
        return (mean, preds.std(axis=0)) if return_std else mean
