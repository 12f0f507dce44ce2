"""The batched trainer: M different cells trained at once as one grouped network.

See :mod:`nasbench_sim.generate.batched_model` for the layout. All M models share the
mini-batch order of one training seed; each starts from the reference initialisation of its
``(cell, seed)``, so per-epoch curves equal the reference trainer's up to float rounding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from nasbench_sim.generate._loop import CurveResult, train_models
from nasbench_sim.generate.batched_model import GroupedNetwork
from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.generate.train_reference import reference_model
from nasbench_sim.space import Cell

__all__ = ["batched_model", "train_batched"]


def batched_model(
    protocol: Protocol,
    cells: Sequence[Cell],
    seed: int,
    data: Dataset,
    device: torch.device | str,
) -> GroupedNetwork:
    """The grouped network of ``cells``, each initialised as the reference would."""
    refs = [reference_model(protocol, c, seed, data, device) for c in cells]
    return GroupedNetwork.from_models(refs)


def train_batched(
    protocol: Protocol,
    cells: Sequence[Cell],
    seed: int,
    data: Dataset,
    device: torch.device | str,
) -> CurveResult:
    """Train ``cells`` together with training seed ``seed``; curves ``(len(cells), epochs)``.

    Example:
        >>> from nasbench_sim.generate.datasets import load_dataset
        >>> p = Protocol(dataset="digits", channels=2, cells_per_stage=1, epochs=1)
        >>> data = load_dataset("digits", seed=0, device="cpu", train_subset=64, eval_subset=64)
        >>> r = train_batched(p, [Cell.from_index(7), Cell.from_index(9000)], 0, data, "cpu")
        >>> r.metrics["test_acc"].shape
        (2, 1)
    """
    if not cells:
        raise ValueError("train_batched needs at least one cell")
    start = time.perf_counter()
    model = batched_model(protocol, cells, seed, data, device)
    curves, steps = train_models(model, model, len(cells), protocol, seed, data)
    return CurveResult(metrics=curves, steps=steps, wall_s=time.perf_counter() - start)
