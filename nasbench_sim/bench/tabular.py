"""The Benchmark protocol and :class:`TabularBenchmark`, which answers queries from a table.

Seed semantics of ``query(arch, epochs=None, seed=None)``:

* ``seed=None`` — the repeat is drawn by the benchmark: a deterministic hash of
  ``(run_seed, table row)`` (common random numbers). Two strategies replayed with the same run
  seed see the same noise for the same cell, and re-querying a cell returns the same repeat,
  as re-reading the log of one training run would. Change the run seed with
  :meth:`Benchmark.with_run_seed`. A row missing some runs (an imported benchmark that lacks a
  seed for some cells: NaN in the table) draws among the runs it has; a complete row draws
  exactly as before.
* ``seed=k`` (int) — the ``k``-th stored repeat (``0 <= k < n_seeds``).
* ``seed="mean"`` — the mean over repeats (NaNs ignored).

Functionally equivalent cells share the row of their equivalence class when the table holds
only class representatives.

Time: a query is charged the table's recorded training time per epoch (``time_unit == "s"``).
A table that records no times (all ``cost/train_time_s`` NaN) charges one unit per epoch
trained instead (``time_unit == "epoch"``; budget it in queries, see
:func:`~nasbench_sim.search.experiment.parse_budget`); in a timed table, a cell without a
recorded time is charged the table's median epoch time (the file keeps NaN; ``info()`` counts
such cells).
"""

from __future__ import annotations

import abc
import copy
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nasbench_sim.bench.results import Result, ResultBatch, TestResult
from nasbench_sim.errors import CellNotInTableError, QueryError, TableError
from nasbench_sim.space import SearchSpace, get_space
from nasbench_sim.table import TableData, read_table

__all__ = ["DEFAULT_TABLE", "Benchmark", "Seed", "TabularBenchmark", "default_table_path"]

Seed = int | Literal["mean"] | None

DEFAULT_TABLE = "nb201_mnist1d.h5"
"""File name of the default table in ``data/``."""

_MASK64 = (1 << 64) - 1


