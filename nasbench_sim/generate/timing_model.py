"""The training-time model: per-cell seconds per epoch, predicted from cost features.

Batched training does not time one cell alone, so a table's ``cost/train_time_s`` is modelled:
every chunk times a few of its cells trained alone (``cost/train_time_measured_s``, NaN for
the others); at assembly a non-negative linear regression on standardised features (FLOPs,
parameters, and the number of 3x3 convolutions, 1x1 convolutions, pooling and skip edges) is
fitted to those measurements and predicts every cell. Its K-fold cross-validated mean absolute
percentage error (MAPE) is written into the table's provenance next to the method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench_sim.space import NB201Space

__all__ = ["TimingModel", "fit_timing_model", "timing_features"]

METHOD = (
    "sklearn LinearRegression(positive=True) on standardised [flops, params, n_conv3x3, "
    "n_conv1x1, n_pool, n_skip]; target: median step time of the cell trained alone x steps "
    "per epoch; error: K-fold (K = min(5, n)) cross-validated MAPE"
)
FALLBACK = "median of the measured cells (fewer than 4 measurements)"


@dataclass(frozen=True)
class TimingModel:
    """A fitted training-time model and its predictions.

    Attributes:
        method: how the prediction was made.
        n_measured: cells timed alone.
        cv_mape: cross-validated mean absolute percentage error (NaN if not computable).
        predicted: seconds per epoch, one per cell; measured cells keep their measurement.
    """

    method: str
    n_measured: int
    cv_mape: float
    predicted: np.ndarray

    def provenance(self) -> dict[str, object]:
        return {
            "timing_model_method": self.method,
            "timing_model_n_measured": self.n_measured,
            "timing_model_cv_mape": None if np.isnan(self.cv_mape) else float(self.cv_mape),
        }


def timing_features(arch_index: np.ndarray, flops: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Feature matrix ``(n, 6)`` of the timing model."""
    ops = NB201Space().ops_matrix(np.asarray(arch_index, dtype=np.int64))
    counts = [(ops == k).sum(axis=1) for k in (3, 2, 4, 1)]
    return np.column_stack([flops, params, *counts]).astype(np.float64)


def fit_timing_model(
    arch_index: np.ndarray, flops: np.ndarray, params: np.ndarray, measured: np.ndarray
) -> TimingModel:
    """Fit on the cells with a finite ``measured`` time, predict all cells."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_absolute_percentage_error
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler

    measured = np.asarray(measured, dtype=np.float64)
    mask = np.isfinite(measured)
    n = int(mask.sum())
    if n == 0:
        return TimingModel(
            "none (no cell was timed)", 0, float("nan"), np.full_like(measured, np.nan)
        )
    x = timing_features(arch_index, flops, params)
    y = measured[mask]
    if n < 4:
        pred = np.full_like(measured, float(np.median(y)))
        return TimingModel(FALLBACK, n, float("nan"), np.where(mask, measured, pred))

    def model() -> Pipeline:
        return make_pipeline(StandardScaler(), LinearRegression(positive=True))

    cv = KFold(n_splits=min(5, n), shuffle=True, random_state=0)
    cv_pred = cross_val_predict(model(), x[mask], y, cv=cv)
    floor = 0.5 * float(y.min())
    mape = float(mean_absolute_percentage_error(y, np.maximum(cv_pred, floor)))
    fitted = model().fit(x[mask], y)
    pred = np.maximum(fitted.predict(x), floor)
    return TimingModel(METHOD, n, mape, np.where(mask, measured, pred))
