"""Search strategies and the run loop that replays them against a benchmark.

Example:
    >>> from nasbench_sim.bench import Budget, TabularBenchmark
    >>> from nasbench_sim.search import run
    >>> from nasbench_sim.table import make_synthetic_table
    >>> bench = TabularBenchmark(make_synthetic_table(0, n_epochs=4))
    >>> result = run("evolution", bench, Budget(queries=30), seed=0)
    >>> list(result.log.columns)[:4]
    ['query', 'start', 'finish', 'worker']
"""

from __future__ import annotations

from nasbench_sim.search.base import MISSING_SCORE, Proposal, Strategy, score
from nasbench_sim.search.registry import (
    DEFAULT_STRATEGIES,
    STRATEGIES,
    WEIGHT_SHARING_STRATEGIES,
    available_strategies,
    create,
    strategy_class,
)
from nasbench_sim.search.run import (
    LOG_COLUMNS,
    RunResult,
    final_regret,
    regret_at,
    rescore,
    run,
)

__all__ = [
    "DEFAULT_STRATEGIES",
    "LOG_COLUMNS",
    "MISSING_SCORE",
    "STRATEGIES",
    "WEIGHT_SHARING_STRATEGIES",
    "Proposal",
    "RunResult",
    "Strategy",
    "available_strategies",
    "create",
    "final_regret",
    "regret_at",
    "rescore",
    "run",
    "score",
    "strategy_class",
]
