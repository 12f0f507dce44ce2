"""Baker-style early stopping (Baker et al. 2018) for any strategy.

:class:`EarlyStopping` wraps a strategy. Each full training the inner strategy asks for is first
run for ``probe_epochs`` only; a :class:`~predictors.lcsvr.LearningCurveSVR` fitted on the
complete curves seen so far in this run predicts the final validation accuracy from the partial
curve. As in Baker et al., the prediction error is modelled as Gaussian and a run is stopped
when the probability that it beats the incumbent's final validation accuracy falls below
``delta``; the error scale is measured online from the runs that were continued (their
prediction against their true final accuracy), starting from a cautious prior. Continuations
are charged only for the remaining epochs. A stopped cell is reported to the inner strategy
with its *predicted* final accuracy.

Registered as ``random_es``, ``evolution_es`` and ``hyperband_es``.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.search.registry import create
from nasbench_sim.space import SearchSpace

__all__ = ["EarlyStopping", "EvolutionES", "HyperbandES", "RandomSearchES", "curve_summary"]


def curve_summary(curve: np.ndarray) -> np.ndarray:
    """Features of partial validation curves ``(n, k)``: the values, their first and second
    differences, the last value and the least-squares slope per epoch (``3k - 1`` columns, or
    ``3`` when ``k == 1``). NaNs become 0."""
    c = np.asarray(curve, dtype=np.float64)
    if c.ndim == 1:
        c = c[None, :]
    n, k = c.shape
    d1 = np.diff(c, n=1, axis=1)
    d2 = np.diff(c, n=2, axis=1) if k > 2 else np.zeros((n, 0))
    if k > 1:
        t = np.arange(1, k + 1, dtype=np.float64)
        tc = t - t.mean()
        slope = (c - c.mean(axis=1, keepdims=True)) @ tc / (tc @ tc)
    else:
        slope = np.zeros(n)
    return np.nan_to_num(np.concatenate([c, d1, d2, c[:, -1:], slope[:, None]], axis=1))


class EarlyStopping(Strategy):
    """Wrap ``inner`` (a registered strategy name) with learning-curve early stopping.

    Args:
        inner: name of the wrapped strategy.
        probe_epochs: epochs trained before deciding (default: a quarter of the curve).
        min_curves: complete curves needed before any run is stopped.
        refit_every: new complete curves between refits of the predictor.
        delta: stop when P(final accuracy > incumbent) < delta under the error model.
        prior_sigma: error scale assumed until ``min_residuals`` continued runs have finished.
        min_residuals: continued runs needed before the measured error scale is used.
        inner_kwargs: hyper-parameters of the inner strategy.
        svr_kwargs: arguments of :class:`~predictors.lcsvr.LearningCurveSVR`.
    """

    name = "early_stopping"
    multi_fidelity = True  # probes ask for fewer epochs
    inner_name = "random"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        probe_epochs: int | None = None,
        min_curves: int = 10,
        refit_every: int = 10,
        delta: float = 0.05,
        prior_sigma: float = 0.05,
        min_residuals: int = 5,
        inner_kwargs: dict[str, Any] | None = None,
        svr_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        inner_seed, self._svr_seeds = self.seed_sequence.spawn(2)
        self.inner = create(self.inner_name, space, n_epochs, inner_seed, **(inner_kwargs or {}))
        k = max(1, round(n_epochs / 4)) if probe_epochs is None else int(probe_epochs)
        if not 1 <= k < n_epochs:
            raise StrategyConfigError(
                f"probe_epochs must lie in 1..{n_epochs - 1}, got {probe_epochs}"
            )
        self.probe_epochs = k
        self.min_curves = max(4, int(min_curves))
        self.refit_every = max(1, int(refit_every))
        if not 0.0 < delta < 0.5:
            raise StrategyConfigError(f"delta must lie in (0, 0.5), got {delta}")
        from scipy.stats import norm

        self.z = float(norm.isf(delta))  # stop when pred < best - z * sigma
        self.prior_sigma = float(prior_sigma)
        self.min_residuals = int(min_residuals)
        self._residuals: deque[float] = deque(maxlen=50)
        self._predicted: dict[int, float] = {}  # continued runs: index -> prediction
        self.svr_kwargs = {"n_iter": 10, **(svr_kwargs or {})}
        self._continuations: deque[Proposal] = deque()
        self._X: list[np.ndarray] = []
        self._y: list[float] = []
        self._model: Any = None
        self._fitted_on = 0
        self.best_final = -np.inf
        self.n_stopped = 0
        self.n_continued = 0

    @property
    def sigma(self) -> float:
        """Current scale of the prediction error (root mean square of recent residuals)."""
        if len(self._residuals) < self.min_residuals:
            return self.prior_sigma
        r = np.asarray(self._residuals)
        return max(float(np.sqrt(np.mean(r**2))), 1e-3)

    def _features(self, result: Result, curve: np.ndarray) -> np.ndarray:
        arch = self.space.encode(np.array([result.index]), "onehot")[0]
        cost = np.log10(np.maximum([result.params, result.flops], 1.0))
        return np.concatenate([curve_summary(curve[: self.probe_epochs])[0], cost, arch])

    def _predict(self, x: np.ndarray) -> float | None:
        n = len(self._y)
        if n < self.min_curves:
            return None
        if self._model is None or n - self._fitted_on >= self.refit_every:
            from predictors.lcsvr import LearningCurveSVR

            seed = int(self._svr_seeds.spawn(1)[0].generate_state(1)[0])
            self._model = LearningCurveSVR(random_state=seed, **self.svr_kwargs).fit(
                np.vstack(self._X), np.asarray(self._y)
            )
            self._fitted_on = n
        return float(self._model.predict(x[None, :])[0])

    def diagnostics(self) -> dict[str, Any]:
        """Runs stopped and continued, the error scale, and the inner strategy's counters."""
        inner = {f"inner_{k}": v for k, v in self.inner.diagnostics().items()}
        return {
            "n_stopped": self.n_stopped,
            "n_continued": self.n_continued,
            "sigma": self.sigma,
            **inner,
        }

    def ask(self) -> Proposal:
        if self._continuations:
            return self._continuations.popleft()
        p = self.inner.ask()
        target = self.n_epochs if p.epochs is None else p.epochs
        if target <= self.probe_epochs or len(self._y) < self.min_curves:
            return Proposal(p.arch, p.epochs, ("pass", p))
        return Proposal(p.arch, self.probe_epochs, ("probe", p))

    def tell(self, proposal: Proposal, result: Result) -> None:
        kind, inner_p = proposal.tag
        curve = result.valid_curve
        if kind == "probe" and result.missing:  # the training failed: nothing to continue
            self.n_stopped += 1
            self.inner.tell(inner_p, result)
            return
        if kind == "probe":
            pred = None if curve is None else self._predict(self._features(result, curve))
            if pred is not None and pred < self.best_final - self.z * self.sigma:
                self.n_stopped += 1
                self.inner.tell(inner_p, dataclasses.replace(result, valid_acc=pred))
                return
            self.n_continued += 1
            if pred is not None:
                self._predicted[result.index] = pred
            self._continuations.append(Proposal(inner_p.arch, inner_p.epochs, ("cont", inner_p)))
            return
        if result.missing:
            self._predicted.pop(result.index, None)
        elif result.epoch == self.n_epochs:
            self.best_final = max(self.best_final, result.valid_acc)
            if result.index in self._predicted:
                self._residuals.append(result.valid_acc - self._predicted.pop(result.index))
            if curve is not None and curve.shape[0] == self.n_epochs:
                self._X.append(self._features(result, curve))
                self._y.append(result.valid_acc)
        self.inner.tell(inner_p, result)


class RandomSearchES(EarlyStopping):
    """Random search with learning-curve early stopping."""

    name = "random_es"
    inner_name = "random"


class EvolutionES(EarlyStopping):
    """Regularized evolution with learning-curve early stopping."""

    name = "evolution_es"
    inner_name = "evolution"


class HyperbandES(EarlyStopping):
    """Hyperband with learning-curve early stopping of its full-length trainings."""

    name = "hyperband_es"
    inner_name = "hyperband"
