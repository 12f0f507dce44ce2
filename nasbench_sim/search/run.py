"""The run loop: drive one strategy through ask / tell against a benchmark under a budget.

One loop serves the sequential case (``n_workers=1``) and the asynchronous one: ``n`` simulated
workers, each free worker asks the strategy for work, and results come back in order of their
simulated *finish* time through an event queue, as on a real cluster. Simulated time is kept
by :class:`~nasbench_sim.bench.clock.Clock` (the same code prices
:class:`~nasbench_sim.bench.SimulatedBenchmark`'s queries), plus, optionally, the strategy's
own measured compute time. A strategy with a set-up cost (:attr:`Strategy.setup_cost_s`, e.g.
a weight-sharing search's super-network) starts the clock of every worker at that cost.

Budget rules: with a time budget no new work starts once the clock has reached ``time_s``; work
already running completes and is logged (its ``finish`` may exceed ``time_s``), but the final
regret of a run is read at ``time_s``. With a query budget exactly ``queries`` proposals run.

The log's rows are :class:`~nasbench_sim.bench.log.QueryRecord` s, scored as described in
:mod:`nasbench_sim.bench.log`. The strategy searches ``bench.search_space``: the cells the
benchmark covers.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nasbench_sim.bench.base import Benchmark
from nasbench_sim.bench.clock import Budget, Clock
from nasbench_sim.bench.log import (
    LOG_COLUMNS,
    QueryRecord,
    final_regret,
    log_frame,
    regret_at,
    rescore,
)
from nasbench_sim.bench.results import Result
from nasbench_sim.checks import is_int
from nasbench_sim.errors import UnsupportedSpaceError
from nasbench_sim.registry import Registry
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.search.registry import CORE_STRATEGIES, create, lacking_features

__all__ = ["LOG_COLUMNS", "RunResult", "final_regret", "regret_at", "rescore", "run"]

_MAX_FREE_STREAK = 100_000


@dataclass(frozen=True)
class RunResult:
    """One search run.

    Attributes:
        strategy: the strategy's registered name.
        seed: the run seed (strategy RNG and the benchmark's common random numbers).
        log: the query log, columns :data:`LOG_COLUMNS`.
        meta: budget, workers, wall time, the strategy's ``diagnostics`` and other settings.
    """

    strategy: str
    seed: int
    log: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def final_regret(self) -> float:
        """Regret of the incumbent when the budget ran out."""
        return final_regret(self.log, self.meta.get("budget_time_s"))


def _epochs(proposal: Proposal, bench: Benchmark) -> int:
    e = bench.n_epochs if proposal.epochs is None else proposal.epochs
    if not is_int(e) or e not in bench.budgets:
        allowed = (
            f"1..{bench.n_epochs}"
            if "curves" in bench.features
            else ", ".join(map(str, bench.budgets))
        )
        raise ValueError(
            f"a strategy proposed epochs={proposal.epochs!r}; allowed are {allowed} or None"
        )
    return int(e)


class _Loop:
    """The event loop of one run (see the module docstring)."""

    def __init__(
        self, strategy: Strategy, name: str, bench: Benchmark, clock: Clock, n_workers: int
    ) -> None:
        self.strategy, self.name, self.bench, self.clock = strategy, name, bench, clock
        setup = float(strategy.setup_cost_s)
        if not (math.isfinite(setup) and setup >= 0):
            raise ValueError(f"strategy {name!r} has setup_cost_s={setup!r}; it must be >= 0")
        self.setup = setup
        self.now = setup
        self.free_at = [setup] * n_workers  # when each worker became free
        self.idle = list(range(n_workers))
        self.events: list[tuple[float, int, Proposal, Result, QueryRecord]] = []
        self.charge_strategy_time = False
        self.strategy_time = 0.0
        self.free_streak = 0  # consecutive queries that cost nothing: guards a time budget

    def _timed(self, fn: Any, *args: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*args)
        dt = time.perf_counter() - t0
        self.strategy_time += dt
        if self.charge_strategy_time:
            self.now += dt
        return out

    def _dispatch(self) -> None:
        """Hand work to every idle worker while the budget allows."""
        while self.idle and self.clock.can_start(self.now):
            worker = self.idle.pop(0)
            proposal = self._timed(self.strategy.ask)
            result = self.bench.query(proposal.arch, _epochs(proposal, self.bench))
            earliest = max(self.now, self.free_at[worker])
            record = self.clock.book(result, worker, earliest)
            if record is None:
                continue  # it would start after the budget: the worker stops here
            self.free_streak = self.free_streak + 1 if record.cost == 0.0 else 0
            if self.free_streak > _MAX_FREE_STREAK:
                raise RuntimeError(
                    f"strategy {self.name!r} proposed {_MAX_FREE_STREAK} finished (free) "
                    "queries in a row; under a time budget the run would never end"
                )
            n = self.clock.n_started
            heapq.heappush(self.events, (record.finish, n, proposal, result, record))

    def run(self) -> list[QueryRecord]:
        """Run until the budget is spent and every started query has been told."""
        records: list[QueryRecord] = []
        while True:
            self._dispatch()
            if not self.events:
                return records
            finish, _, proposal, result, record = heapq.heappop(self.events)
            self.now = max(self.now, finish)
            self._timed(self.strategy.tell, proposal, result)
            self.free_at[record.worker] = self.now
            self.idle.append(record.worker)
            records.append(record)


def _strategy(
    strategy: Strategy | str,
    bench: Benchmark,
    seed: int,
    kwargs: dict[str, Any] | None,
    registry: Registry | None,
) -> tuple[Strategy, str]:
    if isinstance(strategy, str):
        why = lacking_features((registry or CORE_STRATEGIES)[strategy], bench)
        if why is not None:
            raise UnsupportedSpaceError(f"strategy {strategy!r} {why}")
        made = create(
            strategy,
            bench.search_space,
            bench.n_epochs,
            seed,
            registry=registry,
            budgets=bench.budgets,
            **(kwargs or {}),
        )
        return made, strategy
    if kwargs:
        raise ValueError("strategy_kwargs only apply when the strategy is given by name")
    return strategy, strategy.name


def run(
    strategy: Strategy | str,
    bench: Benchmark,
    budget: Budget,
    seed: int = 0,
    *,
    n_workers: int = 1,
    charge_strategy_time: bool = False,
    charge_repeats: bool = False,
    strategy_kwargs: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> RunResult:
    """Run one search and return its query log.

    Args:
        strategy: a registered name (created with ``seed`` on ``bench.search_space``) or a
            strategy instance.
        bench: the benchmark to replay against; its repeats are drawn with run seed ``seed``.
        budget: simulated seconds and/or number of queries.
        seed: the run seed.
        n_workers: simulated parallel workers (``1``: sequential).
        charge_strategy_time: add the strategy's measured ``ask``/``tell`` time to the clock.
        charge_repeats: charge re-queries of finished work in full (see ``TrainingLedger``).
        strategy_kwargs: hyper-parameters passed to the strategy when created by name.
        registry: where names are looked up (default: the core strategies;
            :func:`nasbench_sim.strategies.run` looks up every strategy).

    Example:
        >>> from nasbench_sim.bench import Budget, TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> bench = TabularBenchmark(make_synthetic_table(0, cells="classes", n_epochs=4))
        >>> r = run("random", bench, Budget(queries=20), seed=1)
        >>> len(r.log), r.final_regret >= 0
        (20, True)
    """
    if not is_int(n_workers) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive int, got {n_workers!r}")
    n_workers = int(n_workers)
    made, name = _strategy(strategy, bench, seed, strategy_kwargs, registry)
    b = bench.with_run_seed(seed)
    wall0 = time.perf_counter()
    clock = Clock(budget, charge_repeats=charge_repeats, nested_budgets=b.nested_budgets)
    loop = _Loop(made, name, b, clock, n_workers)
    loop.charge_strategy_time = charge_strategy_time
    log = log_frame(loop.run(), b)
    meta = {
        "strategy": name,
        "seed": int(seed),
        "space": b.space.name,
        "dataset": b.dataset,
        "budget_time_s": budget.time_s,
        "budget_queries": budget.queries,
        "n_workers": n_workers,
        "charge_strategy_time": charge_strategy_time,
        "charge_repeats": charge_repeats,
        "strategy_time_s": loop.strategy_time,
        "setup_cost_s": loop.setup,
        "wall_time_s": time.perf_counter() - wall0,
        "diagnostics": dict(made.diagnostics()),
    }
    return RunResult(name, int(seed), log, meta)
