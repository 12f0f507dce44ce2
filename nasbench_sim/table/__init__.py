"""The HDF5 table: schema, validated reading and atomic writing, synthetic stand-ins."""

from __future__ import annotations

from nasbench_sim.table.io import (
    TableData,
    read_table,
    software_versions,
    table_to_frame,
    write_table,
)
from nasbench_sim.table.schema import (
    COST_METRICS,
    METRICS,
    SCHEMA_VERSION,
    SEARCH_METRICS,
    TEST_METRICS,
)
from nasbench_sim.table.synthetic import make_synthetic_table

__all__ = [
    "COST_METRICS",
    "METRICS",
    "SCHEMA_VERSION",
    "SEARCH_METRICS",
    "TEST_METRICS",
    "TableData",
    "make_synthetic_table",
    "read_table",
    "software_versions",
    "table_to_frame",
    "write_table",
]
