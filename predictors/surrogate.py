"""A surrogate benchmark: the Benchmark protocol answered by predictors fitted on part of a table.

How :func:`fit_surrogate` builds it from a ``fraction`` of a table's rows:

* **Mean curves.** Each fitted row's seed-mean curves of ``train_loss``, ``train_acc``,
  ``valid_loss`` and ``valid_acc`` are stacked into one vector, standardised per column and
  reduced to a low-rank basis by SVD (components up to 99.9% of the variance, at most
  ``max_components``). One regressor per component (a clone of the chosen registered
  predictor, on its own encoding) predicts the component scores of every equivalence class.
* **Seed noise.** Repeat ``k`` of a cell adds ``sigma(cell) * z0 + jitter * z1(epoch)`` to the
  accuracies, with ``z`` standard normals hashed from ``(noise seed, class, k, epoch)``: fixed
  per cell and repeat, like the stored repeats of a table. ``sigma`` (the spread of final
  validation accuracy over repeats) is predicted per cell by a regressor on ``log sigma``;
  ``jitter`` is the table's epoch-to-epoch noise. ``seed=None`` picks the repeat by a hash of
  ``(run_seed, class)`` (common random numbers, as in :class:`TabularBenchmark`);
  ``seed="mean"`` returns the noiseless mean curve. Losses carry no repeat noise.
* **Test accuracy** is a linear map of validation accuracy (and test loss of validation loss)
  fitted on the table, plus a residual noise per repeat.
* **Costs** (epoch time, params, FLOPs, latency) come from regressors on ``log`` cost.

Everything is predicted once for every class at fit time, so queries are array lookups and a
saved surrogate is a plain versioned ``.npz`` of arrays (no pickle).

Example:
    >>> from nasbench_sim.bench import TabularBenchmark
    >>> from nasbench_sim.table import make_synthetic_table
    >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=6))
    >>> sur = fit_surrogate(bench, fraction=0.1, predictor="ridge", seed=0)
    >>> sur.query(123, epochs=3).epoch
    3
"""

from __future__ import annotations

import copy
import json
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import ndtri
from sklearn.base import clone

from nasbench_sim.atomic import atomic_path
from nasbench_sim.bench import Benchmark, Result, ResultBatch, Seed, TestResult
from nasbench_sim.errors import QueryError
from nasbench_sim.space import SearchSpace, get_space
from predictors.base import Predictor, PredictorError
from predictors.evaluate import candidate_pool
from predictors.features import target
from predictors.registry import create_predictor

__all__ = [
    "SURROGATE_FORMAT",
    "SURROGATE_VERSION",
    "SurrogateBenchmark",
    "SurrogateFileError",
    "SurrogateFitReport",
    "SurrogateModel",
    "fit_surrogate",
]

SURROGATE_FORMAT = "nasbench-sim-surrogate"
SURROGATE_VERSION = 1
_CURVES = ("train_loss", "train_acc", "valid_loss", "valid_acc")
_COSTS = ("train_time_s", "params", "flops", "latency_s")
_M64 = (1 << 64) - 1


class SurrogateFileError(PredictorError):
    """A file is not a surrogate saved by this version of nasbench-sim."""


@dataclass(frozen=True)
class SurrogateFitReport:
    """How a surrogate was fitted and how well it ranks the rows it did not see."""

    predictor: str
    fraction: float
    seed: int
    n_rows: int
    n_fit: int
    n_components: int
    explained_variance: float
    heldout_tau: float


@dataclass(frozen=True)
class SurrogateModel:
    """The fitted arrays behind a :class:`SurrogateBenchmark` (one row per class).

    Attributes:
        curves: float32 ``(n_classes, 4, n_epochs)`` mean curves of train loss, train acc,
            valid loss, valid acc.
        sigma: float64 ``(n_classes,)`` repeat spread of final validation accuracy.
        jitter: epoch-to-epoch noise (accuracy units).
        test_map: ``(acc_intercept, acc_slope, loss_intercept, loss_slope)``.
        test_resid: residual noise of test accuracy around the map.
        cost: float64 ``(n_classes, 4)``: epoch time (s), params, FLOPs, latency (s).
    """

    space: str
    dataset: str
    n_epochs: int
    n_seeds: int
    noise_seed: int
    synthetic: bool
    curves: np.ndarray
    sigma: np.ndarray
    jitter: float
    test_map: tuple[float, float, float, float]
    test_resid: float
    cost: np.ndarray
    report: SurrogateFitReport


