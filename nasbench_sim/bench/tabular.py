""":class:`TabularBenchmark`: the :class:`~nasbench_sim.bench.Benchmark` interface answered by
lookup in a table.

The ``repeat=None`` draw is a hash of ``(run_seed, table row)`` (common random numbers, see
:mod:`nasbench_sim.bench.crn`); see :mod:`nasbench_sim.bench.base` for the repeat semantics.
Functionally equivalent cells share the row of their equivalence class when the table holds
only class representatives; a table may cover only some cells of its space
(:attr:`TabularBenchmark.candidate_cells`).

A row missing some runs (an imported benchmark that lacks a seed for some cells: NaN in the
table) draws its ``repeat=None`` repeat among the runs it has; a complete row draws exactly as
before, and a missing run is never filled with another.

Budgets: a table whose ``budgets`` dataset lists the epochs of each position of its epoch axis
(NAS-Bench-101: ``4, 12, 36, 108``) answers those epoch counts only, each a training run of its
own (:attr:`~nasbench_sim.bench.Benchmark.nested_budgets` is False) whose recorded time,
``metrics/train_time_s``, is what the query costs; its results carry no learning curve. A
table without ``budgets`` is a per-epoch curve: every epoch ``1 .. n_epochs`` of one run.

Time: a query is charged the table's recorded training time per epoch (``time_unit == "s"``),
or, where the table records the time of each run (``metrics/train_time_s``), that time.
A table that records no times (all ``cost/train_time_s`` NaN) charges one unit per epoch
trained instead (``time_unit == "epoch"``; budget it in queries, see
:func:`~nasbench_sim.search.experiment.parse_budget`); in a timed table, a cell without a
recorded time is charged the table's median epoch time (the file keeps NaN; ``info()`` counts
such cells).
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.bench.base import Benchmark, Repeat, Source
from nasbench_sim.bench.crn import crn_repeats
from nasbench_sim.bench.default_table import DEFAULT_TABLE, default_table_path, no_default_table
from nasbench_sim.bench.discrimination import discrimination
from nasbench_sim.bench.results import Result, ResultBatch, TestBatch
from nasbench_sim.checks import is_int
from nasbench_sim.errors import CellNotInTableError, QueryError, TableError
from nasbench_sim.table import TableData, read_table

__all__ = ["DEFAULT_TABLE", "TabularBenchmark", "default_table_path"]


def _nanmean_repeats(values: np.ndarray) -> np.ndarray:
    """Mean over the repeat axis, NaNs ignored; NaN (without a warning) where a row has no
    value at an epoch (an imported split recorded only at the last epoch)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=1)


