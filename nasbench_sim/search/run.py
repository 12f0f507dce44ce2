"""The run loop: drive one strategy through ask / tell against a benchmark under a budget.

One loop serves the sequential case (``n_workers=1``) and the asynchronous one: ``n`` simulated
workers, each free worker asks the strategy for work, and results come back in order of their
simulated *finish* time through an event queue, as on a real cluster. Simulated time is the
recorded training time of each query (continuations charged incrementally, see
:mod:`nasbench_sim.bench.clock`), plus, optionally, the strategy's own measured compute time.
A strategy with a set-up cost (:attr:`Strategy.setup_cost_s`, e.g. a weight-sharing search's
super-network) starts the clock of every worker at that cost.

Budget rules: with a time budget no new work starts once the clock has reached ``time_s``; work
already running completes and is logged (its ``finish`` may exceed ``time_s``), but the final
regret of a run is read at ``time_s``. With a query budget exactly ``queries`` proposals run.

Regret: the incumbent is the queried cell with the best *validation* accuracy seen so far; its
regret is the best mean test accuracy of the table minus the incumbent's mean final test
accuracy (the analysis path, never shown to the strategy).
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.bench.clock import Budget, TrainingLedger
from nasbench_sim.bench.results import Result
from nasbench_sim.bench.tabular import Benchmark
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.search.registry import create

__all__ = ["LOG_COLUMNS", "RunResult", "final_regret", "regret_at", "rescore", "run"]

LOG_COLUMNS: tuple[str, ...] = (
    "query",
    "start",
    "finish",
    "worker",
    "index",
    "arch",
    "epoch",
    "repeat",
    "valid_acc",
    "cost",
    "incumbent_index",
    "incumbent_valid",
    "incumbent_test",
    "regret",
)
"""Columns of a run's query log, one row per finished query in finish order."""

_MAX_FREE_STREAK = 100_000


@dataclass(frozen=True)
class RunResult:
    """One search run.

    Attributes:
        strategy: the strategy's registered name.
        seed: the run seed (strategy RNG and the benchmark's common random numbers).
        log: the query log, columns :data:`LOG_COLUMNS`.
        meta: budget, workers, wall time and other settings of the run.
    """

    strategy: str
    seed: int
    log: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def final_regret(self) -> float:
        """Regret of the incumbent when the budget ran out."""
        return final_regret(self.log, self.meta.get("budget_time_s"))


