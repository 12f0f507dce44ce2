"""The predictor convention shared by every performance predictor.

One convention everywhere: a predictor is a scikit-learn regressor on a **feature matrix**, and
it knows how to build that matrix for itself.

* ``X = predictor.featurize(bench, indices, epochs=None, repeat=None)`` turns cell indices (or
  cells, or their strings) into the 2-D float matrix that predictor consumes. It depends only
  on the constructor arguments, never on fitted state, so it can be called before ``fit`` and
  for any candidate set. Predictors that need no learning curve (``needs_curve = False``)
  accept a bare :class:`~nasbench_sim.space.SearchSpace` in place of the benchmark; those
  that do (``needs_curve = True``) read the first ``epochs`` epochs of the validation curve
  from the benchmark, as a search would see them (``repeat=None``: the run-seed draw, or
  the default of a :meth:`~nasbench_sim.bench.Benchmark.with_default_repeat` view).
* ``fit(X, y) -> self`` and ``predict(X)`` follow scikit-learn; ``predict(X, return_std=True)``
  returns ``(mean, std)`` for predictors with ``has_std = True`` (the MLP ensemble, the random
  forest and :class:`~predictors.ensemble.EnsemblePredictor`, which gives any predictor a
  bootstrap spread).
* ``fit_cells`` / ``predict_cells`` chain the two for callers that think in cells, such as
  predictor-guided search strategies::

      >>> import numpy as np
      >>> from nasbench_sim.space import NB201Space
      >>> from predictors import create_predictor
      >>> space = NB201Space()
      >>> idx = np.arange(0, 15625, 300)
      >>> p = create_predictor("ridge").fit_cells(space, idx, (idx % 7) / 7.0)
      >>> p.predict_cells(space, np.array([3, 4])).shape
      (2,)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from nasbench_sim.bench import Benchmark
from nasbench_sim.checks import is_int
from nasbench_sim.errors import NasBenchSimError
from nasbench_sim.space import SearchSpace

__all__ = [
    "BenchOrSpace",
    "Predictor",
    "PredictorError",
    "check_X",
    "check_Xy",
    "seed_of",
    "space_of",
]

BenchOrSpace = Benchmark | SearchSpace


class PredictorError(NasBenchSimError, ValueError):
    """A predictor was given bad arguments or data (wrong shapes, unknown options, unfitted)."""


def space_of(source: BenchOrSpace) -> SearchSpace:
    """The search space of a benchmark, or the space itself."""
    if isinstance(source, SearchSpace):
        return source
    space = getattr(source, "space", None)
    if not isinstance(space, SearchSpace):
        raise PredictorError(f"expected a Benchmark or a SearchSpace, got {type(source).__name__}")
    return space


def check_X(X: Any) -> np.ndarray:
    """Validate a feature matrix: 2-D, at least one row, finite; returned as float64."""
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim != 2:
        raise PredictorError(
            f"X must be a 2-D feature matrix from predictor.featurize(...), got shape {Xa.shape}"
        )
    if Xa.shape[0] == 0:
        raise PredictorError("X has no rows")
    if not np.isfinite(Xa).all():
        raise PredictorError("X contains NaN or infinite values")
    return Xa


def check_Xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a feature matrix and a target (1-D, finite, one value per row)."""
    Xa = check_X(X)
    ya = np.asarray(y, dtype=np.float64).reshape(-1)
    if ya.shape[0] != Xa.shape[0]:
        raise PredictorError(f"X has {Xa.shape[0]} rows but y has {ya.shape[0]} values")
    if not np.isfinite(ya).all():
        raise PredictorError("y contains NaN or infinite values")
    return Xa, ya


class Predictor(RegressorMixin, BaseEstimator):
    """Base class of every predictor (see the module docstring for the convention).

    Class attributes:
        name: the registry name.
        needs_curve: True when :meth:`featurize` reads partial learning curves.
        has_std: True when ``predict(X, return_std=True)`` is supported.
        stochastic: True when ``random_state`` changes the fitted model.
    """

    name: ClassVar[str] = "predictor"
    needs_curve: ClassVar[bool] = False
    has_std: ClassVar[bool] = False
    stochastic: ClassVar[bool] = True

    def featurize(
        self,
        bench: BenchOrSpace,
        indices: Any,
        *,
        epochs: int | None = None,
        repeat: Any = None,
    ) -> np.ndarray:
        """The feature matrix ``(n, n_features)`` this predictor consumes for ``indices``.

        Args:
            bench: a benchmark (or, when ``needs_curve`` is False, a search space).
            indices: cell indices, cells or cell strings.
            epochs: epochs of learning curve observed (curve predictors only).
            repeat: which repeat the curve comes from (``None``: the benchmark's run-seed draw).
        """
        raise NotImplementedError

    def fit(self, X: Any, y: Any) -> Predictor:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X: Any, return_std: bool = False) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- cell-level convenience --------------------------------------------------------------
    def fit_cells(
        self, bench: BenchOrSpace, indices: Any, y: Any, **featurize_kw: Any
    ) -> Predictor:
        """``fit(featurize(bench, indices, **featurize_kw), y)``."""
        return self.fit(self.featurize(bench, indices, **featurize_kw), y)

    def predict_cells(
        self, bench: BenchOrSpace, indices: Any, return_std: bool = False, **featurize_kw: Any
    ) -> Any:
        """``predict(featurize(bench, indices, **featurize_kw), return_std)``."""
        return self.predict(self.featurize(bench, indices, **featurize_kw), return_std=return_std)

    # -- helpers for subclasses --------------------------------------------------------------
    def _check_fitted(self, attr: str) -> None:
        if not hasattr(self, attr):
            raise PredictorError(f"{type(self).__name__} is not fitted yet; call fit(X, y) first")

    def _no_std(self, return_std: bool) -> None:
        if return_std and not self.has_std:
            raise PredictorError(
                f"{type(self).__name__} has no native uncertainty; wrap it in "
                "EnsemblePredictor(base=...) for predict(X, return_std=True)"
            )


def seed_of(random_state: Any) -> int:
    """A 32-bit int seed from ``random_state`` (None -> 0, int, or a ``SeedSequence``)."""
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.SeedSequence):
        return int(random_state.generate_state(1)[0])
    if is_int(random_state):
        return int(random_state) % (2**32)
    raise PredictorError(
        f"random_state must be None, an int or a numpy SeedSequence, got {random_state!r}"
    )