class TabularBenchmark(Benchmark):
    """Answers queries by lookup in a :class:`~nasbench_sim.table.TableData`.

    Args:
        table: the table (see :func:`~nasbench_sim.table.read_table`).
        run_seed: seeds the common-random-number draw of repeats.
        origin: where the table came from, for :attr:`source` (a path or a spec).
        in_progress: the table holds the chunks a running build has committed so far.

    Raises:
        TableError: ``table`` fails :meth:`~nasbench_sim.table.TableData.validate` (a table
            made in memory is checked here; one from ``read_table`` was, as it was read).
    """

    def __init__(
        self,
        table: TableData,
        run_seed: int = 0,
        *,
        origin: str = "memory",
        in_progress: bool = False,
    ) -> None:
        table.ensure_valid(origin)  # a table made in memory gets the checks a file got
        self.table = table
        self.space = table.arch_space
        self.dataset = table.dataset
        self._budgets = tuple(int(e) for e in table.epoch_axis)
        self.n_epochs = self._budgets[-1]
        self.nested_budgets = table.budgets is None
        self._pos = np.full(self.n_epochs + 1, -1, dtype=np.int64)  # epochs -> axis position
        self._pos[list(self._budgets)] = np.arange(len(self._budgets))
        self.n_seeds = table.n_seeds
        self.run_seed = int(run_seed)
        m = table.metrics
        # (rows, seeds, epochs, 4): one fancy index answers a query.
        f64 = np.float64
        names = ("train_loss", "train_acc", "valid_loss", "valid_acc")
        self._search = np.stack([m[n] for n in names], axis=-1, dtype=f64)
        self._search.flags.writeable = False  # results hand out views of it
        self._test = np.stack([m["test_loss"], m["test_acc"]], axis=-1, dtype=f64)
        c = table.cost
        costs = ("train_time_s", "params", "flops", "latency_s")
        self._cost = np.stack([c[n] for n in costs], axis=1, dtype=f64)
        run = m.get("train_time_s")  # the recorded time of each (row, repeat, budget) run
        self._run_time = None if run is None else np.asarray(run)  # float32: exact in a float
        self._run_time_mean: np.ndarray | None = None
        self.time_unit = "s" if table.has_times else "epoch"
        untimed = ~np.isfinite(self._cost[:, 0])
        self.n_cells_without_time = int(untimed.sum()) if table.has_times else 0
        if untimed.any():  # the clock needs a price for every epoch; the file keeps NaN
            self._cost[untimed, 0] = np.nanmedian(self._cost[:, 0]) if table.has_times else 1.0
        self._row_of = self._build_row_of()
        self._cells = np.flatnonzero(self._row_of >= 0).astype(np.int64)
        self._cells.flags.writeable = False
        present = np.isfinite(self._search).any(axis=(2, 3))
        self._present = np.asarray(present | np.isfinite(self._test).any(axis=(2, 3)))
        self._repeat_of_row = crn_repeats(self.run_seed, table.n_cells, self.n_seeds, self._present)
        self._search_mean: np.ndarray | None = None
        self._test_mean: np.ndarray | None = None
        self._source = Source(
            "table",
            table.is_synthetic,
            origin,
            f"{table.n_cells} rows",
            in_progress=in_progress,
        )

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str] | None = None, *, run_seed: int = 0
    ) -> TabularBenchmark:
        """Open a table file (``None``: the default table shipped in ``data/``)."""
        if path is None:
            path = default_table_path()
            if not Path(path).exists():
                raise TableError(no_default_table(Path(path)))
        return cls(read_table(path), run_seed=run_seed, origin=str(path))

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

    # -- the interface's descriptions --------------------------------------------------------
    @property
    def training_seeds(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.table.seeds)

    @property
    def candidate_cells(self) -> np.ndarray:
        return self._cells

    @property
    def distinct_cells(self) -> np.ndarray:
        return np.sort(np.asarray(self.table.arch_index, dtype=np.int64))

    @property
    def budgets(self) -> tuple[int, ...]:
        return self._budgets

    @property
    def full_training_time(self) -> float:
        full = self._cost[:, 0] * self.n_epochs  # untimed cells: the median
        if self._run_time is not None and self.time_unit == "s":
            runs = self.run_time_mean[:, -1]
            full = np.where(np.isfinite(runs), runs, full)
        return float(np.median(full))

    @property
    def best_test_acc(self) -> float:
        return float(np.nanmax(self.test_mean[:, -1, 1]))

    # -- helpers ----------------------------------------------------------------------------
    def _index(self, arch: Any) -> tuple[Any, int, int]:
        space = self.space
        arch = space.coerce(arch)
        idx = space.to_index(arch)
        row = int(self._row_of[idx])
        if row < 0:
            raise CellNotInTableError(
                f"the table holds no row for {arch} (nor for its equivalence class); it covers "
                f"{self._cells.size} of the space's {space.size} cells ({self.table.n_cells} "
                "rows): search them through bench.search_space / bench.candidate_cells"
            )
        return arch, idx, row

    def _rows(self, idx: np.ndarray) -> np.ndarray:
        rows = self._row_of[idx]
        if (rows < 0).any():
            bad = int(idx[np.argmax(rows < 0)])
            raise CellNotInTableError(
                f"the table holds no row for cell index {bad}; it covers {self._cells.size} of "
                f"the space's {self.space.size} cells"
            )
        return rows

    def _allowed(self) -> str:
        if self.nested_budgets:
            return f"1..{self.n_epochs}"
        return ", ".join(map(str, self._budgets)) + " (each a separate training run)"

    def _epoch(self, epochs: int | None) -> int:
        if epochs is None:
            return self.n_epochs
        if not is_int(epochs):
            raise QueryError(f"epochs must be an int among {self._allowed()}, got {epochs!r}")
        if not 1 <= epochs <= self.n_epochs:
            raise QueryError(f"epochs={epochs} is outside {self._allowed()} for this table")
        if self._pos[epochs] < 0:
            raise QueryError(f"epochs={epochs} is not a budget of this table: {self._allowed()}")
        return int(epochs)

    def _epochs(self, epochs: int | np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
        if epochs is None:
            return np.full(shape, self.n_epochs, dtype=np.int64)
        e = np.broadcast_to(np.asarray(epochs, dtype=np.int64), shape)
        if e.size and (e.min() < 1 or e.max() > self.n_epochs or (self._pos[e] < 0).any()):
            raise QueryError(f"epochs must be among {self._allowed()} for this table")
        return e

    @property
    def run_time_mean(self) -> np.ndarray:
        """Repeat mean of the recorded run times ``(rows, positions)`` (NaN without any)."""
        if self._run_time_mean is None:
            assert self._run_time is not None
            self._run_time_mean = _nanmean_repeats(self._run_time.astype(np.float64))
        return self._run_time_mean

    def _times(self, rows: Any, rep: Any, pos: Any, e: Any, mean: bool) -> Any:
        """Seconds behind results: the recorded run time where the table has one, else the
        epoch time times ``e``."""
        per_epoch = self._cost[rows, 0] * e
        if self._run_time is None or self.time_unit != "s":
            return per_epoch
        run = self.run_time_mean[rows, pos] if mean else self._run_time[rows, rep, pos]
        return np.where(np.isfinite(run), run, per_epoch)

    def repeat_for(self, arch: Any) -> int:
        """The repeat that ``repeat=None`` answers with for ``arch`` (-1: the mean)."""
        if self.default_repeat is not None:
            return -1 if self.default_repeat == "mean" else int(self.default_repeat)
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
    def _query(self, arch: Any, epochs: int | None, repeat: Repeat) -> Result:
        arch, idx, row = self._index(arch)
        e = self._epoch(epochs)
        p = int(self._pos[e])
        if repeat is None:
            rep = int(self._repeat_of_row[row])
            block = self._search[row, rep]
        elif repeat == "mean":
            rep = -1
            block = self.search_mean[row]
        else:
            rep = int(repeat)
            block = self._search[row, rep]
        train_loss, train_acc, valid_loss, valid_acc = block[p].tolist()
        t, params, flops, lat = self._cost[row].tolist()
        train_time = t * e
        if self._run_time is not None and self.time_unit == "s":
            run = float(self.run_time_mean[row, p] if rep < 0 else self._run_time[row, rep, p])
            if run == run:  # recorded (not NaN)
                train_time = run
        return Result(
            arch=arch,
            index=idx,
            epoch=e,
            repeat=rep,
            train_loss=train_loss,
            train_acc=train_acc,
            valid_loss=valid_loss,
            valid_acc=valid_acc,
            train_time=train_time,
            params=params,
            flops=flops,
            latency=lat,
            valid_curve=block[: p + 1, 3] if self.nested_budgets else None,
        )

    def _query_many(
        self, archs: Any, epochs: int | np.ndarray | None, repeat: Repeat
    ) -> ResultBatch:
        idx = self.space.to_indices(archs)
        rows = self._rows(idx)
        e = self._epochs(epochs, idx.shape)
        pos = self._pos[e]
        if repeat == "mean":
            rep = np.full(idx.shape, -1, dtype=np.int64)
            vals = self.search_mean[rows, pos]
        else:
            rep = self._repeat_of_row[rows] if repeat is None else np.full(idx.shape, int(repeat))
            vals = self._search[rows, rep, pos]
        cost = self._cost[rows]
        return ResultBatch(
            index=idx,
            epoch=e.copy(),
            repeat=rep,
            train_loss=vals[:, 0],
            train_acc=vals[:, 1],
            valid_loss=vals[:, 2],
            valid_acc=vals[:, 3],
            train_time=self._times(rows, rep, pos, e, repeat == "mean"),
            params=cost[:, 1],
            flops=cost[:, 2],
            latency=cost[:, 3],
        )

    def _test_many(
        self, idx: np.ndarray, epochs: int | np.ndarray | None, repeat: Repeat
    ) -> TestBatch:
        rows = self._rows(idx)
        e = self._epochs(epochs, idx.shape)
        pos = self._pos[e]
        if repeat == "mean":
            rep = np.full(idx.shape, -1, dtype=np.int64)
            vals = self.test_mean[rows, pos]
        else:
            rep = self._repeat_of_row[rows] if repeat is None else np.full(idx.shape, int(repeat))
            vals = self._test[rows, rep, pos]
        return TestBatch(
            index=idx, epoch=e.copy(), repeat=rep, test_loss=vals[:, 0], test_acc=vals[:, 1]
        )

    def with_run_seed(self, run_seed: int) -> TabularBenchmark:
        _ = self.search_mean, self.test_mean  # computed once here, shared by every view
        if self._run_time is not None:
            _ = self.run_time_mean
        view = copy.copy(self)
        view.run_seed = int(run_seed)
        view._repeat_of_row = crn_repeats(
            view.run_seed, self.table.n_cells, self.n_seeds, self._present
        )
        return view

    # -- description ------------------------------------------------------------------------
    def discrimination(self) -> dict[str, float | None]:
        """How well the table tells cells apart, from the final epoch of every row (see
        :func:`~nasbench_sim.bench.discrimination.discrimination`)."""
        valid = self.table.metrics["valid_acc"][:, :, -1]
        return discrimination(valid, self.search_mean[:, -1, 3], self.test_mean[:, -1, 1])

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
        if not self.nested_budgets:
            text += " per run (each budget a separate training run)"
        if self.n_cells_without_time:
            text += f"; {self.n_cells_without_time} cells without: charged the median"
        return text

    def info(self) -> dict[str, Any]:
        """A JSON-able summary: source, size, repeats, epochs, metrics, dataset, protocol,
        accuracy and how well the table discriminates."""
        final_test = self.test_mean[:, -1, 1]
        return {
            **super().info(),
            "rows": self.table.n_cells,
            "metrics": sorted(self.table.metrics),
            "cost_metrics": sorted(self.table.cost),
            "median_test_acc": float(np.nanmedian(final_test)),
            "missing_runs": self.missing_runs(),
            "times": self._times_text(),
            **self.discrimination(),
            "protocol": dict(self.table.protocol),
            "provenance": dict(self.table.provenance),
            "created": self.table.created or ("not yet" if self.source.in_progress else ""),
        }
