"""Simulated time: one :class:`Clock` prices every query, for the budgeted sequential wrapper
here (:class:`SimulatedBenchmark`) and for the asynchronous run loop of
:mod:`nasbench_sim.search` alike.

Accounting rules:

* A query for ``(cell, e)`` charges the recorded training time of the epochs not yet trained
  for that cell in this run: training from scratch costs ``e * epoch_time``; continuing a cell
  already trained to ``e' < e`` costs ``(e - e') * epoch_time``.
* Re-querying a cell at ``e <= e'`` (a finished result) is free, unless ``charge_repeats=True``,
  which charges every query in full as if retrained from scratch.
* On a benchmark whose budgets are separate training runs
  (:attr:`~nasbench_sim.bench.Benchmark.nested_budgets` False, NAS-Bench-101), nothing carries
  over between budgets: a query for ``(cell, e)`` costs the whole recorded run of ``e`` epochs
  unless that very run was trained before in this run (then it is free, as above). A cell
  trained for 4 epochs and then for 12 costs a 4-epoch run plus a 12-epoch run.
* Cells are told apart by their space index: an equivalent twin of a trained cell is a
  different string to a search strategy and is trained (and charged) again.
* A continuation or free re-read of a cell whose training is still running (on another
  worker) starts when that training ends: no result is known before the training behind it.
  With separate runs only a re-read of the same budget waits; another budget is another run.
* A budget is spent once the clock reaches ``Budget.time_s`` or ``Budget.queries`` queries
  have started; work already running completes (and may finish after ``time_s``), nothing new
  starts. :class:`SimulatedBenchmark` then raises
  :class:`~nasbench_sim.errors.BudgetExhausted`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nasbench_sim.bench.base import Benchmark
from nasbench_sim.bench.log import QueryRecord, log_frame
from nasbench_sim.bench.results import Result
from nasbench_sim.errors import BudgetExhausted

__all__ = ["Budget", "Clock", "QueryRecord", "SimulatedBenchmark", "TrainingLedger"]


@dataclass(frozen=True)
class Budget:
    """Limits of one search run: simulated seconds, number of queries, or both.

    Example:
        >>> Budget(time_s=3600).describe()
        '3,600 simulated s (1.00 h)'
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
        """Whether no new query may start at ``elapsed`` after ``n_queries`` queries."""
        return (self.time_s is not None and elapsed >= self.time_s) or (
            self.queries is not None and n_queries >= self.queries
        )

    def describe(self) -> str:
        """The budget in words."""
        parts = []
        if self.time_s is not None:
            hours = f" ({self.time_s / 3600:.2f} h)" if self.time_s >= 36 else ""
            parts.append(f"{self.time_s:,.0f} simulated s{hours}")
        if self.queries is not None:
            parts.append(f"{self.queries} queries")
        return " and ".join(parts)


class TrainingLedger:
    """Remembers how far each cell has been trained in one run and prices queries.

    Args:
        charge_repeats: charge re-queries of finished work in full.
        nested_budgets: budgets are prefixes of one run (continuations cost the extra epochs);
            ``False``: every budget is a run of its own (see the module docstring).
    """

    def __init__(self, *, charge_repeats: bool = False, nested_budgets: bool = True) -> None:
        self.charge_repeats = charge_repeats
        self.nested_budgets = nested_budgets
        self._trained: dict[int, int] = {}
        self._runs: set[tuple[int, int]] = set()

    def charge(self, result: Result) -> float:
        """Record ``result`` as trained and return the seconds it costs now."""
        done = self._trained.get(result.index, 0)
        if not self.nested_budgets:
            run = (result.index, result.epoch)
            self._trained[result.index] = max(done, result.epoch)
            if run in self._runs and not self.charge_repeats:
                return 0.0
            self._runs.add(run)
            return result.train_time
        per_epoch = result.train_time / result.epoch
        if result.epoch > done:
            self._trained[result.index] = result.epoch
            if self.charge_repeats:
                return result.train_time
            return (result.epoch - done) * per_epoch
        return result.train_time if self.charge_repeats else 0.0

    def trained_epochs(self, index: int) -> int:
        """The most epochs trained for cell ``index`` in this run (0: none). With separate runs
        per budget (NAS-Bench-101) it is the largest budget trained, not a prefix that a
        longer query could continue: every other budget is still charged in full."""
        return self._trained.get(index, 0)


