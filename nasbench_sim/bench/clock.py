"""Simulated time: what a query costs, and a budgeted sequential wrapper.

Accounting rules (the same for the sequential wrapper here and the asynchronous simulator in
``nasbench_sim.search``):

* A query for ``(cell, e)`` charges the recorded training time of the epochs not yet trained
  for that cell in this run: training from scratch costs ``e * epoch_time``; continuing a cell
  already trained to ``e' < e`` costs ``(e - e') * epoch_time``.
* Re-querying a cell at ``e <= e'`` (a finished result) is free, unless ``charge_repeats=True``,
  which charges every query in full as if retrained from scratch.
* Cells are told apart by their space index: an equivalent twin of a trained cell is a
  different string to a search strategy and is trained (and charged) again.
* A budget is spent once the clock reaches ``Budget.time_s`` or ``Budget.queries`` queries have
  been made; the query that crosses the line completes, the next raises
  :class:`~nasbench_sim.errors.BudgetExhausted`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from nasbench_sim.bench.results import Result
from nasbench_sim.bench.tabular import Benchmark
from nasbench_sim.errors import BudgetExhausted

__all__ = ["Budget", "QueryRecord", "SimulatedBenchmark", "TrainingLedger"]


@dataclass(frozen=True)
class Budget:
    """Limits of one search run: simulated seconds, number of queries, or both.

    Example:
        >>> Budget(time_s=3600).time_s
        3600
    """

    time_s: float | None = None
    queries: int | None = None

    def __post_init__(self) -> None:
        if self.time_s is None and self.queries is None:
            raise ValueError("a Budget needs time_s, queries, or both")
        if self.time_s is not None and not (self.time_s > 0 and math.isfinite(self.time_s)):
            raise ValueError(
                f"Budget.time_s must be a positive number of seconds, got {self.time_s}"
            )
        if self.queries is not None and (not isinstance(self.queries, int) or self.queries < 1):
            raise ValueError(f"Budget.queries must be a positive int, got {self.queries}")

    def spent(self, elapsed: float, n_queries: int) -> bool:
        return (self.time_s is not None and elapsed >= self.time_s) or (
            self.queries is not None and n_queries >= self.queries
        )


class TrainingLedger:
    """Remembers how far each cell has been trained in one run and prices queries."""

    def __init__(self, *, charge_repeats: bool = False) -> None:
        self.charge_repeats = charge_repeats
        self._trained: dict[int, int] = {}

    def charge(self, result: Result) -> float:
        """Record ``result`` as trained and return the seconds it costs now."""
        done = self._trained.get(result.index, 0)
        per_epoch = result.train_time / result.epoch
        if result.epoch > done:
            self._trained[result.index] = result.epoch
            if self.charge_repeats:
                return result.train_time
            return (result.epoch - done) * per_epoch
        return result.train_time if self.charge_repeats else 0.0

    def trained_epochs(self, index: int) -> int:
        return self._trained.get(index, 0)


@dataclass(frozen=True, slots=True)
class QueryRecord:
    """One line of a run's query log.

    Attributes:
        start: simulated time the training started.
        finish: simulated time the result was available.
        worker: which simulated worker trained it.
        index: space index of the cell.
        epoch: epochs trained to.
        repeat: which stored repeat answered.
        valid_acc: what the search saw.
        cost: seconds charged for this query.
    """

    start: float
    finish: float
    worker: int
    index: int
    epoch: int
    repeat: int
    valid_acc: float
    cost: float


@dataclass
class SimulatedBenchmark:
    """A sequential, budgeted view of a benchmark: the clock advances by each query's cost.

    Example:
        >>> sim = SimulatedBenchmark(bench, Budget(time_s=3600))   # doctest: +SKIP
        >>> r = sim.query(cell, epochs=5); sim.elapsed            # doctest: +SKIP
    """

    bench: Benchmark
    budget: Budget | None = None
    charge_repeats: bool = False
    elapsed: float = 0.0
    n_queries: int = 0
    log: list[QueryRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ledger = TrainingLedger(charge_repeats=self.charge_repeats)

    @property
    def exhausted(self) -> bool:
        return self.budget is not None and self.budget.spent(self.elapsed, self.n_queries)

    @property
    def remaining_time(self) -> float:
        if self.budget is None or self.budget.time_s is None:
            return math.inf
        return max(0.0, self.budget.time_s - self.elapsed)

    def query(self, arch: Any, epochs: int | None = None) -> Result:
        """Query, charge the clock, log. Raises ``BudgetExhausted`` once the budget is spent."""
        if self.exhausted:
            raise BudgetExhausted(
                f"budget spent: {self.elapsed:.1f} s simulated, {self.n_queries} queries"
            )
        result = self.bench.query(arch, epochs)
        cost = self._ledger.charge(result)
        start = self.elapsed
        self.elapsed += cost
        self.n_queries += 1
        self.log.append(
            QueryRecord(
                start,
                self.elapsed,
                0,
                result.index,
                result.epoch,
                result.repeat,
                result.valid_acc,
                cost,
            )
        )
        return result

    def trained_epochs(self, arch: Any) -> int:
        """Epochs already paid for ``arch`` in this run."""
        return self._ledger.trained_epochs(self.bench.space.to_index(self.bench.space.coerce(arch)))
