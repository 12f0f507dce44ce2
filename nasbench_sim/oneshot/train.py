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

Path sampling, the derived cell and one-shot scoring live in :mod:`nasbench_sim.oneshot.paths`
(importable from here too).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nasbench_sim.generate._loop import (
    batch_order,
    make_optimizer,
    steps_per_epoch,
    torch_dtype,
)
from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.oneshot.paths import (
    derive_cell,
    gumbel_weights,
    oneshot_accuracy,
    sample_paths,
    valid_accuracy,
)
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
    "valid_accuracy",
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
    return _Trainer(protocol, method, data, int(seed), settings or OneShotSettings(), device).run(
        progress
    )


class _Trainer:
    """The state of one super-network training (see :func:`train_supernet`)."""

    def __init__(
        self,
        protocol: Protocol,
        method: str,
        data: Dataset,
        seed: int,
        settings: OneShotSettings,
        device: torch.device | str,
    ) -> None:
        self.protocol, self.method, self.data, self.settings = protocol, method, data, settings
        self.start = time.perf_counter()
        self.dev = dev = torch.device(device)
        dtype = torch_dtype(protocol)
        s_init, s_shuffle, s_path, s_gumbel, s_alpha, s_valid = np.random.SeedSequence(
            [protocol.base_seed, 3, seed]
        ).generate_state(6)
        self.s_path = int(s_path)
        self.model = build_supernet(
            channels=protocol.channels,
            cells_per_stage=protocol.cells_per_stage,
            input_shape=data.input_shape,
            n_classes=data.n_classes,
            seed=int(s_init),
            dtype=dtype,
            device=dev,
        )
        self.n = int(data.train_y.shape[0])
        self.total = steps_per_epoch(protocol, self.n) * protocol.epochs
        self.opt, self.sched = make_optimizer(list(self.model.parameters()), protocol, self.total)
        self.shuffle = torch.Generator().manual_seed(int(s_shuffle))
        self.path_rng = np.random.default_rng(int(s_path))
        self.gumbel = torch.Generator().manual_seed(int(s_gumbel))
        self.valid_gen = torch.Generator().manual_seed(int(s_valid))
        self.relaxed = method in ("darts", "gdas")
        self.alpha = torch.zeros(N_EDGES, N_OPS, dtype=dtype, device=dev)
        self.arch_opt: torch.optim.Optimizer | None = None
        if self.relaxed:
            init = 1e-3 * torch.randn(
                N_EDGES, N_OPS, generator=torch.Generator().manual_seed(int(s_alpha))
            )
            self.alpha = init.to(device=dev, dtype=dtype).requires_grad_(True)
            self.arch_opt = torch.optim.Adam(
                [self.alpha],
                lr=settings.arch_lr,
                betas=settings.arch_betas,
                weight_decay=settings.arch_weight_decay,
            )
        self.counts = np.zeros((N_EDGES, N_OPS), dtype=np.int64)
        self.valid_queue: list[torch.Tensor] = []
        self.sn_acc: list[float] = []
        self.alphas: list[np.ndarray] = []
        self.derived: list[int] = []
        self.derived_acc: list[float] = []
        self.taus: list[float] = []
        self.diagnostic_s = 0.0

    def _next_valid(self) -> torch.Tensor:
        if not self.valid_queue:
            n_valid = int(self.data.valid_y.shape[0])
            self.valid_queue.extend(
                batch_order(n_valid, self.protocol.batch_size, self.valid_gen, self.dev)
            )
        return self.valid_queue.pop(0)

    def _loss(self, xb: torch.Tensor, yb: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        out = self.model(xb, w)
        return F.cross_entropy(out, yb, label_smoothing=self.protocol.label_smoothing)

    def _arch_step(self, tau: float) -> None:
        """One step of alpha on a validation batch (DARTS first order, GDAS)."""
        assert self.arch_opt is not None
        vidx = self._next_valid()
        wa = (
            torch.softmax(self.alpha, -1)
            if self.method == "darts"
            else gumbel_weights(self.alpha, tau, self.gumbel)
        )
        self.arch_opt.zero_grad(set_to_none=True)
        x, y = self.data.valid_x.index_select(0, vidx), self.data.valid_y.index_select(0, vidx)
        self._loss(x, y, wa).backward()
        self.arch_opt.step()

    def _path_weights(self, tau: float) -> torch.Tensor:
        """The weights of this step's path (SPOS), mixture (DARTS) or sample (GDAS)."""
        if self.method == "spos":
            path = sample_paths(self.path_rng, 1)[0]
            return path_weights(Cell(tuple(int(o) for o in path)), like=self.data.train_x)
        if self.method == "darts":
            return torch.softmax(self.alpha.detach(), -1)
        return gumbel_weights(self.alpha.detach(), tau, self.gumbel)

    def _train_epoch(self, tau: float) -> None:
        self.model.train()
        for idx in batch_order(self.n, self.protocol.batch_size, self.shuffle, self.dev):
            if self.relaxed:
                self._arch_step(tau)
            w = self._path_weights(tau)
            if self.method != "darts":
                self.counts += w.detach().cpu().numpy().astype(np.int64)
            self.opt.zero_grad(set_to_none=True)
            x, y = self.data.train_x.index_select(0, idx), self.data.train_y.index_select(0, idx)
            self._loss(x, y, w).backward()
            self.opt.step()
            self.sched.step()

    def _diagnose(self, epoch: int) -> None:
        """The epoch's super-network accuracy (and, DARTS / GDAS, its derived cell)."""
        data, protocol = self.data, self.protocol
        if self.relaxed:
            probs = torch.softmax(self.alpha.detach(), -1)
            cell = derive_cell(probs)
            self.alphas.append(probs.cpu().numpy().astype(np.float64))
            self.derived.append(cell.index)
            wd = probs if self.method == "darts" else path_weights(cell, like=data.train_x)
            self.sn_acc.append(valid_accuracy(self.model, wd, data, protocol))
            bn = self.settings.bn_batches
            self.derived_acc.append(
                oneshot_accuracy(self.model, [cell], data, protocol, bn_batches=bn)[0]
            )
            return
        rng = np.random.default_rng([self.s_path, epoch])
        paths = sample_paths(rng, self.settings.spos_eval_paths)
        accs = [
            valid_accuracy(
                self.model,
                path_weights(Cell(tuple(int(o) for o in p)), like=data.train_x),
                data,
                protocol,
            )
            for p in paths
        ]
        self.sn_acc.append(float(np.mean(accs)))

    def run(self, progress: Callable[[int, int], None] | None) -> SupernetTrace:
        epochs, st = self.protocol.epochs, self.settings
        for epoch in range(epochs):
            tau = st.tau_max - (st.tau_max - st.tau_min) * epoch / max(epochs - 1, 1)
            self.taus.append(tau)
            self._train_epoch(tau)
            _sync(self.dev)
            t_diag = time.perf_counter()
            self._diagnose(epoch)
            if progress is not None:
                progress(epoch + 1, epochs)
            _sync(self.dev)
            self.diagnostic_s += time.perf_counter() - t_diag
        return SupernetTrace(
            method=self.method,
            model=self.model,
            supernet_valid_acc=np.asarray(self.sn_acc, dtype=np.float64),
            alpha=np.stack(self.alphas) if self.relaxed else None,
            derived=np.asarray(self.derived, dtype=np.int64),
            derived_oneshot_acc=np.asarray(self.derived_acc, dtype=np.float64),
            op_counts=self.counts,
            steps=self.total,
            wall_s=time.perf_counter() - self.start - self.diagnostic_s,
            diagnostic_s=self.diagnostic_s,
            tau=np.asarray(self.taus if self.method == "gdas" else [], dtype=np.float64),
        )
