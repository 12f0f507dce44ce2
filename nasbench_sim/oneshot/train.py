"""Training a super-network with SPOS, DARTS (first order) or GDAS, on the table's protocol.

All three use the generator's optimiser and schedule (:func:`make_optimizer`: SGD with
Nesterov momentum, weight decay, per-step cosine annealing), its mini-batch order
(:func:`batch_order`) and its dataset, so the shared weights see what each table row saw.

* **SPOS** (Guo et al., 2020): each step samples one op per edge uniformly at random and
  trains that single path.
* **DARTS** (Liu et al., 2019), first order: each step first updates the architecture logits
  ``alpha`` (Adam) on a validation batch, with every edge the softmax(``alpha``)-weighted sum
  of its ops, then the network weights on a training batch with ``alpha`` fixed.
* **GDAS** (Dong & Yang, 2019): as DARTS, but every forward pass samples one op per edge with
  the Gumbel-max trick; the forward weights are exactly one-hot and gradients reach ``alpha``
  through the Gumbel-softmax relaxation (straight-through). The temperature falls linearly
  from ``tau_max`` to ``tau_min`` over the epochs.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nasbench_sim.generate._loop import (
    batch_order,
    evaluate,
    make_optimizer,
    steps_per_epoch,
    torch_dtype,
)
from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.oneshot.store import OneShotError, check_method
from nasbench_sim.oneshot.supernet import SuperNetwork, build_supernet, path_weights
from nasbench_sim.space import Cell
from nasbench_sim.space.nb201 import N_EDGES, N_OPS

__all__ = [
    "OneShotSettings",
    "SupernetTrace",
    "derive_cell",
    "gumbel_weights",
    "oneshot_accuracy",
    "sample_paths",
    "train_supernet",
]


@dataclass(frozen=True)
class OneShotSettings:
    """Method hyper-parameters (the protocol supplies everything else).

    Attributes:
        arch_lr: Adam learning rate of ``alpha`` (DARTS, GDAS).
        arch_betas: Adam betas of ``alpha``.
        arch_weight_decay: weight decay of ``alpha``.
        tau_max: GDAS temperature of the first epoch.
        tau_min: GDAS temperature of the last epoch.
        bn_batches: training batches used to recalibrate batch-norm statistics per cell
            before its one-shot evaluation.
        spos_eval_paths: random paths averaged for SPOS's per-epoch super-network accuracy.
    """

    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    tau_max: float = 10.0
    tau_min: float = 0.1
    bn_batches: int = 4
    spos_eval_paths: int = 4

    def __post_init__(self) -> None:
        if not (self.arch_lr > 0 and self.arch_weight_decay >= 0):
            raise OneShotError("arch_lr must be > 0 and arch_weight_decay >= 0")
        if not 0 < self.tau_min <= self.tau_max:
            raise OneShotError(f"need 0 < tau_min <= tau_max, got {self.tau_min}, {self.tau_max}")
        if self.bn_batches < 1 or self.spos_eval_paths < 1:
            raise OneShotError("bn_batches and spos_eval_paths must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["arch_betas"] = list(self.arch_betas)
        return d


@dataclass(frozen=True, eq=False)
class SupernetTrace:
    """What training a super-network produced.

    Attributes:
        method: ``spos``, ``darts`` or ``gdas``.
        model: the trained super-network.
        supernet_valid_acc: ``(epochs,)`` validation accuracy after each epoch (DARTS: the
            ``alpha``-mixed network; GDAS: the argmax path; SPOS: mean over random paths).
        alpha: ``(epochs, 6, 5)`` softmax of ``alpha`` after each epoch (``None`` for SPOS).
        derived: ``(epochs,)`` index of the argmax cell after each epoch (empty for SPOS).
        derived_oneshot_acc: ``(epochs,)`` one-shot accuracy of each derived cell.
        op_counts: ``(6, 5)`` how often each op ran on each edge in training forward passes
            (SPOS, GDAS; zeros for DARTS, which runs them all).
        steps: weight-optimiser steps.
        wall_s: wall-clock seconds of training, without the per-epoch diagnostics (the
            super-network's validation accuracy and the derived cell's one-shot accuracy,
            which the method itself does not need).
        diagnostic_s: wall-clock seconds of those per-epoch diagnostics (and progress reports).
    """

    method: str
    model: SuperNetwork
    supernet_valid_acc: np.ndarray
    alpha: np.ndarray | None
    derived: np.ndarray
    derived_oneshot_acc: np.ndarray
    op_counts: np.ndarray
    steps: int
    wall_s: float
    tau: np.ndarray = field(default_factory=lambda: np.zeros(0))
    diagnostic_s: float = 0.0


def _sync(dev: torch.device) -> None:
    """Wait for queued GPU work, so that wall-clock timing covers it."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


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


def _valid_acc(
    model: SuperNetwork, weights: torch.Tensor, data: Dataset, protocol: Protocol
) -> float:
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
        out[i] = _valid_acc(net, w, data, protocol)
        if progress is not None:
            progress(1)
    return out


