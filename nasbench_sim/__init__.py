"""nasbench-sim: build tabular NAS benchmarks on GPUs, replay searches in seconds.

Example:
    >>> import nasbench_sim
    >>> bench = nasbench_sim.open("synthetic")      # or a table file, a surrogate, a build
    >>> round(bench.query(11791, epochs=10).valid_acc, 3)
    0.798
"""

from __future__ import annotations

from nasbench_sim._version import __version__
from nasbench_sim.bench import (
    Benchmark,
    Budget,
    Result,
    SimulatedBenchmark,
    Source,
    SurrogateBenchmark,
    TabularBenchmark,
)
from nasbench_sim.errors import (
    BudgetExhausted,
    CellNotInTableError,
    CellParseError,
    NasBenchSimError,
    QueryError,
    TableError,
)
from nasbench_sim.sources import open
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
    "Source",
    "SurrogateBenchmark",
    "TableError",
    "TabularBenchmark",
    "__version__",
    "get_space",
    "open",
]
