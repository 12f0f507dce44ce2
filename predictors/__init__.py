"""Performance predictors with a scikit-learn style API, their evaluation harness, and the
surrogate benchmark built from them.

Convention (see :mod:`predictors.base`): ``X = p.featurize(bench, indices)``, then
``p.fit(X, y)`` / ``p.predict(X)``; ``fit_cells`` / ``predict_cells`` chain both. torch is
imported only when the GCN trains or predicts.
"""

from __future__ import annotations

from predictors.bananas import BananasPredictor
from predictors.base import Predictor, PredictorError
from predictors.baselines import KNNPredictor, RandomForestPredictor, RidgePredictor
from predictors.ensemble import EnsemblePredictor
from predictors.evaluate import (
    evaluate_predictors,
    lc_fraction_curve,
    noise_ceiling,
    score_predictions,
    summarize,
)
from predictors.features import (
    cost_features,
    curve_features,
    encoding_features,
    target,
)
from predictors.gcn import GCNPredictor
from predictors.lcsvr import LearningCurveSVR
from predictors.registry import PREDICTORS, create_predictor
from predictors.xgb import XGBoostPredictor

__all__ = [
    "PREDICTORS",
    "BananasPredictor",
    "EnsemblePredictor",
    "GCNPredictor",
    "KNNPredictor",
    "LearningCurveSVR",
    "Predictor",
    "PredictorError",
    "RandomForestPredictor",
    "RidgePredictor",
    "XGBoostPredictor",
    "cost_features",
    "create_predictor",
    "curve_features",
    "encoding_features",
    "evaluate_predictors",
    "lc_fraction_curve",
    "noise_ceiling",
    "score_predictions",
    "summarize",
    "target",
]
