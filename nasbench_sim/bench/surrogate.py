"""The surrogate benchmark and its saved form: fitted arrays (:class:`SurrogateModel`) that
answer the :class:`~nasbench_sim.bench.Benchmark` interface for every cell
(:class:`SurrogateBenchmark`), saved as a versioned ``.npz`` (no pickle).

Reading and answering needs only numpy and scipy; fitting is in :mod:`predictors.surrogate`,
which also describes how repeats and test accuracy are modelled."""

from __future__ import annotations

import copy
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from nasbench_sim.bench.base import Benchmark, Repeat, Source
from nasbench_sim.bench.crn import MASK64, mix64, std_normal
from nasbench_sim.bench.results import Result, ResultBatch, TestBatch
from nasbench_sim.bench.surrogate_model import (
    SURROGATE_FORMAT,
    SURROGATE_VERSION,
    SurrogateFileError,
    SurrogateFitReport,
    SurrogateModel,
    check_model,
    logodds,
    read_model,
    write_model,
)
from nasbench_sim.checks import is_int
from nasbench_sim.errors import CellParseError, QueryError, RegistryError
from nasbench_sim.space import SearchSpace, get_space

__all__ = [
    "SURROGATE_FORMAT",
    "SURROGATE_VERSION",
    "SurrogateBenchmark",
    "SurrogateFileError",
    "SurrogateFitReport",
    "SurrogateModel",
]

_CURVES = ("train_loss", "train_acc", "valid_loss", "valid_acc")
_COSTS = ("train_time_s", "params", "flops", "latency_s")


