"""The table schema: names, shapes and versions. See ``docs/table_schema.md``."""

from __future__ import annotations

__all__ = [
    "COST_METRICS",
    "FORMAT_NAME",
    "MAX_BUDGET",
    "METRICS",
    "SCHEMA_VERSION",
    "SEARCH_METRICS",
    "SUPPORTED_SCHEMA_VERSIONS",
    "TEST_METRICS",
]

FORMAT_NAME = "nasbench-sim-table"
SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = (1,)
MAX_BUDGET = 100_000
"""The largest epoch budget a table may name (readers index arrays by epoch)."""

SEARCH_METRICS: tuple[str, ...] = ("train_loss", "train_acc", "valid_loss", "valid_acc")
"""Per-epoch metrics a search may see."""
TEST_METRICS: tuple[str, ...] = ("test_loss", "test_acc")
"""Per-epoch metrics only the analysis path returns."""
METRICS: tuple[str, ...] = SEARCH_METRICS + TEST_METRICS
"""Required datasets under ``/metrics``, each float32 ``(n_cells, n_seeds, n_epochs)``; NaN
where missing; accuracies are fractions in ``[0, 1]``; ``epoch`` axis index ``e`` holds the
value after ``e + 1`` epochs of training."""

COST_METRICS: tuple[str, ...] = ("params", "flops", "latency_s", "train_time_s")
"""Required datasets under ``/cost``, each float64 ``(n_cells,)``: parameter count, FLOPs of
one forward pass of one sample, inference latency of one batch in seconds, and training time of
one epoch in seconds."""
