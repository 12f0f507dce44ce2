"""The evaluation harness: train predictors on random subsets of a table, score them on
held-out cells.

Every trial draws its train/test split from ``SeedSequence([seed, trial])``; each fit gets a
seed derived from ``(seed, trial, predictor name, train size)``, so a predictor's figures do not
depend on which other predictors run beside it. Training sets are nested within a trial (the
first ``n`` cells of one shuffled list). Times exclude building features.

Example:
    >>> from nasbench_sim.bench import TabularBenchmark
    >>> from nasbench_sim.table import make_synthetic_table
    >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=8))
    >>> df = evaluate_predictors(bench, ["ridge"], [20, 50], trials=2, test_size=200)
    >>> list(df.columns) == list(RESULT_COLUMNS)
    True
"""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone
from sklearn.metrics import r2_score

from nasbench_sim.bench import Benchmark
from predictors.base import Predictor, PredictorError
from predictors.features import curve_epochs, target
from predictors.lcsvr import LearningCurveSVR
from predictors.registry import create_predictor

__all__ = [
    "LC_COLUMNS",
    "METRIC_COLUMNS",
    "RESULT_COLUMNS",
    "PredictorStudy",
    "candidate_pool",
    "evaluate_predictors",
    "lc_fraction_curve",
    "noise_ceiling",
    "predictor_study",
    "score_predictions",
    "summarize",
]

Progress = Callable[[int, int], None]

METRIC_COLUMNS: tuple[str, ...] = ("kendall_tau", "spearman_rho", "r2", "precision_top5")
RESULT_COLUMNS: tuple[str, ...] = (
    "predictor",
    "train_size",
    "trial",
    "n_test",
    *METRIC_COLUMNS,
    "fit_time_s",
    "predict_time_s",
)
"""Columns of :func:`evaluate_predictors`' frame, one row per (predictor, size, trial)."""
LC_COLUMNS: tuple[str, ...] = ("fraction", "epochs", "trial", "n_train", *METRIC_COLUMNS)
"""Columns of :func:`lc_fraction_curve`'s frame."""


def candidate_pool(bench: Benchmark) -> np.ndarray:
    """Cells a harness may draw: one per distinct entry of the benchmark (a table's rows, a
    surrogate's class representatives; see :attr:`Benchmark.distinct_cells`)."""
    return np.asarray(bench.distinct_cells, dtype=np.int64)


def score_predictions(y_true: Any, y_pred: Any, top: float = 0.05) -> dict[str, float]:
    """Kendall τ, Spearman ρ, R² and top-``top`` precision of predictions.

    ``precision_top5`` is the fraction of the truly best ``ceil(top * n)`` cells that are also
    among the predicted best ``ceil(top * n)``.
    """
    yt = np.asarray(y_true, dtype=np.float64)
    yp = np.asarray(y_pred, dtype=np.float64)
    k = max(1, int(np.ceil(top * yt.shape[0])))
    true_top = set(np.argsort(-yt, kind="stable")[:k].tolist())
    pred_top = set(np.argsort(-yp, kind="stable")[:k].tolist())
    return {
        "kendall_tau": float(stats.kendalltau(yt, yp).statistic),
        "spearman_rho": float(stats.spearmanr(yt, yp).statistic),
        "r2": float(r2_score(yt, yp)),
        "precision_top5": len(true_top & pred_top) / k,
    }


def _fit_seed(seed: int, trial: int, name: str, size: int) -> int:
    ss = np.random.SeedSequence([seed, trial, zlib.crc32(name.encode()), size])
    return int(ss.generate_state(1)[0])


def _split(
    pool: np.ndarray, seed: int, trial: int, test_size: int, n_train: int
) -> tuple[np.ndarray, np.ndarray]:
    if test_size < 2:
        raise PredictorError(f"test_size must be >= 2, got {test_size}")
    if test_size + n_train > pool.shape[0]:
        raise PredictorError(
            f"the table has {pool.shape[0]} cells: too few for {test_size} test cells plus "
            f"{n_train} training cells; lower the training sizes (--train-sizes) or the test "
            "size (--test-size)"
        )
    perm = np.random.default_rng(np.random.SeedSequence([seed, trial])).permutation(pool)
    return perm[test_size : test_size + n_train], perm[:test_size]


