"""The generator: train NAS-Bench-201 cells into a resumable HDF5 table.

Importing this package does not import torch; the names that need it (datasets, models,
trainers) are loaded on first use. See ``docs/generator.md``.

Example:
    >>> from nasbench_sim.generate import Protocol
    >>> Protocol().dataset
    'mnist1d'
"""

from __future__ import annotations

import importlib
from typing import Any

from nasbench_sim.generate.assemble import assemble_parts, merge_tables
from nasbench_sim.generate.build import (
    TRAINERS,
    BuildProgress,
    auto_trainer,
    build_table,
    parse_shard,
    resolve_cells,
    train_chunk,
)
from nasbench_sim.generate.chunks import ChunkResult, build_status, parts_dir
from nasbench_sim.generate.errors import (
    BuildError,
    DatasetError,
    GenerateError,
    MissingTrainingDependency,
)
from nasbench_sim.generate.protocol import DATASETS, Protocol

__all__ = [
    "DATASETS",
    "TRAINERS",
    "BuildError",
    "BuildProgress",
    "ChunkResult",
    "CurveResult",
    "Dataset",
    "DatasetError",
    "GenerateError",
    "GroupedNetwork",
    "MissingTrainingDependency",
    "NB201Network",
    "Protocol",
    "assemble_parts",
    "auto_trainer",
    "build_model",
    "build_status",
    "build_table",
    "load_dataset",
    "merge_tables",
    "parse_shard",
    "parts_dir",
    "resolve_cells",
    "train_batched",
    "train_chunk",
    "train_reference",
]

_LAZY = {
    "CurveResult": "nasbench_sim.generate._loop",
    "Dataset": "nasbench_sim.generate.datasets",
    "load_dataset": "nasbench_sim.generate.datasets",
    "NB201Network": "nasbench_sim.generate.model",
    "build_model": "nasbench_sim.generate.model",
    "GroupedNetwork": "nasbench_sim.generate.batched_model",
    "train_reference": "nasbench_sim.generate.train_reference",
    "train_batched": "nasbench_sim.generate.train_batched",
}


def __getattr__(name: str) -> Any:
    """Import the torch-dependent names on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nasbench_sim.generate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
