"""Pieces shared by the reference and the batched trainer: optimiser, schedule, batches,
evaluation. Both trainers call exactly these, so they do the same arithmetic per model."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.protocol import Protocol

__all__ = [
    "CurveResult",
    "batch_order",
    "evaluate",
    "flat_parameters",
    "make_optimizer",
    "steps_per_epoch",
]

CURVE_METRICS = ("train_loss", "train_acc", "valid_loss", "valid_acc", "test_loss", "test_acc")


@dataclass(frozen=True)
class CurveResult:
    """Per-epoch curves of M models trained together (M = 1 for the reference trainer).

    Attributes:
        metrics: name -> float64 ``(M, epochs)`` for the six table metrics. ``train_*`` are
            running means over the epoch's mini-batches of the training objective (with label
            smoothing if any); ``valid_*``/``test_*`` are plain cross-entropy and accuracy of
            the model in eval mode after the epoch.
        steps: optimiser steps taken (per model).
        wall_s: wall-clock seconds of the whole training run.
    """

    metrics: dict[str, np.ndarray]
    steps: int
    wall_s: float


def torch_dtype(protocol: Protocol) -> torch.dtype:
    return torch.float64 if protocol.dtype == "float64" else torch.float32


def steps_per_epoch(protocol: Protocol, n_train: int) -> int:
    return math.ceil(n_train / protocol.batch_size)


def make_optimizer(
    params: Iterator[torch.Tensor] | list[torch.Tensor] | list[nn.Parameter],
    protocol: Protocol,
    total_steps: int,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """SGD (Nesterov when momentum > 0) with weight decay, cosine-annealed per step."""
    opt = torch.optim.SGD(
        params,
        lr=protocol.lr,
        momentum=protocol.momentum,
        nesterov=protocol.momentum > 0,
        weight_decay=protocol.weight_decay,
    )
    span = protocol.lr - protocol.lr_min
    base = protocol.lr

    def factor(step: int) -> float:
        t = min(step, total_steps) / max(total_steps, 1)
        return (
            (protocol.lr_min + 0.5 * span * (1.0 + math.cos(math.pi * t))) / base if base else 0.0
        )

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """Move every parameter of ``model`` into one contiguous buffer and return it, with a
    zeroed gradient buffer of the same layout as its ``.grad``.

    Each parameter becomes a view of the buffer and its ``.grad`` a view of the gradient
    buffer (autograd accumulates into an existing gradient in place), so an elementwise
    optimiser stepping the one buffer does the same arithmetic as stepping every parameter,
    in a handful of passes instead of a handful per parameter. Gradients start at zero rather
    than ``None``, so a parameter that no path reaches in a step (an edge whose output every
    cell ignores) still gets its weight decay, as in a network that multiplies it by zero.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    with torch.no_grad():
        flat = torch.cat([p.detach().reshape(-1) for p in params])
    grad = torch.zeros_like(flat)
    offset = 0
    for p in params:
        n = p.numel()
        p.data = flat[offset : offset + n].view_as(p)
        p.grad = grad[offset : offset + n].view_as(p)
        offset += n
    flat.grad = grad
    return flat


def batch_order(
    n: int, batch_size: int, generator: torch.Generator, device: torch.device
) -> list[torch.Tensor]:
    """One epoch of shuffled mini-batch indices on ``device``, drawn from a CPU generator so
    that the order is the same on every device."""
    perm = torch.randperm(n, generator=generator).to(device)
    return list(perm.split(batch_size))


def _by_model(values: torch.Tensor) -> torch.Tensor:
    """``(b, M)`` per-sample values as ``(M, b)`` contiguous rows: one model's row is reduced
    the same way whatever ``M`` is."""
    return values.t().contiguous()


