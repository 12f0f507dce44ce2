"""The matmul trainer: one network at a time, run as matrix products (the CPU fast path).

Same protocol, initial weights, mini-batch order and arithmetic as the reference trainer
(:mod:`~nasbench_sim.generate.train_reference`), executed by
:class:`~nasbench_sim.generate.matmul_model.MatmulNetwork`; curves agree with the
reference's to rounding. 1-D datasets only.
"""

from __future__ import annotations

import time

import torch

from nasbench_sim.generate._loop import CurveResult, train_models
from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.matmul_model import MatmulNetwork
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.generate.train_reference import reference_model
from nasbench_sim.space import Cell

__all__ = ["train_matmul"]


def train_matmul(
    protocol: Protocol, cell: Cell, seed: int, data: Dataset, device: torch.device | str
) -> CurveResult:
    """Train ``cell`` once with training seed ``seed``; curves shaped ``(1, epochs)``.

    Example:
        >>> from nasbench_sim.generate.datasets import load_dataset
        >>> p = Protocol(channels=2, cells_per_stage=1, epochs=1, train_subset=64,
        ...              eval_subset=64)
        >>> data = load_dataset("mnist1d", seed=0, device="cpu", train_subset=64,
        ...                     eval_subset=64)
        >>> r = train_matmul(p, Cell.from_index(777), 0, data, "cpu")
        >>> r.metrics["valid_acc"].shape
        (1, 1)
    """
    start = time.perf_counter()
    model = MatmulNetwork(reference_model(protocol, cell, seed, data, device))
    curves, steps = train_models(model, lambda xb: model(xb).unsqueeze(1), 1, protocol, seed, data)
    return CurveResult(metrics=curves, steps=steps, wall_s=time.perf_counter() - start)
