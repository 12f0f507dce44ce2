"""nasbench-sim: build tabular NAS benchmarks on GPUs, replay searches in seconds.

Example:
    >>> from nasbench_sim import Benchmark, Cell
    >>> bench = Benchmark.load("table.h5")          # doctest: +SKIP
    >>> bench.query(Cell.from_index(11791), epochs=10).valid_acc   # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from nasbench_sim.bench import Benchmark, Budget, Result, SimulatedBenchmark, TabularBenchmark
from nasbench_sim.errors import (
    BudgetExhausted,
    CellNotInTableError,
    CellParseError,
    NasBenchSimError,
    QueryError,
    TableError,
)
from nasbench_sim.space import Cell, NB201Space, SearchSpace, get_space

__all__ = [
    "Benchmark",
    "Budget",
    "BudgetExhausted",
    "Cell",
    "CellNotInTableError",
    "CellParseError",
    "NB201Space",
    "NasBenchSimError",
    "QueryError",
    "Result",
    "SearchSpace",
    "SimulatedBenchmark",
    "TableError",
    "TabularBenchmark",
    "__version__",
    "get_space",
]
