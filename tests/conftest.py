"""Shared fixtures: tiny synthetic tables written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.table import TableData, make_synthetic_table, write_table


@pytest.fixture(scope="session")
def synthetic_table() -> TableData:
    """One row per equivalence class, 3 repeats, 12 epochs."""
    return make_synthetic_table(0, n_epochs=12)


@pytest.fixture(scope="session")
def synthetic_bench(synthetic_table: TableData) -> TabularBenchmark:
    return TabularBenchmark(synthetic_table)


@pytest.fixture()
def tiny_table_path(tmp_path: Path) -> Path:
    """A 40-row synthetic table on disk."""
    return write_table(tmp_path / "tiny.h5", make_synthetic_table(1, cells=40, n_epochs=5))
