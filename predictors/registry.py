"""The predictor registry: one dict from name to class, and :func:`create_predictor`."""

from __future__ import annotations

from typing import Any

from nasbench_sim.errors import RegistryError
from predictors.bananas import BananasPredictor
from predictors.base import Predictor
from predictors.baselines import KNNPredictor, RandomForestPredictor, RidgePredictor
from predictors.ensemble import EnsemblePredictor
from predictors.gcn import GCNPredictor
from predictors.lcsvr import LearningCurveSVR
from predictors.xgb import XGBoostPredictor

__all__ = ["PREDICTORS", "create_predictor"]

PREDICTORS: dict[str, type[Predictor]] = {
    "lcsvr": LearningCurveSVR,
    "xgb": XGBoostPredictor,
    "gcn": GCNPredictor,
    "bananas": BananasPredictor,
    "rf": RandomForestPredictor,
    "ridge": RidgePredictor,
    "knn": KNNPredictor,
    "ensemble": EnsemblePredictor,
}
"""Every predictor by name. ``ensemble`` wraps another one (``base=``, default ``"xgb"``)."""


def create_predictor(name: str, **kwargs: Any) -> Predictor:
    """A new, unfitted predictor.

    Args:
        name: a key of :data:`PREDICTORS`.
        **kwargs: constructor arguments of that predictor.

    Raises:
        RegistryError: for an unknown name (the message lists the valid ones).
        PredictorError: for an argument the predictor does not take.

    Example:
        >>> create_predictor("xgb", n_estimators=50).n_estimators
        50
    """
    try:
        cls = PREDICTORS[name]
    except KeyError:
        raise RegistryError(
            f"unknown predictor {name!r}; known predictors: {', '.join(sorted(PREDICTORS))}"
        ) from None
    try:
        return cls(**kwargs)
    except TypeError as exc:
        from predictors.base import PredictorError

        valid = ", ".join(sorted(cls._get_param_names()))
        raise PredictorError(f"{name}: {exc}; valid arguments: {valid}") from None
