"""Paths through the NB201 super-network: sampled uniformly (SPOS), sampled with the
Gumbel-max trick (GDAS), derived from the architecture logits ``alpha`` (DARTS, GDAS), and
scored on the validation split with inherited weights (one-shot accuracy).

:mod:`nasbench_sim.oneshot.train` trains with these; the names are importable from there too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from nasbench_sim.generate._loop import batch_order, evaluate
from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.oneshot.supernet import SuperNetwork, path_weights
from nasbench_sim.space import Cell
from nasbench_sim.space.nb201 import N_EDGES, N_OPS

__all__ = [
    "derive_cell",
    "gumbel_weights",
    "oneshot_accuracy",
    "sample_paths",
    "valid_accuracy",
]


def sample_paths(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` SPOS paths: int ``(n, 6)`` op ids drawn uniformly and independently per edge."""
    return rng.integers(0, N_OPS, size=(n, N_EDGES))


def gumbel_weights(alpha: torch.Tensor, tau: float, generator: torch.Generator) -> torch.Tensor:
    """GDAS edge weights: one-hot in value (the Gumbel-max sample), with the gradient of
    ``softmax((alpha + g) / tau)``.

    Example:
        >>> a = torch.zeros(6, 5, requires_grad=True)
        >>> w = gumbel_weights(a, 1.0, torch.Generator().manual_seed(0))
        >>> bool((w.detach().sum(1) == 1).all()), bool(((w == 0) | (w == 1)).all())
        (True, True)
    """
    u = torch.rand(alpha.shape, generator=generator).to(device=alpha.device, dtype=alpha.dtype)
    e = -torch.log(u.clamp_min(1e-20))  # Exp(1) noise
    g = -torch.log(e.clamp_min(1e-20))  # Gumbel(0, 1) noise
    soft = torch.softmax((alpha + g) / tau, dim=-1)
    hard = F.one_hot(soft.detach().argmax(-1), alpha.shape[-1]).to(alpha.dtype)
    return hard + (soft - soft.detach())  # value exactly `hard`


def derive_cell(alpha: torch.Tensor | np.ndarray) -> Cell:
    """The cell with the largest ``alpha`` op on every edge (ties: the lower op id)."""
    a = alpha.detach().cpu().numpy() if isinstance(alpha, torch.Tensor) else np.asarray(alpha)
    return Cell(tuple(int(o) for o in a.argmax(axis=1)))


def valid_accuracy(
    model: SuperNetwork, weights: torch.Tensor, data: Dataset, protocol: Protocol
) -> float:
    """Validation accuracy of ``model`` with edge weights ``weights``, in eval mode."""
    model.eval()
    _, acc = evaluate(
        lambda xb: model(xb, weights).unsqueeze(1),
        data.valid_x,
        data.valid_y,
        protocol.eval_batch_size,
        1,
    )
    return float(acc[0])


def oneshot_accuracy(
    model: SuperNetwork,
    cells: list[Cell] | np.ndarray,
    data: Dataset,
    protocol: Protocol,
    *,
    bn_batches: int = 4,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Validation accuracy of each cell's path with inherited weights.

    Works on a copy of ``model``: for every cell, all batch-norm statistics are reset and
    re-estimated (cumulative average) on the same ``bn_batches`` training batches, then the
    path is evaluated in eval mode on the validation split.

    Args:
        model: a trained super-network (left unchanged).
        cells: cells or cell indices.
        data: the dataset.
        protocol: supplies the batch sizes.
        bn_batches: recalibration batches per cell.
        seed: seed of the recalibration batches.
        progress: called with the number of cells just evaluated.
    """
    net = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(int(seed))
    order = batch_order(int(data.train_y.shape[0]), protocol.batch_size, gen, data.train_x.device)
    calib = [data.train_x.index_select(0, idx) for idx in order[:bn_batches]]
    out = np.zeros(len(cells))
    for i, c in enumerate(cells):
        cell = c if isinstance(c, Cell) else Cell.from_index(int(c))
        w = path_weights(cell, like=data.train_x)
        net.reset_batchnorm()
        net.train()
        with torch.no_grad():
            for xb in calib:
                net(xb, w)
        out[i] = valid_accuracy(net, w, data, protocol)
        if progress is not None:
            progress(1)
    return out
