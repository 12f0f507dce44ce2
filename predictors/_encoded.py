"""A shared base for predictors that regress a scikit-learn model on a vector encoding."""

from __future__ import annotations

from typing import Any

import numpy as np

from predictors.base import BenchOrSpace, Predictor, check_X, check_Xy, space_of
from predictors.features import encoding_features

__all__ = ["EncodedPredictor"]


class EncodedPredictor(Predictor):
    """Features = the space's ``encoding`` of each cell; the model comes from
    :meth:`_make_model`. Subclasses define ``__init__`` (storing ``encoding`` and
    ``random_state`` among their arguments) and ``_make_model``."""

    encoding: str
    random_state: Any

    def featurize(
        self,
        bench: BenchOrSpace,
        indices: Any,
        *,
        epochs: int | None = None,
        repeat: Any = None,
    ) -> np.ndarray:
        """The ``encoding`` of each cell (``epochs`` and ``repeat`` are ignored)."""
        return encoding_features(space_of(bench), indices, self.encoding)

    def _make_model(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X: Any, y: Any) -> EncodedPredictor:
        Xa, ya = check_Xy(X, y)
        self.model_ = self._make_model().fit(Xa, ya)
        self.n_features_in_ = Xa.shape[1]
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        self._no_std(return_std)
        self._check_fitted("model_")
        Xa = check_X(X)
        return np.asarray(self.model_.predict(Xa), dtype=np.float64)