class Clock:
    """The simulated clock of one run: prices each query, enforces the budget, and knows when
    each cell's latest training ends (see the module docstring for the rules).

    Args:
        budget: the run's limits (``None``: none).
        charge_repeats: charge re-queries of finished work in full.
        nested_budgets: the benchmark's :attr:`~nasbench_sim.bench.Benchmark.nested_budgets`
            (``False``: each budget is a separate training run, charged in full).

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=4))
        >>> clock = Clock(Budget(queries=2))
        >>> first = clock.book(bench.query(7, epochs=2), worker=0, earliest=0.0)
        >>> again = clock.book(bench.query(7, epochs=4), worker=0, earliest=first.finish)
        >>> again.cost == first.cost, clock.can_start(again.finish)
        (True, False)
    """

    def __init__(
        self,
        budget: Budget | None = None,
        *,
        charge_repeats: bool = False,
        nested_budgets: bool = True,
    ) -> None:
        self.budget = budget
        self.ledger = TrainingLedger(charge_repeats=charge_repeats, nested_budgets=nested_budgets)
        self.time_limit = math.inf if budget is None or budget.time_s is None else budget.time_s
        self.query_limit = math.inf if budget is None or budget.queries is None else budget.queries
        self.n_started = 0
        self._ready_at: dict[Any, float] = {}

    def can_start(self, now: float) -> bool:
        """Whether new work may start at ``now`` under the budget."""
        return now < self.time_limit and self.n_started < self.query_limit

    def book(self, result: Result, worker: int, earliest: float) -> QueryRecord | None:
        """Start the training behind ``result`` on ``worker`` no earlier than ``earliest``.

        Returns:
            Its log record (start, finish, cost...), or ``None`` when it would start at or
            after the time budget (then nothing is charged).
        """
        key = result.index if self.ledger.nested_budgets else (result.index, result.epoch)
        wait = 0.0 if self.ledger.charge_repeats else self._ready_at.get(key, 0.0)
        start = max(earliest, wait)
        if start >= self.time_limit:
            return None
        cost = self.ledger.charge(result)
        finish = start + cost
        self._ready_at[key] = max(self._ready_at.get(key, 0.0), finish)
        self.n_started += 1
        return QueryRecord(
            start=start,
            finish=finish,
            worker=worker,
            index=result.index,
            arch=str(result.arch),
            epoch=result.epoch,
            repeat=result.repeat,
            valid_acc=result.valid_acc,
            cost=cost,
        )


class SimulatedBenchmark:
    """A sequential, budgeted view of a benchmark: the clock advances by each query's cost.

    Args:
        bench: the benchmark queried.
        budget: the limits (``None``: none).
        charge_repeats: charge re-queries of finished work in full.

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> sim = SimulatedBenchmark(TabularBenchmark(make_synthetic_table(0)), Budget(queries=5))
        >>> r = sim.query(11791, epochs=5); r = sim.query(11791, epochs=10)  # 5 + 5 epochs
        >>> sim.n_queries, list(sim.log_frame().columns)[:3]
        (2, ['query', 'start', 'finish'])
    """

    def __init__(
        self, bench: Benchmark, budget: Budget | None = None, *, charge_repeats: bool = False
    ) -> None:
        self.bench = bench
        self.budget = budget
        self.charge_repeats = charge_repeats
        self.clock = Clock(
            budget, charge_repeats=charge_repeats, nested_budgets=bench.nested_budgets
        )
        self.elapsed = 0.0
        self.log: list[QueryRecord] = []

    @property
    def n_queries(self) -> int:
        return self.clock.n_started

    @property
    def exhausted(self) -> bool:
        return not self.clock.can_start(self.elapsed)

    @property
    def remaining_time(self) -> float:
        return max(0.0, self.clock.time_limit - self.elapsed)

    def query(self, arch: Any, epochs: int | None = None) -> Result:
        """Query, charge the clock, log. Raises ``BudgetExhausted`` once the budget is spent."""
        if self.exhausted:
            raise BudgetExhausted(
                f"budget spent: {self.elapsed:.1f} s simulated, {self.n_queries} queries"
            )
        result = self.bench.query(arch, epochs)
        record = self.clock.book(result, worker=0, earliest=self.elapsed)
        assert record is not None  # it starts at self.elapsed, inside the budget
        self.elapsed = record.finish
        self.log.append(record)
        return result

    def trained_epochs(self, arch: Any) -> int:
        """Epochs already paid for ``arch`` in this run: a query up to this many epochs is free
        on a per-epoch table; with separate runs per budget (NAS-Bench-101) only the budgets
        queried before are free, and this is the largest of them (see
        :meth:`TrainingLedger.trained_epochs`)."""
        space = self.bench.space
        return self.clock.ledger.trained_epochs(space.to_index(space.coerce(arch)))

    def log_frame(self) -> pd.DataFrame:
        """The log as the run loop writes it: :data:`~nasbench_sim.bench.log.LOG_COLUMNS`,
        with the incumbent and its regret after each query."""
        return log_frame(self.log, self.bench)
