"""Cost metrics of one cell's network: parameters, FLOPs, inference latency, step time.

* ``params``: trainable parameters, exact.
* ``flops``: FLOPs of one forward pass of one sample as counted by
  :class:`torch.utils.flop_counter.FlopCounterMode` (convolutions and matrix products, two
  FLOPs per multiply-accumulate; BatchNorm, pooling, additions are not counted).
* ``latency_s``: median wall time of ``latency_repeats`` eval-mode forward passes of one batch
  of ``latency_batch_size`` samples on the device (after one warm-up pass).
* :func:`time_train_steps`: median wall time of a training step of the network trained alone,
  the measurement behind the training-time model (:mod:`~nasbench_sim.generate.timing_model`).
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nasbench_sim.generate._loop import make_optimizer
from nasbench_sim.generate.datasets import Dataset
from nasbench_sim.generate.protocol import Protocol

__all__ = ["count_flops", "count_params", "measure_latency", "time_train_steps"]


def count_params(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass of one sample (see the module docstring)."""
    p = next(model.parameters())
    x = torch.zeros((1, *input_shape), dtype=p.dtype, device=p.device)
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    model.train(was_training)
    return int(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_latency(model: nn.Module, input_shape: tuple[int, ...], protocol: Protocol) -> float:
    """Median seconds of one eval-mode forward pass of a batch (see the module docstring)."""
    p = next(model.parameters())
    x = torch.zeros((protocol.latency_batch_size, *input_shape), dtype=p.dtype, device=p.device)
    was_training = model.training
    model.eval()
    times = []
    with torch.no_grad():
        model(x)  # warm-up
        for _ in range(protocol.latency_repeats):
            _sync(p.device)
            start = time.perf_counter()
            model(x)
            _sync(p.device)
            times.append(time.perf_counter() - start)
    model.train(was_training)
    return float(statistics.median(times))


def time_train_steps(model: nn.Module, data: Dataset, protocol: Protocol) -> float:
    """Median seconds of one training step of ``model`` alone, over ``timing_steps`` steps
    after one warm-up step (the model's weights are changed; pass a throw-away copy)."""
    p = next(model.parameters())
    b = min(protocol.batch_size, int(data.train_y.shape[0]))
    x, y = data.train_x[:b], data.train_y[:b]
    opt, sched = make_optimizer(list(model.parameters()), protocol, protocol.timing_steps + 1)
    model.train()
    times = []
    for i in range(protocol.timing_steps + 1):
        _sync(p.device)
        start = time.perf_counter()
        loss = F.cross_entropy(model(x), y, label_smoothing=protocol.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        _sync(p.device)
        if i:
            times.append(time.perf_counter() - start)
    return float(statistics.median(times))