def _mix(*keys: Any) -> np.ndarray:
    """splitmix64 hash of broadcast uint64 keys."""
    arrays = np.broadcast_arrays(*[np.asarray(k, dtype=np.uint64) for k in keys])
    h = np.full(arrays[0].shape, 0x9E3779B97F4A7C15, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in arrays:
            z = h ^ (k + np.uint64(0x9E3779B97F4A7C15))
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = z ^ (z >> np.uint64(31))
    return h


def _normal(*keys: Any) -> np.ndarray:
    u = ((_mix(*keys) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    return np.asarray(ndtri(u), dtype=np.float64)


class SurrogateBenchmark(Benchmark):
    """Answers the :class:`~nasbench_sim.bench.Benchmark` protocol for every cell of the space
    from a fitted :class:`SurrogateModel` (see the module docstring for the model).

    Args:
        model: the fitted arrays (from :func:`fit_surrogate` or :meth:`load`).
        run_seed: seeds the common-random-number choice of repeat for ``seed=None``.
    """

    def __init__(self, model: SurrogateModel, run_seed: int = 0) -> None:
        self.model = model
        self.space: SearchSpace = get_space(model.space)
        self.dataset = f"{model.dataset} (surrogate)"
        self.n_epochs = model.n_epochs
        self.n_seeds = model.n_seeds
        self.run_seed = int(run_seed)
        self._cls = self.space.class_ids()

    @property
    def fit_report(self) -> SurrogateFitReport:
        return self.model.report

    # -- helpers ----------------------------------------------------------------------------
    def _repeats(self, cls: np.ndarray, seed: Seed) -> np.ndarray:
        if seed is None:
            return (_mix(self.run_seed & _M64, cls, 7) % np.uint64(self.n_seeds)).astype(np.int64)
        if seed == "mean":
            return np.full(cls.shape, -1, dtype=np.int64)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise QueryError(f"seed must be None, 'mean' or an int repeat, got {seed!r}")
        if not 0 <= seed < self.n_seeds:
            raise QueryError(
                f"seed={seed}: this surrogate has {self.n_seeds} repeats, "
                f"allowed 0..{self.n_seeds - 1}"
            )
        return np.full(cls.shape, int(seed), dtype=np.int64)

    def _epochs(self, epochs: Any, shape: tuple[int, ...]) -> np.ndarray:
        if epochs is None:
            return np.full(shape, self.n_epochs, dtype=np.int64)
        if isinstance(epochs, bool):
            raise QueryError(f"epochs must be an int in 1..{self.n_epochs}, got {epochs!r}")
        e = np.broadcast_to(np.asarray(epochs), shape)
        if e.dtype.kind not in "iu" or (e.size and (e.min() < 1 or e.max() > self.n_epochs)):
            raise QueryError(f"epochs must be ints in 1..{self.n_epochs} for this surrogate")
        return e.astype(np.int64)

    def _noise(self, cls: np.ndarray, rep: np.ndarray, e: np.ndarray) -> np.ndarray:
        m = self.model
        seed = np.uint64(m.noise_seed & _M64)
        r = np.maximum(rep, 0)
        d = m.sigma[cls] * _normal(seed, cls, r, 0) + m.jitter * _normal(seed, cls, r, e + 1)
        return np.where(rep >= 0, d, 0.0)

    def _valid_at(self, cls: np.ndarray, rep: np.ndarray, e: np.ndarray) -> np.ndarray:
        base = self.model.curves[cls, 3, e - 1].astype(np.float64)
        return np.clip(base + self._noise(cls, rep, e), 0.0, 1.0)

    def _test_at(self, cls: np.ndarray, rep: np.ndarray, e: np.ndarray) -> np.ndarray:
        a, b, _, _ = self.model.test_map
        resid = self.model.test_resid * _normal(self.model.noise_seed & _M64, cls, rep, e, 3)
        acc = a + b * self._valid_at(cls, rep, e) + np.where(rep >= 0, resid, 0.0)
        return np.clip(acc, 0.0, 1.0)

    # -- protocol ---------------------------------------------------------------------------
    def query_many(
        self, archs: Any, epochs: int | np.ndarray | None = None, seed: Seed = None
    ) -> ResultBatch:
        idx = self.space.to_indices(archs)
        cls = self._cls[idx]
        e = self._epochs(epochs, idx.shape)
        rep = self._repeats(cls, seed)
        mean = self.model.curves[cls, :, e - 1].astype(np.float64)
        d = self._noise(cls, rep, e)
        cost = self.model.cost[cls]
        return ResultBatch(
            index=idx,
            epoch=e.copy(),
            repeat=rep,
            train_loss=mean[:, 0],
            train_acc=np.clip(mean[:, 1] + d, 0.0, 1.0),
            valid_loss=mean[:, 2],
            valid_acc=np.clip(mean[:, 3] + d, 0.0, 1.0),
            train_time=cost[:, 0] * e,
            params=cost[:, 1],
            flops=cost[:, 2],
            latency=cost[:, 3],
        )

    def query(self, arch: Any, epochs: int | None = None, seed: Seed = None) -> Result:
        arch = self.space.coerce(arch)
        idx = self.space.to_index(arch)
        if epochs is not None and not isinstance(epochs, (int, np.integer)):
            raise QueryError(f"epochs must be an int in 1..{self.n_epochs}, got {epochs!r}")
        b = self.query_many(np.array([idx]), epochs, seed)
        e = int(b.epoch[0])
        rep_seed: Seed = "mean" if b.repeat[0] < 0 else int(b.repeat[0])
        curve = self.query_many(np.full(e, idx), np.arange(1, e + 1), rep_seed).valid_acc
        curve.flags.writeable = False
        return Result(
            arch,
            idx,
            int(b.epoch[0]),
            int(b.repeat[0]),
            float(b.train_loss[0]),
            float(b.train_acc[0]),
            float(b.valid_loss[0]),
            float(b.valid_acc[0]),
            float(b.train_time[0]),
            float(b.params[0]),
            float(b.flops[0]),
            float(b.latency[0]),
            curve,
        )

    def test_result(self, arch: Any, epochs: int | None = None, seed: Seed = "mean") -> TestResult:
        idx = np.array([self.space.to_index(self.space.coerce(arch))])
        cls = self._cls[idx]
        e = self._epochs(epochs, idx.shape)
        rep = self._repeats(cls, seed)
        _, _, la, lb = self.model.test_map
        loss = la + lb * float(self.model.curves[cls[0], 2, e[0] - 1])
        acc = float(self._test_at(cls, rep, e)[0])
        return TestResult(int(idx[0]), int(e[0]), int(rep[0]), loss, acc)

    def test_acc_many(self, archs: Any, seed: Seed = "mean") -> np.ndarray:
        idx = self.space.to_indices(archs)
        cls = self._cls[idx]
        e = np.full(idx.shape, self.n_epochs, dtype=np.int64)
        return self._test_at(cls, self._repeats(cls, seed), e)

    @property
    def best_test_acc(self) -> float:
        a, b, _, _ = self.model.test_map
        return float(np.clip(a + b * self.model.curves[:, 3, -1].astype(np.float64), 0, 1).max())

    def with_run_seed(self, run_seed: int) -> SurrogateBenchmark:
        view = copy.copy(self)
        view.run_seed = int(run_seed)
        return view

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model to ``path`` (a versioned ``.npz``; written atomically)."""
        m = self.model
        meta = {
            "space": m.space,
            "dataset": m.dataset,
            "n_epochs": m.n_epochs,
            "n_seeds": m.n_seeds,
            "noise_seed": m.noise_seed,
            "synthetic": m.synthetic,
            "jitter": m.jitter,
            "test_map": list(m.test_map),
            "test_resid": m.test_resid,
            "report": asdict(m.report),
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                format=np.array(SURROGATE_FORMAT),
                version=np.array(SURROGATE_VERSION),
                meta=np.array(json.dumps(meta)),
                curves=m.curves,
                sigma=m.sigma,
                cost=m.cost,
            )
        return path

    @staticmethod
    def load(path: str | os.PathLike[str] | None = None, *, run_seed: int = 0) -> Any:
        """Read a surrogate written by :meth:`save`.

        Raises:
            SurrogateFileError: missing file, not a surrogate, or an unknown version.
        """
        if path is None:
            raise SurrogateFileError("SurrogateBenchmark.load needs the path of a saved surrogate")
        path = Path(path)
        if not path.is_file():
            raise SurrogateFileError(f"{path}: no such surrogate file")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise SurrogateFileError(f"{path}: not a surrogate file ({exc})") from None
        if "format" not in arrays or str(arrays["format"]) != SURROGATE_FORMAT:
            raise SurrogateFileError(f"{path}: not a {SURROGATE_FORMAT} file")
        version = int(arrays.get("version", -1))
        if version != SURROGATE_VERSION:
            raise SurrogateFileError(
                f"{path}: surrogate format version {version}; this nasbench-sim reads "
                f"version {SURROGATE_VERSION}"
            )
        meta = json.loads(str(arrays["meta"]))
        model = SurrogateModel(
            space=meta["space"],
            dataset=meta["dataset"],
            n_epochs=int(meta["n_epochs"]),
            n_seeds=int(meta["n_seeds"]),
            noise_seed=int(meta["noise_seed"]),
            synthetic=bool(meta["synthetic"]),
            curves=arrays["curves"],
            sigma=arrays["sigma"],
            jitter=float(meta["jitter"]),
            test_map=tuple(float(v) for v in meta["test_map"]),  # type: ignore[arg-type]
            test_resid=float(meta["test_resid"]),
            cost=arrays["cost"],
            report=SurrogateFitReport(**meta["report"]),
        )
        return SurrogateBenchmark(model, run_seed=run_seed)


def _fit_predict(
    proto: Predictor, X_fit: np.ndarray, y: np.ndarray, X_all: np.ndarray, seed: int
) -> np.ndarray:
    return clone(proto).set_params(random_state=seed).fit(X_fit, y).predict(X_all)


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
    sigma_fit = dev[:, :, -1].std(axis=1, ddof=1) if S > 1 else np.zeros(n_fit)
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
