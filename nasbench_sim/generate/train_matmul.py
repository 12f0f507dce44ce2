"""The matmul trainers (the CPU fast path, 1-D datasets only): one network at a time, or M
networks of one seed stacked along a leading model dimension.

Same protocol, initial weights, mini-batch order and arithmetic as the reference trainer
(:mod:`~nasbench_sim.generate.train_reference`) up to the order of floating-point additions,
executed by :class:`~nasbench_sim.generate.matmul_model.MatmulNetwork` (one model) or
:class:`~nasbench_sim.generate.matmul_stacked.StackedMatmulNetwork` (M models); curves agree
with the reference's to rounding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from nasbench_sim.generate._loop import CurveResult, train_models
from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.matmul_model import MatmulNetwork
from nasbench_sim.generate.matmul_stacked import StackedMatmulNetwork
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.generate.stacking import MAX_STACK, stack_size
from nasbench_sim.generate.train_reference import reference_model
from nasbench_sim.space import Cell

__all__ = [
    "MAX_STACK",
    "stack_eval_batch",
    "stack_size",
    "stacked_model",
    "train_matmul",
    "train_matmul_stacked",
]


def stack_eval_batch(protocol: Protocol, n_models: int) -> int:
    """Samples per evaluation pass of a stack of ``n_models`` models.

    An evaluation pass of a stack moves ``n_models`` times the activations of one model, so
    the protocol's evaluation batch (1,024 by default) overflows the caches. Measured with
    ``benchmarks/stack_eval_batch.py`` (C = 8, N = 3, one thread; µs of CPU per model and
    sample, M = 16 / M = 8) on an idle core: batch 64: 33.7 / 29.9, 128: 32.7 / 27.7, 256:
    35.1 / 28.3, 512: 45.2 / 31.0, 1,024: 50.6 / 41.4 (with both cores busy: 45.7 at 128
    against 93.0 at 1,024 for M = 16), so about 2,048 model-samples per pass, never more
    than the protocol's batch.

    Example:
        >>> [stack_eval_batch(Protocol(), m) for m in (1, 2, 8, 16)]
        [1024, 1024, 256, 128]
    """
    return max(64, min(protocol.eval_batch_size, 2048 // max(n_models, 1)))


def train_matmul(
    protocol: Protocol,
    cell: Cell,
    seed: int,
    data: Dataset,
    device: torch.device | str,
    ordered_grads: bool = True,
) -> CurveResult:
    """Train ``cell`` once with training seed ``seed``; curves shaped ``(1, epochs)``.
    ``ordered_grads``: the ordered numerics (:mod:`~nasbench_sim.generate.grad_sum`): a cell
    node's gradients added in edge order and each model's losses reduced over its own row;
    ``False``: autograd's order, as tables built before the choice.

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
    model = MatmulNetwork(reference_model(protocol, cell, seed, data, device), ordered_grads)
    curves, steps = train_models(
        model, lambda xb: model(xb).unsqueeze(1), 1, protocol, seed, data,
        rowwise_losses=ordered_grads,
    )  # fmt: skip
    return CurveResult(metrics=curves, steps=steps, wall_s=time.perf_counter() - start)


def stacked_model(
    protocol: Protocol,
    cells: Sequence[Cell],
    seed: int,
    data: Dataset,
    device: torch.device | str,
    ordered_grads: bool = True,
) -> StackedMatmulNetwork:
    """The stacked network of ``cells``, each model initialised as the reference would."""
    refs = [reference_model(protocol, c, seed, data, device) for c in cells]
    return StackedMatmulNetwork(refs, ordered_grads)


def train_matmul_stacked(
    protocol: Protocol,
    cells: Sequence[Cell],
    seed: int,
    data: Dataset,
    device: torch.device | str,
    ordered_grads: bool = True,
) -> CurveResult:
    """Train ``cells`` together, stacked, with training seed ``seed``; curves shaped
    ``(len(cells), epochs)``. Cells that share their leading edges (consecutive indices)
    share most of the work's calls. ``ordered_grads``: the ordered numerics, so that each
    cell's curves are the same whoever its stack-mates are
    (:mod:`~nasbench_sim.generate.grad_sum`; ``False``: autograd's order).

    Example:
        >>> from nasbench_sim.generate.datasets import load_dataset
        >>> p = Protocol(channels=2, cells_per_stage=1, epochs=1, train_subset=64,
        ...              eval_subset=64)
        >>> data = load_dataset("mnist1d", seed=0, device="cpu", train_subset=64,
        ...                     eval_subset=64)
        >>> cells = [Cell.from_index(i) for i in (775, 776, 777)]
        >>> train_matmul_stacked(p, cells, 0, data, "cpu").metrics["valid_acc"].shape
        (3, 1)
    """
    if not cells:
        raise ValueError("train_matmul_stacked needs at least one cell")
    if len(cells) == 1:  # the same trajectory, a little faster
        return train_matmul(protocol, cells[0], seed, data, device, ordered_grads)
    start = time.perf_counter()
    model = stacked_model(protocol, cells, seed, data, device, ordered_grads)
    curves, steps = train_models(
        model, model, len(cells), protocol, seed, data, stack_eval_batch(protocol, len(cells)),
        rowwise_losses=ordered_grads,
    )  # fmt: skip
    return CurveResult(metrics=curves, steps=steps, wall_s=time.perf_counter() - start)
