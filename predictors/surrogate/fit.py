"""Fit a :class:`~nasbench_sim.bench.SurrogateBenchmark` on part of a benchmark (the method is
described in :mod:`predictors.surrogate`)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats
from sklearn.base import clone

from nasbench_sim.bench import Benchmark, SurrogateBenchmark, SurrogateFitReport, SurrogateModel
from nasbench_sim.bench.surrogate_model import LOGIT_EPS, logodds
from predictors.base import Predictor, PredictorError
from predictors.features import target
from predictors.registry import create_predictor

__all__ = ["fit_surrogate", "surrogate_predictor"]

_CURVES = ("train_loss", "train_acc", "valid_loss", "valid_acc")


def _fit_predict(
    proto: Predictor, X_fit: np.ndarray, y: np.ndarray, X_all: np.ndarray, seed: int
) -> np.ndarray:
    """Fit on the rows with a finite target (an imported table may lack a run or a cost);
    NaN everywhere when fewer than two have one."""
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return np.full(X_all.shape[0], np.nan)
    return clone(proto).set_params(random_state=seed).fit(X_fit[ok], y[ok]).predict(X_all)


@dataclass(frozen=True)
class _Observed:
    """What the fit reads from the benchmark for its ``n`` fitted cells."""

    curves: np.ndarray  # (n, 4, E) repeat-mean curves
    per_seed: np.ndarray  # (n, S, E) validation curves of each repeat
    sigma: np.ndarray  # (n,) repeat spread of final validation accuracy (log-odds)
    jitter: tuple[float, ...]  # per budget: the spread of a repeat's drift from its end


def _observe(bench: Benchmark, cells: np.ndarray) -> _Observed:
    """The curves over the benchmark's budgets (every epoch of a per-epoch curve)."""
    n, E, S = cells.shape[0], len(bench.budgets), bench.n_seeds
    ep = np.tile(np.asarray(bench.budgets, dtype=np.int64), n)
    rep_idx = np.repeat(cells, E)
    mb = bench.query_many(rep_idx, epochs=ep, repeat="mean")
    curves = np.stack([getattr(mb, c).reshape(n, E) for c in _CURVES], axis=1)
    per_seed = np.stack(
        [bench.query_many(rep_idx, epochs=ep, repeat=s).valid_acc.reshape(n, E) for s in range(S)],
        axis=1,
    )
    dev = logodds(per_seed) - logodds(curves[:, None, 3, :])  # on the log-odds scale
    with warnings.catch_warnings():  # a row with one run has no spread: NaN, not fitted
        warnings.simplefilter("ignore", RuntimeWarning)
        sigma = np.nanstd(dev[:, :, -1], axis=1, ddof=1) if S > 1 else np.zeros(n)
        # A repeat's deviation at budget e is its final deviation plus a drift that vanishes
        # at the end: jitter[e] is the drift's typical spread over repeats (0 at the last
        # budget, where sigma alone is the repeats' spread).
        drift = dev - dev[:, :, -1:]
        jitter = (
            np.sqrt(np.nanmedian(np.nanvar(drift, axis=1, ddof=1), axis=0))
            if S > 1
            else np.zeros(E)
        )
    return _Observed(curves, per_seed, sigma, tuple(float(j) for j in jitter))


def _curve_model(
    curves: np.ndarray,
    proto: Predictor,
    X_fit: np.ndarray,
    X_all: np.ndarray,
    seeds: list[int],
    max_components: int,
) -> tuple[np.ndarray, int, float]:
    """Predicted curves ``(n_all, 4, E)`` from a low-rank basis of the standardised curves,
    the number of components and the variance they explain."""
    n_fit, E = curves.shape[0], curves.shape[2]
    flat = np.nan_to_num(_to_unbounded(curves).reshape(n_fit, -1))
    mu, sd = flat.mean(axis=0), np.maximum(flat.std(axis=0), 1e-8)
    z = (flat - mu) / sd
    _, sv, vt = np.linalg.svd(z, full_matrices=False)
    ratio = np.cumsum(sv**2) / max(float((sv**2).sum()), 1e-12)
    k = int(min(max_components, np.searchsorted(ratio, 0.999) + 1, vt.shape[0]))
    scores = z @ vt[:k].T
    pred = np.stack(
        [_fit_predict(proto, X_fit, scores[:, j], X_all, seeds[j]) for j in range(k)], axis=1
    )
    out = _from_unbounded(((pred @ vt[:k]) * sd + mu).reshape(X_all.shape[0], 4, E))
    return out, k, float(ratio[k - 1])


