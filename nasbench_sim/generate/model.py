"""The NAS-Bench-201 network, built from a :class:`~nasbench_sim.space.Cell`, in 1-D or 2-D.

Macro skeleton (as in NAS-Bench-201)::

    stem: conv3 (in -> C) + BN
    N cells (C)   -> residual reduction block (C -> 2C, stride 2)
    N cells (2C)  -> residual reduction block (2C -> 4C, stride 2)
    N cells (4C)  -> BN + ReLU -> global average pool -> linear head

A cell has nodes 0..3; node ``j`` is the sum over edges ``i -> j`` of ``op(node i)``, node 3 is
the output. Ops: ``none`` (zero), ``skip_connect`` (identity), ``nor_conv_kxk``
(ReLU -> conv k, no bias -> BN), ``avg_pool_3x3`` (stride 1, padding 1, padding excluded from
the average). The reduction block is ReLU-conv3(stride 2)-BN, ReLU-conv3-BN plus a shortcut
avg-pool(2) -> conv1. ``ndim=1`` swaps every 2-D layer for its 1-D twin (for MNIST-1D).

Initial weights come from a caller-given ``torch.Generator`` (:func:`init_weights`), never from
torch's global RNG: convolutions and the head use PyTorch's default scheme (Kaiming-uniform,
``a = sqrt(5)``), BatchNorm starts at weight 1, bias 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn

from nasbench_sim.space import OPS, Cell

__all__ = [
    "NB201Cell",
    "NB201Network",
    "ReLUConvBN",
    "ResBlock",
    "Zero",
    "build_model",
    "init_weights",
    "layer_types",
]


def layer_types(ndim: int) -> tuple[type[nn.Module], type[nn.Module], type[nn.Module]]:
    """``(Conv, BatchNorm, AvgPool)`` classes for 1-D or 2-D data."""
    if ndim == 1:
        return nn.Conv1d, nn.BatchNorm1d, nn.AvgPool1d
    if ndim == 2:
        return nn.Conv2d, nn.BatchNorm2d, nn.AvgPool2d
    raise ValueError(f"ndim must be 1 or 2, got {ndim}")


class ReLUConvBN(nn.Module):
    """ReLU -> convolution (no bias) -> BatchNorm."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, ndim: int, groups: int = 1
    ) -> None:
        super().__init__()
        conv, bn, _ = layer_types(ndim)
        self.relu = nn.ReLU(inplace=False)
        self.conv = conv(c_in, c_out, kernel, stride, kernel // 2, bias=False, groups=groups)
        self.bn = bn(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.relu(x)))


class Zero(nn.Module):
    """The ``none`` op: a zero tensor shaped like the input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int, ndim: int) -> nn.Module:
    """One NAS-Bench-201 edge op at stride 1."""
    _, _, pool = layer_types(ndim)
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, ndim)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, ndim)
    if name == "avg_pool_3x3":
        return pool(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown op {name!r}; known ops: {', '.join(OPS)}")


class NB201Cell(nn.Module):
    """One cell: six edge ops over nodes 0..3; returns node 3."""

    def __init__(self, cell: Cell, channels: int, ndim: int) -> None:
        super().__init__()
        self.cell = cell
        self.edges = nn.ModuleList(make_op(name, channels, ndim) for name in cell.op_names)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for target in (1, 2, 3):
            terms = []
            for source in range(target):
                terms.append(self.edges[k](nodes[source]))
                k += 1
            nodes.append(sum(terms[1:], terms[0]))
        return nodes[3]


class ResBlock(nn.Module):
    """NAS-Bench-201's residual reduction block (stride 2, channels ``c_in -> c_out``)."""

    def __init__(self, c_in: int, c_out: int, ndim: int, groups: int = 1) -> None:
        super().__init__()
        conv, _, pool = layer_types(ndim)
        self.c_in, self.c_out = c_in, c_out
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, ndim, groups)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, ndim, groups)
        self.pool = pool(2, stride=2, padding=0)
        self.shortcut = conv(c_in, c_out, 1, 1, 0, bias=False, groups=groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(self.pool(x)) + self.conv_b(self.conv_a(x))


class Skeleton(NamedTuple):
    """The NAS-Bench-201 macro skeleton's modules, in registration order."""

    stem_conv: nn.Module
    stem_bn: nn.Module
    blocks: nn.ModuleList
    last_bn: nn.Module
    classifier: nn.Linear


def skeleton(
    make_cell: Callable[[int], nn.Module],
    channels: int,
    cells_per_stage: int,
    input_shape: Sequence[int],
    n_classes: int,
) -> Skeleton:
    """The NAS-Bench-201 macro skeleton: a stem, three stages of ``cells_per_stage`` cells
    made by ``make_cell(width)`` at widths ``C, 2C, 4C`` with a residual reduction block before
    the second and third, a last BatchNorm and a linear head. The stand-alone network and the
    super-network both assign it to the same attribute names, so a super-network's path
    weights load into a stand-alone network."""
    ndim = len(input_shape) - 1
    conv, bn, _ = layer_types(ndim)
    c = channels
    stem_conv = conv(int(input_shape[0]), c, 3, 1, 1, bias=False)
    stem_bn = bn(c)
    blocks: list[nn.Module] = []
    for stage, width in enumerate((c, 2 * c, 4 * c)):
        if stage:
            blocks.append(ResBlock(width // 2, width, ndim))
        blocks.extend(make_cell(width) for _ in range(cells_per_stage))
    return Skeleton(
        stem_conv, stem_bn, nn.ModuleList(blocks), bn(4 * c), nn.Linear(4 * c, n_classes)
    )


class NB201Network(nn.Module):
    """The NAS-Bench-201 network of one cell. ``forward`` returns logits ``(batch, classes)``."""

    def __init__(
        self,
        cell: Cell,
        channels: int,
        cells_per_stage: int,
        input_shape: Sequence[int],
        n_classes: int,
    ) -> None:
        super().__init__()
        ndim = len(input_shape) - 1
        self.cell = cell
        self.ndim = ndim
        self.channels = channels
        self.in_channels = int(input_shape[0])
        self.stem_conv, self.stem_bn, self.blocks, self.last_bn, self.classifier = skeleton(
            lambda width: NB201Cell(cell, width, ndim), channels, cells_per_stage, input_shape,
            n_classes,
        )  # fmt: skip

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem_bn(self.stem_conv(x))
        for block in self.blocks:
            h = block(h)
        h = torch.relu(self.last_bn(h))
        return h.flatten(2).mean(dim=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def init_weights(model: nn.Module, generator: torch.Generator) -> None:
    """Initialise ``model`` in place from ``generator`` (module order, deterministic)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    fan_in = module.weight[0].numel()
                    bound = 1.0 / math.sqrt(fan_in)
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
            elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.reset_parameters()


def build_model(
    cell: Cell,
    *,
    channels: int,
    cells_per_stage: int,
    input_shape: Sequence[int],
    n_classes: int,
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> NB201Network:
    """The network of ``cell``, initialised from ``seed`` (a ``torch.Generator`` seed).

    Example:
        >>> net = build_model(Cell.from_index(1234), channels=4, cells_per_stage=1,
        ...                   input_shape=(1, 40), n_classes=10, seed=0)
        >>> tuple(net(torch.zeros(2, 1, 40)).shape)
        (2, 10)
    """
    net = NB201Network(cell, channels, cells_per_stage, input_shape, n_classes)
    if seed is not None:
        init_weights(net, torch.Generator().manual_seed(int(seed)))
    return net.to(device=torch.device(device), dtype=dtype)
