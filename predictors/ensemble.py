"""Bootstrap ensembles: ``predict(X, return_std=True)`` for any predictor."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from predictors.base import BenchOrSpace, Predictor, PredictorError, check_X, check_Xy, seed_of

__all__ = ["EnsemblePredictor"]


class EnsemblePredictor(Predictor):
    """Fits ``n_estimators`` clones of ``base`` on bootstrap resamples of the training set.

    ``predict(X)`` is the members' mean; ``predict(X, return_std=True)`` adds their standard
    deviation, the uncertainty Bayesian optimisation needs. Members get child seeds from
    ``SeedSequence(random_state).spawn`` for both their resample and their own
    ``random_state``. :meth:`featurize` is the base predictor's.

    Args:
        base: a registered predictor name or an unfitted :class:`Predictor` instance.
        n_estimators: ensemble size (>= 2 for a meaningful spread).
        bootstrap: resample the training set with replacement for each member (else every
            member sees all of it and only its seed differs).
        random_state: seed (``None`` means 0).

    Example:
        >>> import numpy as np
        >>> from nasbench_sim.space import NB201Space
        >>> space = NB201Space()
        >>> idx = np.arange(0, 15625, 150)
        >>> p = EnsemblePredictor("ridge", n_estimators=4).fit_cells(space, idx, idx % 3)
        >>> mean, std = p.predict_cells(space, idx[:2], return_std=True)
        >>> bool((std >= 0).all())
        True
    """

    name = "ensemble"
    has_std = True

    def __init__(
        self,
        base: str | Predictor = "xgb",
        n_estimators: int = 5,
        bootstrap: bool = True,
        random_state: Any = None,
    ) -> None:
        self.base = base
        self.n_estimators = n_estimators
        self.bootstrap = bootstrap
        self.random_state = random_state

    def _base(self) -> Predictor:
        if isinstance(self.base, Predictor):
            return self.base
        if isinstance(self.base, str):
            from predictors.registry import create_predictor

            if self.base == self.name:
                raise PredictorError("an EnsemblePredictor cannot use 'ensemble' as its base")
            return create_predictor(self.base)
        raise PredictorError(
            f"base must be a predictor name or a Predictor instance, got {type(self.base).__name__}"
        )

    @property
    def base_needs_curve(self) -> bool:
        """Whether the base predictor reads learning curves."""
        return self._base().needs_curve

    def featurize(
        self,
        bench: BenchOrSpace,
        indices: Any,
        *,
        epochs: int | None = None,
        repeat: Any = None,
    ) -> np.ndarray:
        """The base predictor's features."""
        return self._base().featurize(bench, indices, epochs=epochs, repeat=repeat)

    def fit(self, X: Any, y: Any) -> EnsemblePredictor:
        Xa, ya = check_Xy(X, y)
        if self.n_estimators < 1:
            raise PredictorError(f"n_estimators must be >= 1, got {self.n_estimators}")
        proto = self._base()
        n = Xa.shape[0]
        members = []
        for child in np.random.SeedSequence(seed_of(self.random_state)).spawn(self.n_estimators):
            rng = np.random.default_rng(child)
            rows = rng.integers(n, size=n) if self.bootstrap else np.arange(n)
            member = clone(proto).set_params(random_state=int(rng.integers(2**31)))
            members.append(member.fit(Xa[rows], ya[rows]))
        self.members_ = members
        self.n_features_in_ = Xa.shape[1]
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        self._check_fitted("members_")
        Xa = check_X(X)
        preds = np.stack([np.asarray(m.predict(Xa), dtype=np.float64) for m in self.members_])
        mean = preds.mean(axis=0)
        return (mean, preds.std(axis=0)) if return_std else mean