def _incumbents(index: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Position of the incumbent (best validation accuracy so far; first wins ties) per row."""
    n = index.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    v = np.where(np.isnan(valid), -np.inf, valid)
    best = np.maximum.accumulate(v)
    is_new = np.r_[True, v[1:] > best[:-1]]
    pos = np.where(is_new, np.arange(n), 0)
    return np.maximum.accumulate(pos)


def rescore(log: pd.DataFrame, bench: Benchmark) -> pd.DataFrame:
    """Recompute the incumbent and regret columns of ``log`` against ``bench``'s test path.

    Lets a finished run be judged by another table or a surrogate without re-running it.
    """
    out = log.copy()
    index = out["index"].to_numpy(np.int64)
    inc = _incumbents(index, out["valid_acc"].to_numpy(np.float64))
    inc_index = index[inc] if index.size else index
    test = bench.test_acc_many(inc_index) if index.size else np.zeros(0)
    out["incumbent_index"] = inc_index
    out["incumbent_valid"] = out["valid_acc"].to_numpy(np.float64)[inc] if index.size else []
    out["incumbent_test"] = test
    out["regret"] = bench.best_test_acc - test
    return out


def regret_at(log: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    """Regret of the incumbent at each simulated time (``nan`` before the first result)."""
    finish = log["finish"].to_numpy(np.float64)
    regret = log["regret"].to_numpy(np.float64)
    pos = np.searchsorted(finish, np.asarray(times, dtype=np.float64), side="right") - 1
    out = np.full(pos.shape, np.nan)
    ok = pos >= 0
    out[ok] = regret[pos[ok]]
    return out


def final_regret(log: pd.DataFrame, time_s: float | None = None) -> float:
    """Regret at the end of the run, or at ``time_s`` when given."""
    if len(log) == 0:
        return math.nan
    if time_s is None:
        return float(log["regret"].iloc[-1])
    return float(regret_at(log, np.array([time_s]))[0])


def _epochs(proposal: Proposal, n_epochs: int) -> int:
    e = n_epochs if proposal.epochs is None else proposal.epochs
    if isinstance(e, bool) or not isinstance(e, (int, np.integer)) or not 1 <= e <= n_epochs:
        raise ValueError(
            f"a strategy proposed epochs={proposal.epochs!r}; allowed are 1..{n_epochs} or None"
        )
    return int(e)


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
) -> RunResult:
    """Run one search and return its query log.

    Args:
        strategy: a registered name (created with ``seed``) or a strategy instance.
        bench: the benchmark to replay against; its repeats are drawn with run seed ``seed``.
        budget: simulated seconds and/or number of queries.
        seed: the run seed.
        n_workers: simulated parallel workers (``1``: sequential).
        charge_strategy_time: add the strategy's measured ``ask``/``tell`` time to the clock.
        charge_repeats: charge re-queries of finished work in full (see ``TrainingLedger``).
        strategy_kwargs: hyper-parameters passed to the strategy when created by name.

    Example:
        >>> from nasbench_sim.bench import Budget, TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> bench = TabularBenchmark(make_synthetic_table(0, cells="classes", n_epochs=4))
        >>> r = run("random", bench, Budget(queries=20), seed=1)
        >>> len(r.log), r.final_regret >= 0
        (20, True)
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive int, got {n_workers!r}")
    if isinstance(strategy, str):
        name = strategy
        strategy = create(name, bench.space, bench.n_epochs, seed, **(strategy_kwargs or {}))
    else:
        if strategy_kwargs:
            raise ValueError("strategy_kwargs only apply when the strategy is given by name")
        name = strategy.name
    b = bench.with_run_seed(seed)
    space = b.space
    ledger = TrainingLedger(charge_repeats=charge_repeats)
    time_limit = budget.time_s if budget.time_s is not None else math.inf
    query_limit = budget.queries if budget.queries is not None else math.inf

    setup = float(strategy.setup_cost_s)
    if not (math.isfinite(setup) and setup >= 0):
        raise ValueError(f"strategy {name!r} has setup_cost_s={setup!r}; it must be >= 0")
    events: list[tuple[float, int, int, float, float, Proposal, Result]] = []
    free_at = [setup] * n_workers  # when each worker became free
    idle = list(range(n_workers))
    now = setup
    n_started = 0
    strategy_time = 0.0
    rows: list[tuple[float, float, int, int, str, int, int, float, float]] = []
    free_streak = 0  # consecutive queries that cost nothing: guards a time-only budget
    ready_at: dict[int, float] = {}  # when each cell's latest training finishes
    wall0 = time.perf_counter()

    while True:
        # Hand work to every idle worker while the budget allows.
        while idle and now < time_limit and n_started < query_limit:
            worker = idle.pop(0)
            t0 = time.perf_counter()
            proposal = strategy.ask()
            dt = time.perf_counter() - t0
            strategy_time += dt
            if charge_strategy_time:
                now += dt
            epochs = _epochs(proposal, b.n_epochs)
            result = b.query(proposal.arch, epochs)
            # a continuation (or a free re-read) of a cell whose training is still running
            # elsewhere waits for it: no result is known before the training behind it ends
            # (with charge_repeats every query is a training of its own: no waiting)
            wait = 0.0 if charge_repeats else ready_at.get(result.index, 0.0)
            start = max(now, free_at[worker], wait)
            if start >= time_limit:
                continue  # it would start after the budget: the worker stops here
            cost = ledger.charge(result)
            free_streak = free_streak + 1 if cost == 0.0 else 0
            if free_streak > _MAX_FREE_STREAK:
                raise RuntimeError(
                    f"strategy {name!r} proposed {_MAX_FREE_STREAK} finished (free) queries in a "
                    "row; under a time budget the run would never end"
                )
            ready_at[result.index] = max(ready_at.get(result.index, 0.0), start + cost)
            heapq.heappush(events, (start + cost, n_started, worker, start, cost, proposal, result))
            n_started += 1
        if not events:
            break
        finish, _, worker, start, cost, proposal, result = heapq.heappop(events)
        now = max(now, finish)
        t0 = time.perf_counter()
        strategy.tell(proposal, result)
        dt = time.perf_counter() - t0
        strategy_time += dt
        if charge_strategy_time:
            now += dt
        free_at[worker] = now
        idle.append(worker)
        rows.append(
            (
                start,
                finish,
                worker,
                result.index,
                str(result.arch),
                result.epoch,
                result.repeat,
                result.valid_acc,
                cost,
            )
        )

    cols = ("start", "finish", "worker", "index", "arch", "epoch", "repeat", "valid_acc", "cost")
    log = pd.DataFrame.from_records(rows, columns=list(cols))
    log.insert(0, "query", np.arange(len(log), dtype=np.int64))
    log = rescore(log, b)
    log = log.astype({"worker": np.int64, "index": np.int64, "epoch": np.int64})
    meta = {
        "strategy": name,
        "seed": int(seed),
        "space": space.name,
        "dataset": b.dataset,
        "budget_time_s": budget.time_s,
        "budget_queries": budget.queries,
        "n_workers": n_workers,
        "charge_strategy_time": charge_strategy_time,
        "charge_repeats": charge_repeats,
        "strategy_time_s": strategy_time,
        "setup_cost_s": setup,
        "wall_time_s": time.perf_counter() - wall0,
    }
    return RunResult(name, int(seed), log, meta)
