"""The predictor registry, in the one registry shape (:class:`~nasbench_sim.registry.Registry`).

The predictor-guided search strategies of this package are registered, by name, in
:data:`nasbench_sim.strategies.STRATEGIES`."""

from __future__ import annotations

from typing import Any

from nasbench_sim.registry import Entry, Registry
from predictors.bananas import BananasPredictor
from predictors.base import Predictor, PredictorError
from predictors.baselines import KNNPredictor, RandomForestPredictor, RidgePredictor
from predictors.ensemble import EnsemblePredictor
from predictors.gcn import GCNPredictor
from predictors.lcsvr import LearningCurveSVR
from predictors.xgb import XGBoostPredictor

__all__ = ["DEFAULT_PREDICTORS", "PREDICTORS", "create_predictor"]

PREDICTORS = Registry(
    "predictor",
    [
        Entry(
            "lcsvr",
            LearningCurveSVR,
            "LC-SVR",
            "learning-curve SVR (Baker et al. 2018)",
            features=("curves",),
        ),
        Entry("xgb", XGBoostPredictor, "XGBoost", "gradient-boosted trees on the encoding"),
        Entry("gcn", GCNPredictor, "GCN", "graph convolutional network", requires=("torch",)),
        Entry("bananas", BananasPredictor, "BANANAS", "MLP ensemble on the path encoding"),
        Entry("rf", RandomForestPredictor, "Random forest"),
        Entry("ridge", RidgePredictor, "Ridge"),
        Entry("knn", KNNPredictor, "k-NN"),
        Entry("ensemble", EnsemblePredictor, "Bootstrap ensemble", "wraps base= (default xgb)"),
    ],
    arg_error=PredictorError,
)
"""Every predictor by name. ``ensemble`` wraps another one (``base=``, default ``"xgb"``);
``gcn`` needs torch (``pip install -e ".[train]"``); ``lcsvr`` needs per-epoch learning curves
(``features``; NAS-Bench-101's budgets are separate runs, not a curve)."""

DEFAULT_PREDICTORS: tuple[str, ...] = ("lcsvr", "xgb", "gcn", "bananas", "rf", "ridge", "knn")
"""What ``nasbench-sim predictors`` evaluates when none are named (the installed ones)."""


def create_predictor(name: str, **kwargs: Any) -> Predictor:
    """A new, unfitted predictor.

    Args:
        name: a key of :data:`PREDICTORS`.
        **kwargs: constructor arguments of that predictor.

    Raises:
        RegistryError: for an unknown name (the message lists the valid ones).
        PredictorError: for an argument the predictor does not take.
        MissingDependencyError: the predictor needs torch and torch is not installed.

    Example:
        >>> create_predictor("xgb", n_estimators=50).n_estimators
        50
    """
    predictor: Predictor = PREDICTORS.create(name, **kwargs)
    return predictor