def evaluate(
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    n_models: int,
    rowwise: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy and accuracy per model; ``forward`` returns ``(b, M, classes)``.
    ``rowwise``: see :func:`train_models`."""
    loss = torch.zeros(n_models, dtype=torch.float64, device=x.device)
    correct = torch.zeros(n_models, dtype=torch.float64, device=x.device)
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            logits = forward(xb)
            b = yb.shape[0]
            ce = F.cross_entropy(
                logits.reshape(b * n_models, -1), yb.repeat_interleave(n_models), reduction="none"
            ).view(b, n_models)
            loss += (_by_model(ce).sum(1) if rowwise else ce.sum(0)).double()
            correct += (logits.argmax(-1) == yb[:, None]).sum(0).double()
    n = max(int(y.shape[0]), 1)
    return (loss / n).cpu().numpy(), (correct / n).cpu().numpy()


def train_models(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    n_models: int,
    protocol: Protocol,
    seed: int,
    data: Dataset,
    eval_batch_size: int | None = None,
    rowwise_losses: bool = False,
) -> tuple[dict[str, np.ndarray], int]:
    """Train ``model`` (whose ``forward`` gives ``(b, M, classes)``) for the protocol's epochs
    with the mini-batch order of training seed ``seed``; return the curves ``(M, epochs)`` and
    the steps taken. The loss is the sum over models of each model's mean loss. Evaluation
    passes run ``eval_batch_size`` samples at a time (default the protocol's); the batch size
    changes the order of the loss sums and may change how the BLAS blocks the matrix
    products (the last bits of the logits). ``rowwise_losses`` (the ordered numerics,
    :mod:`~nasbench_sim.generate.grad_sum`): each model's recorded losses are reduced over its
    own contiguous row, so that their last bits do not depend on how many models train
    together; otherwise over a column of the ``(b, M)`` losses (the gradients are the same)."""
    x, y = data.train_x, data.train_y
    n = int(y.shape[0])
    spe = steps_per_epoch(protocol, n)
    total = spe * protocol.epochs
    flat = flat_parameters(model)
    opt, sched = make_optimizer([flat], protocol, total)
    gen = torch.Generator().manual_seed(protocol.shuffle_seed(seed))
    out = {k: np.zeros((n_models, protocol.epochs)) for k in CURVE_METRICS}
    eval_batch = eval_batch_size or protocol.eval_batch_size
    for epoch in range(protocol.epochs):
        model.train()
        loss_sum = torch.zeros(n_models, dtype=torch.float64, device=x.device)
        correct = torch.zeros(n_models, dtype=torch.float64, device=x.device)
        for idx in batch_order(n, protocol.batch_size, gen, x.device):
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            b = yb.shape[0]
            logits = forward(xb)
            ce = F.cross_entropy(
                logits.reshape(b * n_models, -1),
                yb.repeat_interleave(n_models),
                label_smoothing=protocol.label_smoothing,
                reduction="none",
            ).view(b, n_models)
            per_model = _by_model(ce).mean(1) if rowwise_losses else ce.mean(0)
            opt.zero_grad(set_to_none=False)
            per_model.sum().backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                loss_sum += per_model.detach().double() * b
                correct += (logits.detach().argmax(-1) == yb[:, None]).sum(0).double()
        out["train_loss"][:, epoch] = (loss_sum / n).cpu().numpy()
        out["train_acc"][:, epoch] = (correct / n).cpu().numpy()
        model.eval()
        last = epoch + 1 == protocol.epochs
        for split in ("valid", "test"):
            if split == "test" and not (last or (epoch + 1) % protocol.test_every == 0):
                out["test_loss"][:, epoch] = out["test_acc"][:, epoch] = np.nan
                continue
            loss, acc = evaluate(
                forward,
                getattr(data, f"{split}_x"),
                getattr(data, f"{split}_y"),
                eval_batch,
                n_models,
                rowwise_losses,
            )
            out[f"{split}_loss"][:, epoch] = loss
            out[f"{split}_acc"][:, epoch] = acc
    return out, total
