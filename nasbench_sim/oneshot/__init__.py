"""Weight-sharing (one-shot) NAS on the NB201 space: SPOS, DARTS and GDAS super-networks
trained on a table's protocol, their per-cell scores stored in the table file, and the
optimisation gap between one-shot and stand-alone accuracy. See ``docs/oneshot.md``.

Importing this package does not import torch; the training names load it on first use.

Example:
    >>> from nasbench_sim.oneshot import METHODS
    >>> METHODS
    ('spos', 'darts', 'gdas')
"""

from __future__ import annotations

import importlib
from typing import Any

from nasbench_sim.oneshot.gap import (
    PARAMETER_FREE,
    GapReport,
    alpha_log_prob,
    gap_report,
    parameter_free_fraction,
    precision_at_k,
    rank_gap,
    seed_spread,
    spread,
    standalone_percentile,
)
from nasbench_sim.oneshot.run import OneShotProgress, run_oneshot, standalone_accuracy
from nasbench_sim.oneshot.store import (
    METHODS,
    OneShotError,
    OneShotRecord,
    list_oneshot,
    read_oneshot,
    write_oneshot,
)
from nasbench_sim.oneshot.study import GAP_FILES, GapStudy, gap_study, write_gap_study

__all__ = [
    "GAP_FILES",
    "METHODS",
    "PARAMETER_FREE",
    "GapReport",
    "GapStudy",
    "OneShotError",
    "OneShotProgress",
    "OneShotRecord",
    "OneShotSettings",
    "SuperNetwork",
    "alpha_log_prob",
    "gap_report",
    "gap_study",
    "list_oneshot",
    "parameter_free_fraction",
    "precision_at_k",
    "rank_gap",
    "read_oneshot",
    "run_oneshot",
    "seed_spread",
    "spread",
    "standalone_accuracy",
    "standalone_percentile",
    "train_supernet",
    "write_gap_study",
    "write_oneshot",
]

_LAZY = {
    "OneShotSettings": "nasbench_sim.oneshot.train",
    "train_supernet": "nasbench_sim.oneshot.train",
    "SuperNetwork": "nasbench_sim.oneshot.supernet",
}


def __getattr__(name: str) -> Any:
    """Import the torch-dependent names on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nasbench_sim.oneshot' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