def train_supernet(
    protocol: Protocol,
    method: str,
    data: Dataset,
    *,
    seed: int = 0,
    settings: OneShotSettings | None = None,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> SupernetTrace:
    """Train a super-network for ``protocol.epochs`` epochs with ``method``.

    Args:
        protocol: the table's protocol (skeleton, optimiser, schedule, batch size, epochs).
        method: ``spos``, ``darts`` or ``gdas``.
        data: the dataset (on ``device``).
        seed: seed of the initial weights, batch order, path sampling and ``alpha``.
        settings: method hyper-parameters.
        device: where the network lives.
        progress: called as ``progress(epoch_done, epochs)`` after each epoch.

    Raises:
        OneShotError: unknown method.
    """
    check_method(method)
    settings = settings or OneShotSettings()
    start = time.perf_counter()
    dev = torch.device(device)
    dtype = torch_dtype(protocol)
    s_init, s_shuffle, s_path, s_gumbel, s_alpha, s_valid = np.random.SeedSequence(
        [protocol.base_seed, 3, int(seed)]
    ).generate_state(6)
    model = build_supernet(
        channels=protocol.channels,
        cells_per_stage=protocol.cells_per_stage,
        input_shape=data.input_shape,
        n_classes=data.n_classes,
        seed=int(s_init),
        dtype=dtype,
        device=dev,
    )
    n = int(data.train_y.shape[0])
    total = steps_per_epoch(protocol, n) * protocol.epochs
    opt, sched = make_optimizer(list(model.parameters()), protocol, total)
    shuffle = torch.Generator().manual_seed(int(s_shuffle))
    path_rng = np.random.default_rng(int(s_path))
    gumbel = torch.Generator().manual_seed(int(s_gumbel))
    valid_gen = torch.Generator().manual_seed(int(s_valid))
    relaxed = method in ("darts", "gdas")
    alpha = torch.zeros(N_EDGES, N_OPS, dtype=dtype, device=dev)
    arch_opt: torch.optim.Optimizer | None = None
    if relaxed:
        init = 1e-3 * torch.randn(
            N_EDGES, N_OPS, generator=torch.Generator().manual_seed(int(s_alpha))
        )
        alpha = init.to(device=dev, dtype=dtype).requires_grad_(True)
        arch_opt = torch.optim.Adam(
            [alpha],
            lr=settings.arch_lr,
            betas=settings.arch_betas,
            weight_decay=settings.arch_weight_decay,
        )
    counts = np.zeros((N_EDGES, N_OPS), dtype=np.int64)
    valid_queue: list[torch.Tensor] = []
    sn_acc, alphas, derived, derived_acc, taus = [], [], [], [], []
    diagnostic_s = 0.0

    def next_valid() -> torch.Tensor:
        if not valid_queue:
            valid_queue.extend(
                batch_order(int(data.valid_y.shape[0]), protocol.batch_size, valid_gen, dev)
            )
        return valid_queue.pop(0)

    def loss_of(xb: torch.Tensor, yb: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(xb, w), yb, label_smoothing=protocol.label_smoothing)

    for epoch in range(protocol.epochs):
        tau = settings.tau_max - (settings.tau_max - settings.tau_min) * epoch / max(
            protocol.epochs - 1, 1
        )
        taus.append(tau)
        model.train()
        for idx in batch_order(n, protocol.batch_size, shuffle, dev):
            if relaxed:
                assert arch_opt is not None
                vidx = next_valid()
                wa = (
                    torch.softmax(alpha, -1)
                    if method == "darts"
                    else gumbel_weights(alpha, tau, gumbel)
                )
                arch_opt.zero_grad(set_to_none=True)
                loss_of(
                    data.valid_x.index_select(0, vidx), data.valid_y.index_select(0, vidx), wa
                ).backward()
                arch_opt.step()
            if method == "spos":
                path = sample_paths(path_rng, 1)[0]
                w = path_weights(Cell(tuple(int(o) for o in path)), like=data.train_x)
            elif method == "darts":
                w = torch.softmax(alpha.detach(), -1)
            else:
                w = gumbel_weights(alpha.detach(), tau, gumbel)
            if method != "darts":
                counts += w.detach().cpu().numpy().astype(np.int64)
            opt.zero_grad(set_to_none=True)
            loss_of(
                data.train_x.index_select(0, idx), data.train_y.index_select(0, idx), w
            ).backward()
            opt.step()
            sched.step()
        _sync(dev)
        t_diag = time.perf_counter()
        if relaxed:
            probs = torch.softmax(alpha.detach(), -1)
            cell = derive_cell(probs)
            alphas.append(probs.cpu().numpy().astype(np.float64))
            derived.append(cell.index)
            wd = probs if method == "darts" else path_weights(cell, like=data.train_x)
            sn_acc.append(_valid_acc(model, wd, data, protocol))
            derived_acc.append(
                oneshot_accuracy(model, [cell], data, protocol, bn_batches=settings.bn_batches)[0]
            )
        else:
            paths = sample_paths(
                np.random.default_rng([int(s_path), epoch]), settings.spos_eval_paths
            )
            accs = [
                _valid_acc(
                    model,
                    path_weights(Cell(tuple(int(o) for o in p)), like=data.train_x),
                    data,
                    protocol,
                )
                for p in paths
            ]
            sn_acc.append(float(np.mean(accs)))
        if progress is not None:
            progress(epoch + 1, protocol.epochs)
        _sync(dev)
        diagnostic_s += time.perf_counter() - t_diag
    return SupernetTrace(
        method=method,
        model=model,
        supernet_valid_acc=np.asarray(sn_acc, dtype=np.float64),
        alpha=np.stack(alphas) if relaxed else None,
        derived=np.asarray(derived, dtype=np.int64),
        derived_oneshot_acc=np.asarray(derived_acc, dtype=np.float64),
        op_counts=counts,
        steps=total,
        wall_s=time.perf_counter() - start - diagnostic_s,
        diagnostic_s=diagnostic_s,
        tau=np.asarray(taus if method == "gdas" else [], dtype=np.float64),
    )
