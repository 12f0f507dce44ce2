"""The Benchmark interface: what searches, predictors, the simulator and analysis ask of any
source of training results (a table, a build in progress, a surrogate, an imported benchmark).

Public methods live here and do the argument handling once (repeats, training-seed labels,
the deprecated ``seed=`` keyword); a benchmark implements the underscored hooks.

Repeats. A benchmark holds ``n_seeds`` repeats of each cell's training. ``repeat=`` picks
which one a query reads:

* ``None`` — the benchmark draws it: a deterministic hash of ``(run_seed, cell)`` (common
  random numbers). Two strategies replayed with the same run seed see the same noise for the
  same cell, and re-querying a cell returns the same repeat, as re-reading the log of one
  training run would. Change the run seed with :meth:`Benchmark.with_run_seed`.
* ``k`` (int) — the ``k``-th stored repeat (``0 <= k < n_seeds``): a position, not a seed.
* ``"mean"`` — the mean over repeats (missing values ignored).

A search never names a repeat: its queries read the run seed's draw, one training run per cell,
as a real search sees one. :meth:`Benchmark.with_default_repeat` makes a view whose queries
without ``repeat`` read another (``"mean"``: the seeds' mean, a less noisy benchmark than any
real search has; ``k``: always the k-th repeat), and whose :attr:`Benchmark.source` says so.

``training_seed=S`` asks for the repeat that was trained with seed ``S`` (a label from
:attr:`Benchmark.training_seeds`).

Budgets. A query asks for a number of epochs among :attr:`Benchmark.budgets` (every epoch
``1 .. n_epochs`` of a per-epoch learning curve; ``4, 12, 36, 108`` on NAS-Bench-101).
:attr:`Benchmark.nested_budgets` says whether a lower budget is the beginning of the same
training run (a per-epoch curve: continuing it costs the extra epochs) or a training run of
its own (NAS-Bench-101: a 36-epoch result costs a whole 36-epoch run, whatever was trained
before); the simulated clock prices queries by it (:mod:`nasbench_sim.bench.clock`).

The keyword ``seed=`` of earlier versions meant ``repeat=``; it still works, with a
:class:`DeprecationWarning`.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import os
import warnings
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nasbench_sim.bench.results import Result, ResultBatch, TestBatch, TestResult
from nasbench_sim.bench.source import Source
from nasbench_sim.checks import is_int
from nasbench_sim.errors import QueryError
from nasbench_sim.space import SearchSpace

if TYPE_CHECKING:
    from nasbench_sim.bench.tabular import TabularBenchmark

__all__ = ["Benchmark", "Repeat", "Seed", "Source"]

Repeat = int | Literal["mean"] | None
"""Which stored repeat a query reads: ``None`` (the run-seed draw, or a view's default: see
:meth:`Benchmark.with_default_repeat`), an index, or ``"mean"``."""
Seed = Repeat
"""Deprecated name of :data:`Repeat`."""

_UNSET: Any = object()


class Benchmark(abc.ABC):
    """What search strategies, predictors, the simulator and analysis query.

    Implemented by :class:`~nasbench_sim.bench.TabularBenchmark` (a table) and
    :class:`~nasbench_sim.bench.SurrogateBenchmark` (a fitted surrogate); open any of them
    with :func:`nasbench_sim.open`.

    Attributes:
        space: the whole search space (identity, encodings, classes).
        n_epochs: epochs of every learning curve.
        n_seeds: stored repeats per cell.
        run_seed: the seed of the ``repeat=None`` draw.
        dataset: the dataset the cells were trained on.

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=4))
        >>> r = bench.query(11791, epochs=2, repeat=1)
        >>> r.epoch, r.repeat, bench.source.synthetic
        (2, 1, True)
    """

    space: SearchSpace
    n_epochs: int
    n_seeds: int
    run_seed: int
    dataset: str
    time_unit: str = "s"
    """What the clock counts: ``"s"`` (recorded seconds) or ``"epoch"`` (a table without
    recorded times: one unit per epoch trained; budget it in queries)."""
    nested_budgets: bool = True
    """True when a result at ``e`` epochs is the first ``e`` epochs of the full training run
    (a learning curve); False when each budget is a training run of its own (NAS-Bench-101)."""
    default_repeat: Repeat = None
    """What a query without ``repeat`` reads: ``None``, the run seed's draw; ``"mean"`` or an
    index in a view of :meth:`with_default_repeat`."""
    _source: Source

    @property
    def budgets(self) -> tuple[int, ...]:
        """The epoch counts a query may ask for, increasing; the last is :attr:`n_epochs`."""
        return tuple(range(1, self.n_epochs + 1))

    @property
    def features(self) -> frozenset[str]:
        """What the benchmark offers beyond the interface: its space's
        :attr:`~nasbench_sim.space.SearchSpace.features`, and ``"curves"`` when every query
        returns the learning curve of one run up to any epoch (per-epoch budgets, nested)."""
        curves = self.nested_budgets and self.budgets == tuple(range(1, self.n_epochs + 1))
        return frozenset(self.space.features) | ({"curves"} if curves else set())

    # -- what it is and what it covers -------------------------------------------------------
    @property
    def source(self) -> Source:
        """Where the numbers come from (kind, synthetic or not, origin; what queries read)."""
        return self._source

    @property
    def training_seeds(self) -> tuple[int, ...]:
        """The training seed of each stored repeat (its label), in repeat order."""
        return tuple(range(self.n_seeds))

    @property
    @abc.abstractmethod
    def candidate_cells(self) -> np.ndarray:
        """Sorted int64 indices of every cell the benchmark answers for (read-only)."""

    @property
    def distinct_cells(self) -> np.ndarray:
        """One cell per distinct entry of data (a table's rows; a class representative per
        covered class otherwise): what a harness draws from without repeating a result."""
        cells = self.candidate_cells
        reps = self.space.representatives()
        return np.sort(reps[np.unique(self.space.class_ids()[cells])])

    @property
    def covers_space(self) -> bool:
        """Whether every cell of the space can be queried."""
        return int(self.candidate_cells.size) == self.space.size

    @cached_property
    def search_space(self) -> SearchSpace:
        """The space searches run in: :attr:`space`, restricted to :attr:`candidate_cells`
        when the benchmark does not cover all of it."""
        if self.covers_space:
            return self.space
        return self.space.restrict(self.candidate_cells)

    @property
    @abc.abstractmethod
    def full_training_time(self) -> float:
        """Median over the benchmark's cells of the seconds one full training (all
        ``n_epochs``) takes: the unit of a ``150x`` budget."""

    @property
    @abc.abstractmethod
    def best_test_acc(self) -> float:
        """Best final-epoch test accuracy (mean over repeats) of any covered cell: the origin
        of regret."""

    # -- queries -----------------------------------------------------------------------------
    def query(
        self,
        arch: Any,
        epochs: int | None = None,
        repeat: Repeat = None,
        *,
        training_seed: int | None = None,
        seed: Any = _UNSET,
    ) -> Result:
        """Search-time metrics of ``arch`` after ``epochs`` epochs (default: all).

        Args:
            arch: a cell, its string form or its index (NAS-Bench-101: also its graph hash).
            epochs: epochs trained, one of :attr:`budgets` (``None``: ``n_epochs``).
            repeat: which stored repeat (see the module docstring).
            training_seed: the repeat trained with this seed (instead of ``repeat``).
            seed: deprecated name of ``repeat``.
        """
        return self._query(arch, epochs, self.resolve_repeat(repeat, training_seed, seed))

    def query_many(
        self,
        archs: Any,
        epochs: int | np.ndarray | None = None,
        repeat: Repeat = None,
        *,
        training_seed: int | None = None,
        seed: Any = _UNSET,
    ) -> ResultBatch:
        """Vectorised :meth:`query` over many architectures (indices, cells or strings)."""
        return self._query_many(archs, epochs, self.resolve_repeat(repeat, training_seed, seed))

    def test_result(
        self,
        arch: Any,
        epochs: int | None = None,
        repeat: Repeat = "mean",
        *,
        training_seed: int | None = None,
        seed: Any = _UNSET,
    ) -> TestResult:
        """Held-out test metrics of one cell: the analysis path; never charged, never for
        searches."""
        rep = self.resolve_repeat(repeat, training_seed, seed)
        b = self._test_many(np.array([self.space.to_index(self.space.coerce(arch))]), epochs, rep)
        return TestResult(
            index=int(b.index[0]),
            epoch=int(b.epoch[0]),
            repeat=int(b.repeat[0]),
            test_loss=float(b.test_loss[0]),
            test_acc=float(b.test_acc[0]),
        )

    def test_many(
        self,
        archs: Any,
        epochs: int | np.ndarray | None = None,
        repeat: Repeat = "mean",
        *,
        training_seed: int | None = None,
    ) -> TestBatch:
        """Held-out test loss and accuracy of many cells (analysis path)."""
        rep = self.resolve_repeat(repeat, training_seed, _UNSET)
        return self._test_many(self.space.to_indices(archs), epochs, rep)

    def test_acc_many(
        self, archs: Any, repeat: Repeat = "mean", *, seed: Any = _UNSET
    ) -> np.ndarray:
        """Final-epoch test accuracy of many cells (analysis path)."""
        rep = self.resolve_repeat(repeat, None, seed)
        return self._test_many(self.space.to_indices(archs), None, rep).test_acc

    def epoch_time(self, arch: Any) -> float:
        """Training time of one epoch of the full training, seconds (repeat mean)."""
        return self.query(arch, self.n_epochs, repeat="mean").train_time / self.n_epochs

    # -- views and descriptions --------------------------------------------------------------
    @abc.abstractmethod
    def with_run_seed(self, run_seed: int) -> Benchmark:
        """A view of the same data whose ``repeat=None`` draws follow ``run_seed``."""

    def with_default_repeat(self, repeat: Repeat) -> Benchmark:
        """A view of the same data whose queries without ``repeat`` (every search's) read
        ``repeat``: ``"mean"``, the mean over the stored repeats (the noise of one training run
        averaged away, as NAS-Bench-201's ``is_random=False``), ``k`` the k-th stored repeat,
        ``None`` the run seed's draw again. Run-seed views of it keep the setting, and its
        :attr:`source` says it, so every report made from it does.

        Raises:
            QueryError: ``repeat`` is not ``None``, ``"mean"`` or a stored repeat's index, or
                some covered cells lack repeat ``k`` (a search would be served no result).
        """
        n = self.n_seeds
        if not (repeat is None or repeat == "mean" or (is_int(repeat) and 0 <= repeat < n)):
            raise QueryError(
                f"{repeat!r} is not a repeat to read: this benchmark holds {n} repeat(s) of each "
                f"cell, 0..{n - 1} (trained with seeds {', '.join(map(str, self.training_seeds))})"
                ", or None (the run seed's draw) or 'mean'"
            )
        rep = None if repeat is None else repeat if repeat == "mean" else int(repeat)
        if rep is None:
            reads = ""
        elif rep == "mean":
            reads = f"the mean of {self.n_seeds} repeats"
            if any(self._cells_lacking(k) for k in range(self.n_seeds)):  # over what it has
                reads = f"the mean of each cell's available repeats (up to {self.n_seeds})"
        elif lacking := self._cells_lacking(int(rep)):
            raise QueryError(
                f"repeat {rep} is missing for {lacking:,} of the {self.candidate_cells.size:,} "
                "covered cells that have other repeats: a search would be served no result for "
                "them; read the run seed's draw or the mean instead"
            )
        else:
            reads = f"repeat {rep} (training seed {self.training_seeds[int(rep)]})"
        view = copy.copy(self)
        view.default_repeat = rep
        view._source = dataclasses.replace(self.source, reads=reads)
        return view

    def _cells_lacking(self, k: int) -> int:
        """Covered cells that have a final validation accuracy in some repeat but not in
        repeat ``k`` (a cell whose every run failed has none in any)."""
        cells, e = self.candidate_cells, self.n_epochs
        acc = self._query_many(cells, e, k).valid_acc
        some = self._query_many(cells, e, "mean").valid_acc
        return int((np.isnan(acc) & ~np.isnan(some)).sum())

    def info(self) -> dict[str, Any]:
        """A JSON-able summary; benchmarks add what they know."""
        return {
            "source": self.source.describe(),
            "kind": self.source.kind,
            "synthetic": self.source.synthetic,
            "space": self.space.name,
            "dataset": self.dataset,
            "cells_covered": int(self.candidate_cells.size),
            "space_size": self.space.size,
            "epochs": self.n_epochs,
            **({} if "curves" in self.features else {"budgets": list(self.budgets)}),
            "budgets_nested": self.nested_budgets,
            "seeds": list(self.training_seeds),
            "best_test_acc": self.best_test_acc,
        }

    @staticmethod
    def load(path: str | os.PathLike[str] | None = None, *, run_seed: int = 0) -> TabularBenchmark:
        """Open a table file (``None``: the default table in ``data/``). :func:`nasbench_sim.open`
        opens every kind of source."""
        from nasbench_sim.bench.tabular import TabularBenchmark

        return TabularBenchmark.from_file(path, run_seed=run_seed)

    # -- argument handling shared by every benchmark ----------------------------------------
    def resolve_repeat(self, repeat: Repeat, training_seed: int | None, seed: Any) -> Repeat:
        """The validated repeat a call asks for (see the module docstring).

        Raises:
            QueryError: an index outside ``0 .. n_seeds-1``, an unknown training seed, or
                both ``repeat`` and ``training_seed``.
        """
        if seed is not _UNSET:
            warnings.warn(
                "the seed= argument is deprecated: it picks the k-th stored repeat, not a "
                "training seed; write repeat=k (or training_seed=S for the repeat trained "
                "with seed S)",
                DeprecationWarning,
                stacklevel=3,
            )
            if repeat is not None and repeat != "mean":
                raise QueryError("give repeat= or the deprecated seed=, not both")
            repeat = seed
        if training_seed is not None:
            if repeat is not None and repeat != "mean":
                raise QueryError("give repeat= or training_seed=, not both")
            labels = self.training_seeds
            if training_seed not in labels:
                raise QueryError(
                    f"training_seed={training_seed!r}: this benchmark's repeats were trained "
                    f"with seeds {', '.join(map(str, labels))}"
                )
            return labels.index(training_seed)
        if repeat is None:
            return self.default_repeat
        if isinstance(repeat, str) and repeat == "mean":
            return repeat
        if not is_int(repeat):
            raise QueryError(f"repeat must be None, 'mean' or an int index, got {repeat!r}")
        if not 0 <= repeat < self.n_seeds:
            raise QueryError(
                f"repeat={repeat}: this benchmark has {self.n_seeds} repeats, allowed "
                f"0..{self.n_seeds - 1} (or training_seed= one of "
                f"{', '.join(map(str, self.training_seeds))})"
            )
        return int(repeat)

    # -- what a benchmark implements --------------------------------------------------------
    @abc.abstractmethod
    def _query(self, arch: Any, epochs: int | None, repeat: Repeat) -> Result:
        """:meth:`query` with a validated repeat."""

    @abc.abstractmethod
    def _query_many(
        self, archs: Any, epochs: int | np.ndarray | None, repeat: Repeat
    ) -> ResultBatch:
        """:meth:`query_many` with a validated repeat."""

    @abc.abstractmethod
    def _test_many(
        self, idx: np.ndarray, epochs: int | np.ndarray | None, repeat: Repeat
    ) -> TestBatch:
        """Test loss and accuracy of the cells ``idx`` (int64) at ``epochs`` (``None``: the
        last), with a validated repeat."""