def _check_sizes(train_sizes: Sequence[int], trials: int) -> list[int]:
    sizes = sorted({int(s) for s in train_sizes})
    if not sizes or sizes[0] < 2:
        raise PredictorError(f"train sizes must be integers >= 2, got {list(train_sizes)}")
    if trials < 1:
        raise PredictorError(f"trials must be >= 1, got {trials}")
    return sizes


def evaluate_predictors(
    bench: Benchmark,
    names: Sequence[str],
    train_sizes: Sequence[int] = (10, 20, 50, 100, 200, 500, 1000),
    trials: int = 10,
    seed: int = 0,
    test_size: int = 1000,
    *,
    predictor_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    target_kind: str = "valid_final_mean",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Train each predictor on random subsets and score it on held-out cells.

    Args:
        bench: the benchmark (its table rows form the pool of cells).
        names: registered predictor names.
        train_sizes: training-set sizes.
        trials: random splits per size.
        seed: seeds the splits and the predictors.
        test_size: held-out cells per trial.
        predictor_kwargs: per-name constructor arguments.
        target_kind: see :func:`~predictors.features.target`.
        progress: called as ``progress(done, total)`` after every fit.

    Returns:
        One row per (predictor, train size, trial) with :data:`RESULT_COLUMNS`.
    """
    sizes = _check_sizes(train_sizes, trials)
    kwargs = dict(predictor_kwargs or {})
    protos: dict[str, Predictor] = {n: create_predictor(n, **kwargs.get(n, {})) for n in names}
    pool = candidate_pool(bench)
    total, done = trials * len(protos) * len(sizes), 0
    rows: list[dict[str, Any]] = []
    for trial in range(trials):
        train, test = _split(pool, seed, trial, test_size, sizes[-1])
        y_train, y_test = target(bench, train, target_kind), target(bench, test, target_kind)
        for name, proto in protos.items():
            X_train, X_test = proto.featurize(bench, train), proto.featurize(bench, test)
            for size in sizes:
                model = clone(proto).set_params(random_state=_fit_seed(seed, trial, name, size))
                t0 = time.perf_counter()
                model.fit(X_train[:size], y_train[:size])
                t1 = time.perf_counter()
                pred = model.predict(X_test)
                t2 = time.perf_counter()
                row = {"predictor": name, "train_size": size, "trial": trial}
                row["n_test"] = int(test.shape[0])
                row.update(score_predictions(y_test, pred))
                row.update(fit_time_s=t1 - t0, predict_time_s=t2 - t1)
                rows.append(row)
                done += 1
                if progress is not None:
                    progress(done, total)
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def lc_fraction_curve(
    bench: Benchmark,
    fractions: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    n_train: int = 200,
    trials: int = 10,
    seed: int = 0,
    test_size: int = 1000,
    *,
    svr_kwargs: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Scores of :class:`~predictors.lcsvr.LearningCurveSVR` against the fraction of the
    learning curve observed (``epochs = round(fraction * n_epochs)``, at least 1).

    Returns:
        One row per (fraction, trial) with :data:`LC_COLUMNS`.
    """
    _check_sizes([n_train], trials)
    fracs = [float(f) for f in fractions]
    for f in fracs:
        curve_epochs(bench.n_epochs, f)  # validates
    pool = candidate_pool(bench)
    rows: list[dict[str, Any]] = []
    total = trials * len(fracs)
    for done, (trial, frac) in enumerate(itertools.product(range(trials), fracs), start=1):
        train, test = _split(pool, seed, trial, test_size, n_train)
        k = curve_epochs(bench.n_epochs, frac)
        model = LearningCurveSVR(
            **dict(svr_kwargs or {}), random_state=_fit_seed(seed, trial, "lcsvr", n_train)
        )
        model.fit(model.featurize(bench, train, epochs=k), target(bench, train))
        pred = model.predict(model.featurize(bench, test, epochs=k))
        row: dict[str, Any] = {"fraction": frac, "epochs": k, "trial": trial, "n_train": n_train}
        row.update(score_predictions(target(bench, test), pred))
        rows.append(row)
        if progress is not None:
            progress(done, total)
    frame = pd.DataFrame(rows, columns=list(LC_COLUMNS))
    return frame.sort_values(["fraction", "trial"], ignore_index=True)


def noise_ceiling(bench: Benchmark, seeds: tuple[int, int] = (0, 1)) -> float:
    """Kendall τ between two repeats' final validation accuracies over the table's cells.

    How well one training run ranks the cells as another run with a different seed would: a
    reference for predictor τ (a predictor of the seed *mean* can exceed it).
    """
    a, b = seeds
    if a == b:
        raise PredictorError(f"noise_ceiling needs two different repeats, got {seeds}")
    pool = candidate_pool(bench)
    va = bench.query_many(pool, repeat=a).valid_acc
    vb = bench.query_many(pool, repeat=b).valid_acc
    ok = np.isfinite(va) & np.isfinite(vb)
    return float(stats.kendalltau(va[ok], vb[ok]).statistic)


def summarize(
    frame: pd.DataFrame,
    by: Sequence[str] = ("predictor", "train_size"),
    metrics: Sequence[str] = (*METRIC_COLUMNS, "fit_time_s", "predict_time_s"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean and Student-t confidence half-width of each metric per group.

    Returns:
        Columns ``by``, ``n``, and for each metric ``<metric>`` (mean) and ``<metric>_ci``.
    """
    present = [m for m in metrics if m in frame.columns]
    out = []
    for key, grp in frame.groupby(list(by), sort=True):
        keys = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(by, keys, strict=True))
        row["n"] = len(grp)
        for m in present:
            vals = grp[m].to_numpy(dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            row[m] = float(vals.mean()) if vals.size else float("nan")
            if vals.size > 1:
                tq = stats.t.ppf(0.5 + confidence / 2, vals.size - 1)
                row[m + "_ci"] = float(tq * vals.std(ddof=1) / np.sqrt(vals.size))
            else:
                row[m + "_ci"] = 0.0
        out.append(row)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class PredictorStudy:
    """What ``nasbench-sim predictors`` reports.

    Attributes:
        frame: :func:`evaluate_predictors`' scores, one row per predictor, size and trial.
        lc: :func:`lc_fraction_curve`'s scores (``None`` when no fractions were asked for).
        noise_ceiling: :func:`noise_ceiling` of the benchmark (``nan`` with one repeat).
    """

    frame: pd.DataFrame
    lc: pd.DataFrame | None
    noise_ceiling: float


def predictor_study(
    bench: Benchmark,
    names: Sequence[str],
    train_sizes: Sequence[int],
    *,
    trials: int = 10,
    seed: int = 0,
    test_size: int = 1000,
    lc_fractions: Sequence[float] = (),
    lc_train: int = 200,
    progress: Progress | None = None,
) -> PredictorStudy:
    """Predictors scored against training-set size, LC-SVR against the curve fraction seen,
    and the seed-noise ceiling, on one benchmark (``progress(done, total)`` over both)."""
    n_eval = [0]

    def first(done: int, total: int) -> None:
        n_eval[0] = total
        if progress is not None:
            progress(done, total)

    frame = evaluate_predictors(bench, names, train_sizes, trials, seed, test_size, progress=first)
    lc = None
    if lc_fractions:

        def second(done: int, total: int) -> None:
            if progress is not None:
                progress(n_eval[0] + done, n_eval[0] + total)

        lc = lc_fraction_curve(
            bench, lc_fractions, lc_train, trials, seed, test_size, progress=second
        )
    ceiling = noise_ceiling(bench) if bench.n_seeds > 1 else float("nan")
    return PredictorStudy(frame, lc, ceiling)
