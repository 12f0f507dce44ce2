"""Search strategies and the run loop that replays them against a benchmark.

The core strategies are registered in :data:`CORE_STRATEGIES`; every strategy (with the
predictor-guided and weight-sharing ones) is in :data:`nasbench_sim.strategies.STRATEGIES`.

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
    CORE_STRATEGIES,
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
from nasbench_sim.search.sampling import fresh_index

__all__ = [
    "CORE_STRATEGIES",
    "LOG_COLUMNS",
    "MISSING_SCORE",
    "Proposal",
    "RunResult",
    "Strategy",
    "available_strategies",
    "create",
    "final_regret",
    "fresh_index",
    "regret_at",
    "rescore",
    "run",
    "score",
    "strategy_class",
]
