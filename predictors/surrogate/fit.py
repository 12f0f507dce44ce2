"""Fit a :class:`~predictors.surrogate.SurrogateBenchmark` on part of a table (the method is
described in :mod:`predictors.surrogate`)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import stats
from sklearn.base import clone

from nasbench_sim.bench import Benchmark
from predictors.base import Predictor, PredictorError
from predictors.evaluate import candidate_pool
from predictors.features import target
from predictors.registry import create_predictor
from predictors.surrogate.benchmark import (
    _CURVES,
    SurrogateBenchmark,
    SurrogateFitReport,
    SurrogateModel,
)

__all__ = ["fit_surrogate"]


def _fit_predict(
    proto: Predictor, X_fit: np.ndarray, y: np.ndarray, X_all: np.ndarray, seed: int
) -> np.ndarray:
    """Fit on the rows with a finite target (an imported table may lack a run or a cost);
    NaN everywhere when fewer than two have one."""
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return np.full(X_all.shape[0], np.nan)
    return clone(proto).set_params(random_state=seed).fit(X_fit[ok], y[ok]).predict(X_all)


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
        bench: the benchmark to imitate (its rows are the data).
        fraction: share of rows used for fitting, in ``(0, 1]`` (at least 10 rows).
        predictor: a registered predictor that needs no learning curve.
        seed: seeds the row choice, the regressors and the repeat noise.
        max_components: most SVD components of the curves.
        predictor_kwargs: constructor arguments of the predictor.
    """
    if not 0.0 < fraction <= 1.0:
        raise PredictorError(f"fraction must lie in (0, 1], got {fraction}")
    proto = create_predictor(predictor, **dict(predictor_kwargs or {}))
    if proto.needs_curve or getattr(proto, "base_needs_curve", False):
        raise PredictorError(
            f"predictor {predictor!r} reads learning curves; a surrogate needs one that "
            "predicts from the architecture alone (e.g. xgb, rf, gcn, bananas, ridge, knn)"
        )
    space = bench.space
    pool = candidate_pool(bench)
    ss = np.random.SeedSequence([seed, 0x5A77])
    rng = np.random.default_rng(ss)
    n_fit = min(pool.shape[0], max(10, round(fraction * pool.shape[0])))
    perm = rng.permutation(pool)
    fit_idx, held = perm[:n_fit], perm[n_fit:]
    seeds = [int(s) for s in rng.integers(2**31, size=4 + max_components)]
    E, S = bench.n_epochs, bench.n_seeds

    # Mean curves (n, 4, E) and per-repeat validation curves (n, S, E).
    ep = np.tile(np.arange(1, E + 1), n_fit)
    rep_idx = np.repeat(fit_idx, E)
    mb = bench.query_many(rep_idx, epochs=ep, seed="mean")
    curves = np.stack([getattr(mb, c).reshape(n_fit, E) for c in _CURVES], axis=1)
    per_seed = np.stack(
        [
            bench.query_many(rep_idx, epochs=ep, seed=s).valid_acc.reshape(n_fit, E)
            for s in range(S)
        ],
        axis=1,
    )
    dev = per_seed - curves[:, None, 3, :]
    with warnings.catch_warnings():  # a row with one run has no spread: NaN, not fitted
        warnings.simplefilter("ignore", RuntimeWarning)
        sigma_fit = np.nanstd(dev[:, :, -1], axis=1, ddof=1) if S > 1 else np.zeros(n_fit)
    jitter = float(np.nanmedian(np.diff(dev, axis=2).std(axis=2))) / np.sqrt(2.0) if E > 1 else 0.0

    # Low-rank basis of the standardised curve vectors.
    flat = np.nan_to_num(curves.reshape(n_fit, -1))
    mu, sd = flat.mean(axis=0), np.maximum(flat.std(axis=0), 1e-8)
    z = (flat - mu) / sd
    _, sv, vt = np.linalg.svd(z, full_matrices=False)
    ratio = np.cumsum(sv**2) / max(float((sv**2).sum()), 1e-12)
    k = int(min(max_components, np.searchsorted(ratio, 0.999) + 1, vt.shape[0]))
    scores = z @ vt[:k].T

    reps = space.representatives()
    X_fit, X_all = proto.featurize(space, fit_idx), proto.featurize(space, reps)
    pred_scores = np.stack(
        [_fit_predict(proto, X_fit, scores[:, j], X_all, seeds[4 + j]) for j in range(k)], axis=1
    )
    all_curves = ((pred_scores @ vt[:k]) * sd + mu).reshape(reps.shape[0], 4, E)
    all_curves[:, [1, 3], :] = np.clip(all_curves[:, [1, 3], :], 0.0, 1.0)
    all_curves[:, [0, 2], :] = np.maximum(all_curves[:, [0, 2], :], 0.0)

    log_sigma = _fit_predict(proto, X_fit, np.log(sigma_fit + 1e-4), X_all, seeds[0])
    sigma = np.maximum(np.exp(log_sigma) - 1e-4, 0.0)

    # Test accuracy and loss as linear maps of validation accuracy and loss.
    v_final = curves[:, 3, -1]
    t_final = target(bench, fit_idx, "test_final_mean")
    acc_b, acc_a = np.polyfit(v_final, t_final, 1)
    t_loss = np.array([bench.test_result(int(i)).test_loss for i in fit_idx])
    ok = np.isfinite(t_loss)
    loss_b, loss_a = np.polyfit(curves[ok, 2, -1], t_loss[ok], 1) if ok.sum() > 2 else (1.0, 0.0)
    resid = [
        bench.test_acc_many(fit_idx, seed=s) - (acc_a + acc_b * per_seed[:, s, -1])
        for s in range(S)
    ]
    test_resid = float(np.nanstd(np.concatenate(resid)))

    cb = bench.query_many(fit_idx, epochs=1, seed="mean")
    cost_fit = np.stack([cb.train_time, cb.params, cb.flops, cb.latency], axis=1)
    cost = np.stack(
        [
            np.exp(
                _fit_predict(
                    proto, X_fit, np.log(np.maximum(cost_fit[:, j], 1e-12)), X_all, seeds[1]
                )
            )
            for j in range(4)
        ],
        axis=1,
    )

    cls_of_rep = space.class_ids()[reps]
    order = np.argsort(cls_of_rep)  # rows indexed by class id
    held_tau = float("nan")
    if held.shape[0] > 1:
        pred_held = all_curves[order][space.class_ids()[held], 3, -1]
        held_tau = float(stats.kendalltau(pred_held, target(bench, held)).statistic)
    table = getattr(bench, "table", None)
    model = SurrogateModel(
        space=space.name,
        dataset=bench.dataset,
        n_epochs=E,
        n_seeds=S,
        noise_seed=seeds[2],
        synthetic=bool(getattr(table, "is_synthetic", False)),
        curves=all_curves[order].astype(np.float32),
        sigma=sigma[order].astype(np.float64),
        jitter=jitter,
        test_map=(float(acc_a), float(acc_b), float(loss_a), float(loss_b)),
        test_resid=test_resid,
        cost=cost[order].astype(np.float64),
        report=SurrogateFitReport(
            predictor=predictor,
            fraction=float(fraction),
            seed=int(seed),
            n_rows=int(pool.shape[0]),
            n_fit=int(n_fit),
            n_components=k,
            explained_variance=float(ratio[k - 1]),
            heldout_tau=held_tau,
        ),
    )
    return SurrogateBenchmark(model)
