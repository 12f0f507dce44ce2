"""Learning-curve extrapolation with support-vector regression, after Baker et al. (2018),
"Accelerating Neural Architecture Search using Performance Prediction"."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import KFold, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import NuSVR

from nasbench_sim.bench import Benchmark
from predictors.base import BenchOrSpace, Predictor, PredictorError, check_X, check_Xy, seed_of
from predictors.features import cost_features, curve_epochs, curve_features, encoding_features

__all__ = ["LearningCurveSVR"]


class LearningCurveSVR(Predictor):
    """``NuSVR`` on a partial validation curve plus architecture features.

    Features (:meth:`featurize`): the first ``k`` epochs of the validation curve, their first
    and second differences, the last value and slope (:func:`~predictors.features.
    curve_features`), the cell's ``encoding`` and ``log10`` params and FLOPs. A scaler
    standardises features and target; ``C``, ``nu`` and ``gamma`` are picked by
    ``RandomizedSearchCV`` (``n_iter`` draws, ``cv``-fold) seeded from ``random_state``.

    Args:
        curve_fraction: fraction of the curve observed when :meth:`featurize` is called
            without ``epochs`` (``k = round(fraction * n_epochs)``, at least 1).
        encoding: architecture encoding appended to the curve features (``"none"`` to omit).
        n_iter: hyper-parameter draws of the random search.
        cv: cross-validation folds (capped by the training-set size).
        random_state: seed (``None`` means 0).

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> from predictors.features import target
        >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=8))
        >>> idx = bench.table.arch_index[:60]
        >>> p = LearningCurveSVR(n_iter=4).fit_cells(bench, idx, target(bench, idx))
        >>> p.predict_cells(bench, bench.table.arch_index[60:63]).shape
        (3,)
    """

    name = "lcsvr"
    needs_curve = True

    def __init__(
        self,
        curve_fraction: float = 0.25,
        encoding: str = "onehot",
        n_iter: int = 20,
        cv: int = 3,
        random_state: Any = None,
    ) -> None:
        self.curve_fraction = curve_fraction
        self.encoding = encoding
        self.n_iter = n_iter
        self.cv = cv
        self.random_state = random_state

    def featurize(
        self,
        bench: BenchOrSpace,
        indices: Any,
        *,
        epochs: int | None = None,
        repeat: Any = None,
    ) -> np.ndarray:
        """Curve features of the first ``epochs`` epochs (default from ``curve_fraction``),
        then the encoding and cost features."""
        if not isinstance(bench, Benchmark):
            raise PredictorError(
                "LearningCurveSVR reads partial learning curves: featurize needs a Benchmark, "
                f"got {type(bench).__name__}"
            )
        k = curve_epochs(bench.n_epochs, self.curve_fraction) if epochs is None else epochs
        parts = [curve_features(bench, indices, k, repeat=repeat), cost_features(bench, indices)]
        if self.encoding != "none":
            parts.append(encoding_features(bench.space, indices, self.encoding))
        return np.concatenate(parts, axis=1)

    def fit(self, X: Any, y: Any) -> LearningCurveSVR:
        Xa, ya = check_Xy(X, y)
        n = Xa.shape[0]
        if n < 4:
            raise PredictorError(f"LearningCurveSVR needs at least 4 training curves, got {n}")
        rng = np.random.default_rng(seed_of(self.random_state))
        model = TransformedTargetRegressor(
            regressor=Pipeline([("scale", StandardScaler()), ("svr", NuSVR())]),
            transformer=StandardScaler(),
        )
        search = RandomizedSearchCV(
            model,
            {
                "regressor__svr__C": loguniform(1e-1, 1e2),
                "regressor__svr__nu": uniform(0.1, 0.8),
                "regressor__svr__gamma": loguniform(1e-4, 1e-1),
            },
            n_iter=self.n_iter,
            cv=KFold(min(self.cv, n // 2), shuffle=True, random_state=int(rng.integers(2**31))),
            scoring="neg_mean_squared_error",
            random_state=int(rng.integers(2**31)),
            refit=True,
        )
        search.fit(Xa, ya)
        self.model_ = search.best_estimator_
        self.best_params_ = {k.rsplit("__", 1)[1]: v for k, v in search.best_params_.items()}
        self.n_features_in_ = Xa.shape[1]
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        self._no_std(return_std)
        self._check_fitted("model_")
        Xa = check_X(X)
        return np.asarray(self.model_.predict(Xa), dtype=np.float64)