def _to_unbounded(curves: np.ndarray) -> np.ndarray:
    """Accuracies (rows 1, 3) to log-odds and losses (rows 0, 2) to logs: the curve model
    works on an unbounded scale, so that its errors near an accuracy of 1 shrink instead of
    piling the best cells up against a clip at 1 (the components are fitted one by one and
    their sum could leave [0, 1] otherwise)."""
    out = np.empty_like(curves, dtype=np.float64)
    out[:, [1, 3], :] = logodds(curves[:, [1, 3], :])
    out[:, [0, 2], :] = np.log(np.maximum(curves[:, [0, 2], :], LOGIT_EPS))
    return out


def _from_unbounded(z: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_to_unbounded`."""
    out = np.empty_like(z)
    out[:, [1, 3], :] = special.expit(z[:, [1, 3], :])
    out[:, [0, 2], :] = np.exp(z[:, [0, 2], :])
    return out


def _test_model(
    bench: Benchmark, cells: np.ndarray, obs: _Observed
) -> tuple[tuple[float, float, float, float], float]:
    """Test accuracy and loss as linear maps of validation accuracy and loss, and the residual
    noise of test accuracy per repeat."""
    v_final = obs.curves[:, 3, -1]
    t_final = target(bench, cells, "test_final_mean")
    ok = np.isfinite(v_final) & np.isfinite(t_final)
    acc_b, acc_a = np.polyfit(v_final[ok], t_final[ok], 1)
    t_loss = bench.test_many(cells, repeat="mean").test_loss
    ok = np.isfinite(t_loss) & np.isfinite(obs.curves[:, 2, -1])
    loss_b, loss_a = (
        np.polyfit(obs.curves[ok, 2, -1], t_loss[ok], 1) if ok.sum() > 2 else (1.0, 0.0)
    )
    resid = [
        bench.test_acc_many(cells, repeat=s) - (acc_a + acc_b * obs.per_seed[:, s, -1])
        for s in range(bench.n_seeds)
    ]
    test_map = (float(acc_a), float(acc_b), float(loss_a), float(loss_b))
    return test_map, float(np.nanstd(np.concatenate(resid)))


def _cost_model(
    bench: Benchmark,
    cells: np.ndarray,
    proto: Predictor,
    X: tuple[np.ndarray, np.ndarray],
    seed: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Epoch time, params, FLOPs and latency ``(n_all, 4)`` from regressors on ``log`` cost;
    for separate-run budgets also each budget's run time ``(n_all, budgets)``."""
    first = bench.budgets[0]
    cb = bench.query_many(cells, epochs=first, repeat="mean")
    epoch_time = cb.train_time / first
    runs = None
    if not bench.nested_budgets:  # each budget its own run: model each run's time
        runs = np.stack(
            [bench.query_many(cells, epochs=b, repeat="mean").train_time for b in bench.budgets],
            axis=1,
        )
        epoch_time = runs[:, -1] / bench.n_epochs

    def fit(values: np.ndarray) -> np.ndarray:
        logs = np.log(np.maximum(values, 1e-12))
        return np.exp(_fit_predict(proto, X[0], logs, X[1], seed))

    cost = np.stack([fit(v) for v in (epoch_time, cb.params, cb.flops, cb.latency)], axis=1)
    run_time = None if runs is None else np.stack([fit(r) for r in runs.T], axis=1)
    return cost, run_time


def surrogate_predictor(predictor: str, kwargs: dict[str, Any] | None = None) -> Predictor:
    """The predictor a surrogate would be fitted with, checked: registered, installed, and
    predicting from the architecture alone (call it before any work to fail early).

    Raises:
        RegistryError: an unknown name (the message lists the known ones).
        MissingDependencyError: its optional dependency is not installed.
        PredictorError: it reads learning curves.

    Example:
        >>> surrogate_predictor("ridge").needs_curve
        False
    """
    proto = create_predictor(predictor, **dict(kwargs or {}))
    if proto.needs_curve or getattr(proto, "base_needs_curve", False):
        raise PredictorError(
            f"predictor {predictor!r} reads learning curves; a surrogate needs one that "
            "predicts from the architecture alone (e.g. xgb, rf, gcn, bananas, ridge, knn)"
        )
    return proto


def _check(fraction: float, predictor: str, kwargs: dict[str, Any] | None) -> Predictor:
    if not 0.0 < fraction <= 1.0:
        raise PredictorError(f"fraction must lie in (0, 1], got {fraction}")
    return surrogate_predictor(predictor, kwargs)


def fit_surrogate(
    bench: Benchmark,
    fraction: float = 0.2,
    predictor: str = "xgb",
    seed: int = 0,
    *,
    max_components: int = 8,
    predictor_kwargs: dict[str, Any] | None = None,
) -> SurrogateBenchmark:
    """Fit a :class:`SurrogateBenchmark` on a random ``fraction`` of ``bench``'s rows.

    Args:
        bench: the benchmark to imitate (its :attr:`~Benchmark.distinct_cells` are the data);
            a synthetic source makes a synthetic surrogate.
        fraction: share of rows used for fitting, in ``(0, 1]`` (at least 10 rows).
        predictor: a registered predictor that needs no learning curve.
        seed: seeds the row choice, the regressors and the repeat noise.
        max_components: most SVD components of the curves.
        predictor_kwargs: constructor arguments of the predictor.
    """
    proto = _check(fraction, predictor, predictor_kwargs)
    space = bench.space
    pool = bench.distinct_cells
    pool = pool[np.isfinite(bench.query_many(pool, repeat="mean").valid_acc)]  # failed rows out
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5A77]))
    n_fit = min(pool.shape[0], max(10, round(fraction * pool.shape[0])))
    perm = rng.permutation(pool)
    fit_idx, held = perm[:n_fit], perm[n_fit:]
    seeds = [int(s) for s in rng.integers(2**31, size=4 + max_components)]

    obs = _observe(bench, fit_idx)
    reps = space.representatives()
    X_fit, X_all = proto.featurize(space, fit_idx), proto.featurize(space, reps)
    curves, k, explained = _curve_model(obs.curves, proto, X_fit, X_all, seeds[4:], max_components)
    log_sigma = _fit_predict(proto, X_fit, np.log(obs.sigma + 1e-4), X_all, seeds[0])
    sigma = np.maximum(np.exp(log_sigma) - 1e-4, 0.0)
    test_map, test_resid = _test_model(bench, fit_idx, obs)
    cost, run_time = _cost_model(bench, fit_idx, proto, (X_fit, X_all), seeds[1])

    order = np.argsort(space.class_ids()[reps])  # rows indexed by class id
    held_tau = float("nan")
    if held.shape[0] > 1:
        pred_held = curves[order][space.class_ids()[held], 3, -1]
        held_tau = float(stats.kendalltau(pred_held, target(bench, held)).statistic)
    report = SurrogateFitReport(
        predictor=predictor,
        fraction=float(fraction),
        seed=int(seed),
        n_rows=int(pool.shape[0]),
        n_fit=int(n_fit),
        n_components=k,
        explained_variance=explained,
        heldout_tau=held_tau,
    )
    model = SurrogateModel(
        space=space.name,
        dataset=bench.dataset.removesuffix(" (surrogate)"),
        n_epochs=bench.n_epochs,
        n_seeds=bench.n_seeds,
        noise_seed=seeds[2],
        synthetic=bench.source.synthetic,
        curves=curves[order].astype(np.float32),
        sigma=sigma[order].astype(np.float64),
        jitter=obs.jitter,
        noise_scale="logit",
        test_map=test_map,
        test_resid=test_resid,
        cost=cost[order].astype(np.float64),
        report=report,
        fitted_on=bench.source.describe(),
        training_seeds=bench.training_seeds,
        budgets=() if bench.nested_budgets else tuple(bench.budgets),
        run_time=None if run_time is None else run_time[order].astype(np.float64),
        arch=space.table_arrays(np.arange(space.size)) if space.table_defined else {},
    )
    return SurrogateBenchmark(model)
