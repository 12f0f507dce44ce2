"""Benchmarks: the interface every source of training results answers, the tabular and the
surrogate benchmark, simulated time and budgets."""

from __future__ import annotations

from nasbench_sim.bench.base import Benchmark, Repeat, Seed, Source
from nasbench_sim.bench.clock import Budget, QueryRecord, SimulatedBenchmark, TrainingLedger
from nasbench_sim.bench.results import Result, ResultBatch, TestBatch, TestResult
from nasbench_sim.bench.surrogate import (
    SURROGATE_FORMAT,
    SURROGATE_VERSION,
    SurrogateBenchmark,
    SurrogateFileError,
    SurrogateFitReport,
    SurrogateModel,
)
from nasbench_sim.bench.tabular import DEFAULT_TABLE, TabularBenchmark, default_table_path

__all__ = [
    "DEFAULT_TABLE",
    "SURROGATE_FORMAT",
    "SURROGATE_VERSION",
    "Benchmark",
    "Budget",
    "QueryRecord",
    "Repeat",
    "Result",
    "ResultBatch",
    "Seed",
    "SimulatedBenchmark",
    "Source",
    "SurrogateBenchmark",
    "SurrogateFileError",
    "SurrogateFitReport",
    "SurrogateModel",
    "TabularBenchmark",
    "TestBatch",
    "TestResult",
    "TrainingLedger",
    "default_table_path",
]
