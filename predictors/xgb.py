"""Gradient-boosted trees (XGBoost) on a vector encoding of the cell."""

from __future__ import annotations

from typing import Any

from xgboost import XGBRegressor

from predictors._encoded import EncodedPredictor
from predictors.base import seed_of

__all__ = ["XGBoostPredictor"]


class XGBoostPredictor(EncodedPredictor):
    """``xgboost.XGBRegressor`` on the one-hot or path encoding.

    Defaults are tuned for a few dozen to a few thousand training cells: shallow trees, a small
    learning rate and row/column subsampling (which makes ``random_state`` matter).

    Args:
        encoding: ``"onehot"`` or ``"path"``.
        n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight:
            passed to ``XGBRegressor``.
        n_jobs: threads.
        random_state: seed (``None`` means 0).

    Example:
        >>> import numpy as np
        >>> from nasbench_sim.space import NB201Space
        >>> space = NB201Space()
        >>> idx = np.arange(0, 15625, 97)
        >>> p = XGBoostPredictor(n_estimators=20).fit_cells(space, idx, (idx % 5) / 5.0)
        >>> p.predict_cells(space, idx[:3]).shape
        (3,)
    """

    name = "xgb"

    def __init__(
        self,
        encoding: str = "onehot",
        n_estimators: int = 400,
        max_depth: int = 5,
        learning_rate: float = 0.05,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 1.0,
        n_jobs: int = 1,
        random_state: Any = None,
    ) -> None:
        self.encoding = encoding
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _make_model(self) -> XGBRegressor:
        return XGBRegressor(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            tree_method="hist",
            n_jobs=self.n_jobs,
            random_state=seed_of(self.random_state),
        )
