"""Benchmarks: the query protocol, the tabular benchmark, simulated time and budgets."""

from __future__ import annotations

from nasbench_sim.bench.clock import Budget, QueryRecord, SimulatedBenchmark, TrainingLedger
from nasbench_sim.bench.results import Result, ResultBatch, TestResult
from nasbench_sim.bench.tabular import (
    DEFAULT_TABLE,
    Benchmark,
    Seed,
    TabularBenchmark,
    default_table_path,
)

__all__ = [
    "DEFAULT_TABLE",
    "Benchmark",
    "Budget",
    "QueryRecord",
    "Result",
    "ResultBatch",
    "Seed",
    "SimulatedBenchmark",
    "TabularBenchmark",
    "TestResult",
    "TrainingLedger",
    "default_table_path",
]