def default_table_path() -> Path:
    """Where :meth:`Benchmark.load` looks with no argument: ``$NASBENCH_SIM_TABLE`` if set,
    else ``data/nb201_mnist1d.h5`` in the source tree."""
    env = os.environ.get("NASBENCH_SIM_TABLE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data" / DEFAULT_TABLE


def _crn_repeats(
    run_seed: int, n_rows: int, n_seeds: int, present: np.ndarray | None = None
) -> np.ndarray:
    """splitmix64 of (run_seed, row) mod n_seeds: the repeat each row answers with.

    With ``present`` (bool ``(n_rows, n_seeds)``: which runs a row has), a row draws among its
    own runs: the ``(h mod k)``-th present run of a row with ``k`` runs, which is the same
    repeat as without ``present`` when the row is complete."""
    with np.errstate(over="ignore"):
        z = np.arange(n_rows, dtype=np.uint64) + np.uint64(
            (run_seed * 0x9E3779B97F4A7C15) & _MASK64
        )
        z = z * np.uint64(0xBF58476D1CE4E5B9) + np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    if present is None or present.all():
        return (z % np.uint64(n_seeds)).astype(np.int64)
    k = present.sum(axis=1).astype(np.uint64)
    j = (z % np.maximum(k, np.uint64(1))).astype(np.int64)
    return np.argmax(np.cumsum(present, axis=1) > j[:, None], axis=1).astype(np.int64)


def _nanmean_repeats(values: np.ndarray) -> np.ndarray:
    """Mean over the repeat axis, NaNs ignored; NaN (without a warning) where a row has no
    value at an epoch (an imported split recorded only at the last epoch)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=1)


class Benchmark(abc.ABC):
    """What search strategies and the simulator query. Implemented by :class:`TabularBenchmark`
    and by the surrogate benchmark of ``predictors``.

    Example:
        >>> bench = Benchmark.load("table.h5")  # doctest: +SKIP
        >>> r = bench.query(11791, epochs=10)  # doctest: +SKIP
        >>> r.valid_acc, r.train_time  # doctest: +SKIP
    """

    space: SearchSpace
    n_epochs: int
    n_seeds: int
    run_seed: int
    dataset: str
    time_unit: str = "s"
    """What the clock counts: ``"s"`` (recorded seconds) or ``"epoch"`` (a table without
    recorded times: one unit per epoch trained; budget it in queries)."""

    @staticmethod
    def load(path: str | os.PathLike[str] | None = None, *, run_seed: int = 0) -> TabularBenchmark:
        """Open a table (``None``: the default table shipped in ``data/``)."""
        if path is None:
            path = default_table_path()
            if not Path(path).exists():
                raise TableError(
                    f"the default table {path} is not there: no default table has been built "
                    "and shipped yet. Pass a table path (CLI: --table T.h5), or use the clearly "
                    "labelled synthetic stand-in (CLI: --table synthetic; Python: "
                    "TabularBenchmark(make_synthetic_table(0)))."
                )
        return TabularBenchmark(read_table(path), run_seed=run_seed)

    @abc.abstractmethod
    def query(self, arch: Any, epochs: int | None = None, seed: Seed = None) -> Result:
        """Search-time metrics of ``arch`` after ``epochs`` epochs (default: all)."""

    @abc.abstractmethod
    def query_many(
        self, archs: Any, epochs: int | np.ndarray | None = None, seed: Seed = None
    ) -> ResultBatch:
        """Vectorised :meth:`query` over many architectures (indices, cells or strings)."""

    @abc.abstractmethod
    def test_result(self, arch: Any, epochs: int | None = None, seed: Seed = "mean") -> TestResult:
        """Held-out test metrics: the analysis path; never charged, never for searches."""

    @abc.abstractmethod
    def test_acc_many(self, archs: Any, seed: Seed = "mean") -> np.ndarray:
        """Final-epoch test accuracy of many architectures (analysis path)."""

    @property
    @abc.abstractmethod
    def best_test_acc(self) -> float:
        """Best final-epoch test accuracy (mean over repeats) of any cell: the regret origin."""

    @abc.abstractmethod
    def with_run_seed(self, run_seed: int) -> Benchmark:
        """A view of the same data whose ``seed=None`` draws follow ``run_seed``."""

    def epoch_time(self, arch: Any) -> float:
        """Training time of one epoch, seconds."""
        return self.query(arch, 1, seed="mean").train_time


class TabularBenchmark(Benchmark):
    """Answers queries by lookup in a :class:`~nasbench_sim.table.TableData`.

    Args:
        table: the table (see :func:`~nasbench_sim.table.read_table`).
        run_seed: seeds the common-random-number draw of repeats.
    """

    def __init__(self, table: TableData, run_seed: int = 0) -> None:
        self.table = table
        self.space = get_space(table.space)
        self.dataset = table.dataset
        self.n_epochs = table.n_epochs
        self.n_seeds = table.n_seeds
        self.run_seed = int(run_seed)
        m = table.metrics
        # (rows, seeds, epochs, 4): one fancy index answers a query.
        self._search = np.stack(
            [m["train_loss"], m["train_acc"], m["valid_loss"], m["valid_acc"]], axis=-1
        ).astype(np.float64)
        self._search.flags.writeable = False  # results hand out views of it
        self._test = np.stack([m["test_loss"], m["test_acc"]], axis=-1).astype(np.float64)
        c = table.cost
        self._cost = np.stack(
            [c["train_time_s"], c["params"], c["flops"], c["latency_s"]], axis=1
        ).astype(np.float64)
        self.time_unit = "s" if table.has_times else "epoch"
        untimed = ~np.isfinite(self._cost[:, 0])
        self.n_cells_without_time = int(untimed.sum()) if table.has_times else 0
        if untimed.any():  # the clock needs a price for every epoch; the file keeps NaN
            self._cost[untimed, 0] = np.nanmedian(self._cost[:, 0]) if table.has_times else 1.0
        self._row_of = self._build_row_of()
        present = np.isfinite(self._search).any(axis=(2, 3))
        self._present = np.asarray(present | np.isfinite(self._test).any(axis=(2, 3)))
        self._repeat_of_row = _crn_repeats(
            self.run_seed, table.n_cells, self.n_seeds, self._present
        )
        self._search_mean: np.ndarray | None = None
        self._test_mean: np.ndarray | None = None

    def _build_row_of(self) -> np.ndarray:
        space = self.space
        row_of = np.full(space.size, -1, dtype=np.int64)
        rows = np.arange(self.table.n_cells, dtype=np.int64)
        cls = space.class_ids()
        class_row = np.full(space.n_classes, -1, dtype=np.int64)
        class_row[cls[self.table.arch_index]] = rows
        row_of[:] = class_row[cls]
        row_of[self.table.arch_index] = rows  # an exact row wins over its class's row
        return row_of

    # -- helpers ----------------------------------------------------------------------------
    def _index(self, arch: Any) -> tuple[Any, int, int]:
        space = self.space
        arch = space.coerce(arch)
        idx = space.to_index(arch)
        row = int(self._row_of[idx])
        if row < 0:
            raise CellNotInTableError(
                f"the table holds no row for {arch} (nor for its equivalence class); "
                f"it covers {self.table.n_cells} rows"
            )
        return arch, idx, row

    def _epoch(self, epochs: int | None) -> int:
        if epochs is None:
            return self.n_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)):
            raise QueryError(f"epochs must be an int in 1..{self.n_epochs}, got {epochs!r}")
        if not 1 <= epochs <= self.n_epochs:
            raise QueryError(f"epochs={epochs} is outside 1..{self.n_epochs} for this table")
        return int(epochs)

    def _check_seed(self, seed: Seed) -> None:
        if seed is None or seed == "mean":
            return
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise QueryError(f"seed must be None, 'mean' or an int repeat, got {seed!r}")
        if not 0 <= seed < self.n_seeds:
            raise QueryError(
                f"seed={seed}: this table has {self.n_seeds} repeats, allowed 0..{self.n_seeds - 1}"
            )

    def repeat_for(self, arch: Any) -> int:
        """The repeat that ``seed=None`` answers with for ``arch`` under this run seed."""
        return int(self._repeat_of_row[self._index(arch)[2]])

    @property
    def search_mean(self) -> np.ndarray:
        if self._search_mean is None:
            self._search_mean = _nanmean_repeats(self._search)
            self._search_mean.flags.writeable = False
        return self._search_mean

    @property
    def test_mean(self) -> np.ndarray:
        if self._test_mean is None:
            self._test_mean = _nanmean_repeats(self._test)
        return self._test_mean

    # -- queries ----------------------------------------------------------------------------
    def query(self, arch: Any, epochs: int | None = None, seed: Seed = None) -> Result:
        arch, idx, row = self._index(arch)
        e = self._epoch(epochs)
        if seed is None:
            rep = int(self._repeat_of_row[row])
            block = self._search[row, rep]
        elif seed == "mean":
            rep = -1
            block = self.search_mean[row]
        else:
            self._check_seed(seed)
            rep = int(seed)
            block = self._search[row, rep]
        vals = block[e - 1].tolist()
        t, params, flops, lat = self._cost[row].tolist()
        return Result(
            arch,
            idx,
            e,
            rep,
            vals[0],
            vals[1],
            vals[2],
            vals[3],
            t * e,
            params,
            flops,
            lat,
            block[:e, 3],
        )

    def query_many(
        self, archs: Any, epochs: int | np.ndarray | None = None, seed: Seed = None
    ) -> ResultBatch:
        idx = self.space.to_indices(archs)
        rows = self._row_of[idx]
        if (rows < 0).any():
            bad = int(idx[np.argmax(rows < 0)])
            raise CellNotInTableError(f"the table holds no row for cell index {bad}")
        if epochs is None:
            e = np.full(idx.shape, self.n_epochs, dtype=np.int64)
        else:
            e = np.broadcast_to(np.asarray(epochs, dtype=np.int64), idx.shape)
            if e.size and (e.min() < 1 or e.max() > self.n_epochs):
                raise QueryError(f"epochs must lie in 1..{self.n_epochs} for this table")
        self._check_seed(seed)
        if seed == "mean":
            rep = np.full(idx.shape, -1, dtype=np.int64)
            vals = self.search_mean[rows, e - 1]
        else:
            rep = self._repeat_of_row[rows] if seed is None else np.full(idx.shape, int(seed))
            vals = self._search[rows, rep, e - 1]
        cost = self._cost[rows]
        return ResultBatch(
            index=idx,
            epoch=e.copy(),
            repeat=rep,
            train_loss=vals[:, 0],
            train_acc=vals[:, 1],
            valid_loss=vals[:, 2],
            valid_acc=vals[:, 3],
            train_time=cost[:, 0] * e,
            params=cost[:, 1],
            flops=cost[:, 2],
            latency=cost[:, 3],
        )

    def test_result(self, arch: Any, epochs: int | None = None, seed: Seed = "mean") -> TestResult:
        _arch, idx, row = self._index(arch)
        e = self._epoch(epochs)
        self._check_seed(seed)
        if seed == "mean":
            loss, acc = self.test_mean[row, e - 1].tolist()
            rep = -1
        else:
            rep = int(self._repeat_of_row[row]) if seed is None else int(seed)
            loss, acc = self._test[row, rep, e - 1].tolist()
        return TestResult(idx, e, rep, loss, acc)

    def test_acc_many(self, archs: Any, seed: Seed = "mean") -> np.ndarray:
        rows = self._row_of[self.space.to_indices(archs)]
        if (rows < 0).any():
            raise CellNotInTableError("the table holds no row for some of these cells")
        self._check_seed(seed)
        if seed == "mean":
            return self.test_mean[rows, -1, 1]
        rep = self._repeat_of_row[rows] if seed is None else np.full(rows.shape, int(seed))
        return self._test[rows, rep, -1, 1]

    @property
    def best_test_acc(self) -> float:
        return float(np.nanmax(self.test_mean[:, -1, 1]))

    def with_run_seed(self, run_seed: int) -> TabularBenchmark:
        _ = self.search_mean, self.test_mean  # computed once here, shared by every view
        view = copy.copy(self)
        view.run_seed = int(run_seed)
        view._repeat_of_row = _crn_repeats(
            view.run_seed, self.table.n_cells, self.n_seeds, self._present
        )
        return view

    # -- description ------------------------------------------------------------------------
    def discrimination(self) -> dict[str, float | None]:
        """How well the table tells cells apart, from the final epoch of every row.

        ``seed_kendall_tau``: Kendall τ between two training seeds' validation accuracies, the
        mean over all pairs of seeds (``None`` with one seed): the ceiling of any ranking
        the table can support. ``seed_std_valid``: the median over rows of the standard
        deviation of validation accuracy across seeds (``None`` with one seed).
        ``valid_test_pearson``: correlation of the seed-mean validation and test accuracy
        (does searching on validation find what is good on test?).
        """
        import warnings

        from scipy import stats

        def finite(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        valid = np.asarray(self.table.metrics["valid_acc"][:, :, -1], dtype=np.float64)
        taus = []
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # rows with one finite seed, constant columns: no statistic, never a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            for i in range(valid.shape[1]):
                for j in range(i + 1, valid.shape[1]):
                    ok = np.isfinite(valid[:, i]) & np.isfinite(valid[:, j])
                    if ok.sum() > 2:
                        taus.append(stats.kendalltau(valid[ok, i], valid[ok, j]).statistic)
            v, t = self.search_mean[:, -1, 3], self.test_mean[:, -1, 1]
            ok = np.isfinite(v) & np.isfinite(t)
            pearson = finite(np.corrcoef(v[ok], t[ok])[0, 1]) if ok.sum() > 2 else None
            spread = np.nanstd(valid, axis=1, ddof=1) if valid.shape[1] > 1 else None
            tau = finite(np.nanmean(taus)) if taus else None
            noise = finite(np.nanmedian(spread)) if spread is not None else None
        return {"seed_kendall_tau": tau, "seed_std_valid": noise, "valid_test_pearson": pearson}

    def missing_runs(self) -> dict[str, int]:
        """Seed label -> rows that lack that run (all NaN in the table; never filled)."""
        absent = ~self._present
        return {
            str(int(s)): int(absent[:, j].sum())
            for j, s in enumerate(self.table.seeds)
            if absent[:, j].any()
        }

    def _times_text(self) -> str:
        if self.time_unit == "epoch":
            return "none recorded: the clock counts epochs, budget in queries"
        kind = self.table.provenance.get("times", {})
        kind = kind.get("kind") if isinstance(kind, dict) else None
        text = "pseudo (per-epoch constants, see provenance)" if kind == "pseudo" else "recorded"
        if self.n_cells_without_time:
            text += f"; {self.n_cells_without_time} cells without: charged the median"
        return text

    def info(self) -> dict[str, Any]:
        """A JSON-able summary: size, repeats, epochs, metrics, dataset, protocol, accuracy."""
        final_test = self.test_mean[:, -1, 1]
        covered = int((self._row_of >= 0).sum())
        return {
            "space": self.space.name,
            "dataset": self.dataset,
            "rows": self.table.n_cells,
            "cells_covered": covered,
            "space_size": self.space.size,
            "seeds": self.table.seeds.tolist(),
            "epochs": self.n_epochs,
            "metrics": sorted(self.table.metrics),
            "cost_metrics": sorted(self.table.cost),
            "best_test_acc": float(np.nanmax(final_test)),
            "median_test_acc": float(np.nanmedian(final_test)),
            "missing_runs": self.missing_runs(),
            "times": self._times_text(),
            **self.discrimination(),
            "synthetic": self.table.is_synthetic,
            "protocol": dict(self.table.protocol),
            "provenance": dict(self.table.provenance),
            "created": self.table.created,
        }
