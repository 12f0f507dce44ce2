"""A whole table in memory (:class:`TableData`) and its validation; reading and writing the
file is :mod:`nasbench_sim.table.io`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench_sim.errors import CellParseError, TableError
from nasbench_sim.space import SearchSpace, get_space
from nasbench_sim.table.ranges import check_ranges
from nasbench_sim.table.schema import COST_METRICS, MAX_BUDGET, METRICS

__all__ = ["TableData"]


@dataclass(frozen=True)
class TableData:
    """A whole table in memory: metric arrays, costs, cell ids and provenance.

    Attributes:
        space: name of the search space (``"nb201"``).
        dataset: name of the dataset the cells were trained on.
        arch_index: int64 ``(n_cells,)``: the space index of the cell trained in each row.
        seeds: int64 ``(n_seeds,)``: the training seed of each repeat.
        metrics: name -> float32 ``(n_cells, n_seeds, n_epochs)``; must contain
            :data:`~nasbench_sim.table.schema.METRICS`.
        cost: name -> float64 ``(n_cells,)``; must contain
            :data:`~nasbench_sim.table.schema.COST_METRICS`.
        protocol: the full training protocol (JSON-able).
        provenance: software versions, hardware, build notes (JSON-able).
        created: ISO-8601 creation time.
        arch: extra ``arch/`` datasets that define the cells of a space made from its table's
            graphs (NAS-Bench-101: ``hash``, ``matrix``, ``ops``; see
            :meth:`~nasbench_sim.space.SearchSpace.table_arrays`); empty otherwise.
        budgets: int64 ``(n_epochs,)``: the epochs trained behind each position of the epoch
            axis, strictly increasing (NAS-Bench-101: ``4, 12, 36, 108``); ``None``: position
            ``e`` holds epoch ``e + 1`` (a per-epoch curve).

    Validation: :meth:`validate` checks a table; :meth:`ensure_valid` (what
    :class:`~nasbench_sim.bench.TabularBenchmark` calls) checks it unless
    :func:`~nasbench_sim.table.read_table` did as it read this very object. A table made in
    memory, or derived from a read one with :func:`dataclasses.replace`, is checked every
    time; change a read table through ``replace`` rather than by editing its arrays in place,
    which no later check would see.
    """

    space: str
    dataset: str
    arch_index: np.ndarray
    seeds: np.ndarray
    metrics: Mapping[str, np.ndarray]
    cost: Mapping[str, np.ndarray]
    protocol: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    created: str = ""
    arch: Mapping[str, np.ndarray] = field(default_factory=dict)
    budgets: np.ndarray | None = None
    # Set only by ``_validated_on_read`` (read_table): which arrays were validated (see
    # ``_arrays_seen``); ``replace`` makes a table without it.
    _checked_on_read: tuple[Any, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def n_cells(self) -> int:
        return int(self.arch_index.shape[0])

    @property
    def n_seeds(self) -> int:
        return int(self.seeds.shape[0])

    @property
    def n_epochs(self) -> int:
        return int(self.metrics["valid_acc"].shape[2])

    @property
    def epoch_axis(self) -> np.ndarray:
        """int64 ``(n_epochs,)``: the epochs trained behind each position of the epoch axis."""
        if self.budgets is None:
            return np.arange(1, self.n_epochs + 1, dtype=np.int64)
        return np.asarray(self.budgets, dtype=np.int64)

    @functools.cached_property
    def arch_space(self) -> SearchSpace:
        """The space of :attr:`arch_index`: the registered space, or, for a space made from
        its table's graphs, that space built from :attr:`arch`.

        Raises:
            TableError: an unknown space, or ``arch/`` datasets that do not describe cells.
        """
        try:
            space = get_space(self.space)
            return space.for_table(self.arch) if space.table_defined else space
        except (KeyError, CellParseError) as exc:
            raise TableError(f"{self.space} table: {exc}") from None

    @property
    def has_times(self) -> bool:
        """False when ``cost/train_time_s`` is all NaN: the table records no training times
        (an import of final values without times) and is budgeted in queries."""
        t = np.asarray(self.cost.get("train_time_s", ()), dtype=np.float64)
        return bool(np.isfinite(t).any())

    @property
    def is_synthetic(self) -> bool:
        """True for tables made by the synthetic generator rather than real training."""
        return bool(self.provenance.get("synthetic", False))

    def validate(self, source: str = "table") -> None:
        """Check names, shapes, dtypes and value ranges (see :mod:`nasbench_sim.table.ranges`);
        raise :class:`TableError` naming the first problem."""
        if self.arch_index.ndim != 1:
            raise TableError(f"{source}: arch/index must be 1-D, got {self.arch_index.shape}")
        n = self.n_cells
        if self.seeds.ndim != 1 or self.seeds.shape[0] == 0:
            raise TableError(f"{source}: seeds must be a non-empty 1-D array")
        for name in METRICS:
            if name not in self.metrics:
                raise TableError(f"{source}: missing dataset metrics/{name}")
        shape = self.metrics["valid_acc"].shape
        if len(shape) != 3 or shape[0] != n or shape[1] != self.n_seeds or shape[2] == 0:
            raise TableError(
                f"{source}: metrics/valid_acc has shape {shape}, expected "
                f"(n_cells={n}, n_seeds={self.n_seeds}, n_epochs>0)"
            )
        for name, arr in self.metrics.items():
            if arr.shape != shape:
                raise TableError(
                    f"{source}: metrics/{name} has shape {arr.shape}, expected {shape}"
                )
        for name in COST_METRICS:
            if name not in self.cost:
                raise TableError(f"{source}: missing dataset cost/{name}")
        for name, arr in self.cost.items():
            if arr.shape != (n,):
                raise TableError(f"{source}: cost/{name} has shape {arr.shape}, expected ({n},)")
        self._validate_budgets(source)
        try:
            space = self.arch_space
        except TableError as exc:
            raise TableError(f"{source}: {exc}") from None
        if n and (self.arch_index.min() < 0 or self.arch_index.max() >= space.size):
            raise TableError(f"{source}: arch/index has values outside 0..{space.size - 1}")
        if n and np.bincount(self.arch_index, minlength=space.size).max() > 1:
            raise TableError(f"{source}: arch/index lists a cell twice")
        check_ranges(self.metrics, self.cost, source)

    def ensure_valid(self, source: str = "table") -> None:
        """:meth:`validate`, unless :func:`~nasbench_sim.table.read_table` already validated
        this table as it read it (a table made in memory is validated every time).

        Raises:
            TableError: as :meth:`validate`.
        """
        if self._checked_on_read is None or self._checked_on_read != self._arrays_seen():
            self.validate(source)

    def _validated_on_read(self, source: str) -> None:
        """:meth:`validate`, make every array read-only, and remember which arrays were
        validated, for :meth:`ensure_valid` (for read_table)."""
        self.validate(source)
        for arr in self._arrays():
            arr.setflags(write=False)
        object.__setattr__(self, "_checked_on_read", self._arrays_seen())  # frozen: only here

    def _arrays(self) -> list[np.ndarray]:
        named = [self.arch_index, self.seeds, self.budgets]
        for group in (self.metrics, self.cost, self.arch):
            named.extend(group.values())
        return [a for a in named if isinstance(a, np.ndarray)]

    def _arrays_seen(self) -> tuple[Any, ...]:
        """Which arrays the table holds, under which names, and whether any is writable: a
        read table whose dicts were changed, or that was copied (pickle, deepcopy: new
        arrays, writable again), no longer matches what was validated."""
        groups = (self.metrics, self.cost, self.arch)
        names = tuple(tuple((k, id(v)) for k, v in g.items()) for g in groups)
        ids = (id(self.arch_index), id(self.seeds), id(self.budgets))
        return ids, names, any(a.flags.writeable for a in self._arrays())

    def _validate_budgets(self, source: str) -> None:
        if self.budgets is None:
            return
        b = np.asarray(self.budgets)
        if b.dtype.kind not in "iu" or b.shape != (self.n_epochs,):
            raise TableError(
                f"{source}: budgets must be {self.n_epochs} integers (one per position of the "
                f"epoch axis), got {b.dtype} {b.shape}"
            )
        if b.size and (b[0] < 1 or (np.diff(b) <= 0).any()):
            raise TableError(
                f"{source}: budgets must be positive and strictly increasing, got {b.tolist()}"
            )
        if b.size and b[-1] > MAX_BUDGET:
            raise TableError(
                f"{source}: budgets {b.tolist()} exceed {MAX_BUDGET:,} epochs (the largest a "
                f"table may name)"
            )