class SurrogateBenchmark(Benchmark):
    """Answers the :class:`~nasbench_sim.bench.Benchmark` interface for every cell of the space
    from a fitted :class:`SurrogateModel` (see :mod:`predictors.surrogate` for the model).

    Args:
        model: the fitted arrays (from :func:`~predictors.surrogate.fit_surrogate` or
            :meth:`load`).
        run_seed: seeds the common-random-number choice of repeat for ``repeat=None``.
        origin: where it was loaded from, for :attr:`source`.
    """

    def __init__(self, model: SurrogateModel, run_seed: int = 0, *, origin: str = "memory") -> None:
        self.model = model
        try:
            space = get_space(model.space)
        except RegistryError as exc:
            raise SurrogateFileError(f"{origin}: {exc}") from None
        try:
            self.space: SearchSpace = space.for_table(model.arch) if space.table_defined else space
        except (CellParseError, KeyError, ValueError) as exc:
            raise SurrogateFileError(
                f"{origin}: its arch/ arrays do not describe cells ({exc})"
            ) from None
        self._cls = self.space.class_ids()
        check_model(model, int(self._cls.max()) + 1, origin)
        self.dataset = f"{model.dataset} (surrogate)"
        self.n_epochs = model.n_epochs
        self._budgets = model.budgets or tuple(range(1, model.n_epochs + 1))
        self.nested_budgets = not model.budgets
        self._pos = np.full(self.n_epochs + 1, -1, dtype=np.int64)
        self._pos[list(self._budgets)] = np.arange(len(self._budgets))
        # per curve position (an older file's one number serves every position)
        self._jitter = np.broadcast_to(np.asarray(model.jitter, np.float64), len(self._budgets))
        self.n_seeds = model.n_seeds
        self.run_seed = int(run_seed)
        self._cells = np.arange(self.space.size, dtype=np.int64)
        self._cells.flags.writeable = False
        r = model.report
        detail = f"{r.predictor} fitted on {100 * r.fraction:g}% of {r.n_rows} rows"
        if model.fitted_on:
            detail += f" of {model.fitted_on}"
        self._source = Source("surrogate", model.synthetic, origin, detail)

    @property
    def fit_report(self) -> SurrogateFitReport:
        return self.model.report

    # -- the interface's descriptions --------------------------------------------------------
    @property
    def training_seeds(self) -> tuple[int, ...]:
        return self.model.training_seeds or tuple(range(self.n_seeds))

    @property
    def candidate_cells(self) -> np.ndarray:
        return self._cells

    @property
    def budgets(self) -> tuple[int, ...]:
        return self._budgets

    @property
    def full_training_time(self) -> float:
        if self.model.run_time is not None:
            return float(np.median(self.model.run_time[self._cls, -1]))
        return float(np.median(self.model.cost[self._cls, 0])) * self.n_epochs

    @property
    def best_test_acc(self) -> float:
        a, b, _, _ = self.model.test_map
        return float(np.clip(a + b * self.model.curves[:, 3, -1].astype(np.float64), 0, 1).max())

    def info(self) -> dict[str, Any]:
        return {**super().info(), "fit": asdict(self.model.report)}

    # -- helpers ----------------------------------------------------------------------------
    def _repeats(self, cls: np.ndarray, repeat: Repeat) -> np.ndarray:
        if repeat is None:
            h = mix64(self.run_seed & MASK64, cls, 7)
            return (h % np.uint64(self.n_seeds)).astype(np.int64)
        if repeat == "mean":
            return np.full(cls.shape, -1, dtype=np.int64)
        return np.full(cls.shape, int(repeat), dtype=np.int64)

    def _allowed(self) -> str:
        if self.nested_budgets:
            return f"1..{self.n_epochs}"
        return ", ".join(map(str, self._budgets)) + " (each a separate training run)"

    def _epochs(self, epochs: Any, shape: tuple[int, ...]) -> np.ndarray:
        allowed = self._allowed()
        if epochs is None:
            return np.full(shape, self.n_epochs, dtype=np.int64)
        if isinstance(epochs, bool):
            raise QueryError(f"epochs must be an int among {allowed}, got {epochs!r}")
        e = np.broadcast_to(np.asarray(epochs), shape)
        if e.dtype.kind not in "iu" or (e.size and (e.min() < 1 or e.max() > self.n_epochs)):
            raise QueryError(f"epochs must be ints among {allowed} for this surrogate")
        if e.size and (self._pos[e] < 0).any():
            raise QueryError(f"epochs must be among {allowed} for this surrogate")
        return e.astype(np.int64)

    def _times(self, cls: np.ndarray, e: np.ndarray) -> np.ndarray:
        if self.model.run_time is None:
            return np.asarray(self.model.cost[cls, 0] * e, dtype=np.float64)
        return np.asarray(self.model.run_time[cls, self._pos[e]], dtype=np.float64)

    def _noise(self, cls: np.ndarray, rep: np.ndarray, e: np.ndarray) -> np.ndarray:
        m = self.model
        seed = np.uint64(m.noise_seed & MASK64)
        r = np.maximum(rep, 0)
        jitter = self._jitter[self._pos[e]]
        d = m.sigma[cls] * std_normal(seed, cls, r, 0) + jitter * std_normal(seed, cls, r, e + 1)
        return np.where(rep >= 0, d, 0.0)

    def _noisy(self, acc: np.ndarray, d: np.ndarray, rep: np.ndarray) -> np.ndarray:
        """Accuracy ``acc`` moved by repeat noise ``d`` on the model's noise scale (the mean,
        ``rep < 0``, exactly as stored)."""
        if self.model.noise_scale == "logit":
            moved = special.expit(logodds(acc) + d)
        else:
            moved = np.clip(acc + d, 0.0, 1.0)
        return np.where(rep >= 0, moved, acc)

    def _valid_at(self, cls: np.ndarray, rep: np.ndarray, e: np.ndarray) -> np.ndarray:
        base = self.model.curves[cls, 3, self._pos[e]].astype(np.float64)
        return self._noisy(base, self._noise(cls, rep, e), rep)

    def _test_at(self, cls: np.ndarray, rep: np.ndarray, e: np.ndarray) -> np.ndarray:
        a, b, _, _ = self.model.test_map
        resid = self.model.test_resid * std_normal(self.model.noise_seed & MASK64, cls, rep, e, 3)
        acc = a + b * self._valid_at(cls, rep, e) + np.where(rep >= 0, resid, 0.0)
        return np.clip(acc, 0.0, 1.0)

    # -- queries ----------------------------------------------------------------------------
    def _query_many(
        self, archs: Any, epochs: int | np.ndarray | None, repeat: Repeat
    ) -> ResultBatch:
        idx = self.space.to_indices(archs)
        cls = self._cls[idx]
        e = self._epochs(epochs, idx.shape)
        rep = self._repeats(cls, repeat)
        mean = self.model.curves[cls, :, self._pos[e]].astype(np.float64)
        d = self._noise(cls, rep, e)
        cost = self.model.cost[cls]
        return ResultBatch(
            index=idx,
            epoch=e.copy(),
            repeat=rep,
            train_loss=mean[:, 0],
            train_acc=self._noisy(mean[:, 1], d, rep),
            valid_loss=mean[:, 2],
            valid_acc=self._noisy(mean[:, 3], d, rep),
            train_time=self._times(cls, e),
            params=cost[:, 1],
            flops=cost[:, 2],
            latency=cost[:, 3],
        )

    def _query(self, arch: Any, epochs: int | None, repeat: Repeat) -> Result:
        arch = self.space.coerce(arch)
        idx = self.space.to_index(arch)
        if epochs is not None and not is_int(epochs):
            raise QueryError(f"epochs must be an int among {self._allowed()}, got {epochs!r}")
        b = self._query_many(np.array([idx]), None if epochs is None else int(epochs), repeat)
        e = int(b.epoch[0])
        rep: Repeat = "mean" if b.repeat[0] < 0 else int(b.repeat[0])
        curve = None
        if self.nested_budgets:
            curve = self._query_many(np.full(e, idx), np.arange(1, e + 1), rep).valid_acc
            curve.flags.writeable = False
        return Result(
            arch=arch,
            index=idx,
            epoch=e,
            repeat=int(b.repeat[0]),
            train_loss=float(b.train_loss[0]),
            train_acc=float(b.train_acc[0]),
            valid_loss=float(b.valid_loss[0]),
            valid_acc=float(b.valid_acc[0]),
            train_time=float(b.train_time[0]),
            params=float(b.params[0]),
            flops=float(b.flops[0]),
            latency=float(b.latency[0]),
            valid_curve=curve,
        )

    def _test_many(
        self, idx: np.ndarray, epochs: int | np.ndarray | None, repeat: Repeat
    ) -> TestBatch:
        cls = self._cls[idx]
        e = self._epochs(epochs, idx.shape)
        rep = self._repeats(cls, repeat)
        _, _, la, lb = self.model.test_map
        loss = la + lb * self.model.curves[cls, 2, self._pos[e]].astype(np.float64)
        acc = self._test_at(cls, rep, e)
        return TestBatch(index=idx, epoch=e.copy(), repeat=rep, test_loss=loss, test_acc=acc)

    def with_run_seed(self, run_seed: int) -> SurrogateBenchmark:
        view = copy.copy(self)
        view.run_seed = int(run_seed)
        return view

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model to ``path`` (a versioned ``.npz``; written atomically)."""
        return write_model(self.model, Path(path))

    @staticmethod
    def load(  # type: ignore[override]
        path: str | os.PathLike[str] | None = None, *, run_seed: int = 0
    ) -> SurrogateBenchmark:
        """Read a surrogate written by :meth:`save`.

        Raises:
            SurrogateFileError: missing file, not a surrogate, an unknown version, or a
                missing or invalid field (named).
        """
        if path is None:
            raise SurrogateFileError("SurrogateBenchmark.load needs the path of a saved surrogate")
        return SurrogateBenchmark(read_model(Path(path)), run_seed=run_seed, origin=str(path))
