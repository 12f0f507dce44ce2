"""The reference trainer: one network at a time, the plain way.

It defines what a table row means; the batched trainer must reproduce it (see
``tests/generate/test_equivalence.py``).
"""

from __future__ import annotations

import time

import torch

from nasbench_sim.generate._loop import CurveResult, torch_dtype, train_models
from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.model import NB201Network, build_model
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.space import Cell

__all__ = ["reference_model", "train_reference"]


def reference_model(
    protocol: Protocol, cell: Cell, seed: int, data: Dataset, device: torch.device | str
) -> NB201Network:
    """The network of ``cell`` with its initial weights for training seed ``seed``."""
    return build_model(
        cell,
        channels=protocol.channels,
        cells_per_stage=protocol.cells_per_stage,
        input_shape=data.input_shape,
        n_classes=data.n_classes,
        seed=protocol.init_seed(cell.index, seed),
        dtype=torch_dtype(protocol),
        device=device,
    )


def train_reference(
    protocol: Protocol, cell: Cell, seed: int, data: Dataset, device: torch.device | str
) -> CurveResult:
    """Train ``cell`` once with training seed ``seed``; curves shaped ``(1, epochs)``.

    Example:
        >>> from nasbench_sim.generate.datasets import load_dataset
        >>> p = Protocol(dataset="digits", channels=2, cells_per_stage=1, epochs=1,
        ...              train_subset=64, eval_subset=64)
        >>> data = load_dataset("digits", seed=0, device="cpu", train_subset=64, eval_subset=64)
        >>> r = train_reference(p, Cell.from_index(777), 0, data, "cpu")
        >>> r.metrics["valid_acc"].shape
        (1, 1)
    """
    start = time.perf_counter()
    model = reference_model(protocol, cell, seed, data, device)
    curves, steps = train_models(model, lambda xb: model(xb).unsqueeze(1), 1, protocol, seed, data)
    return CurveResult(metrics=curves, steps=steps, wall_s=time.perf_counter() - start)
