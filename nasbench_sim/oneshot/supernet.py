"""The NAS-Bench-201 super-network: the table's skeleton with all five ops on every edge.

Every cell position of :class:`~nasbench_sim.generate.model.NB201Network` becomes a
:class:`SuperCell` whose edge ``k`` holds one module per op (built by
:func:`~nasbench_sim.generate.model.make_op`); stem, reduction blocks, last batch-norm and head
are the generator's own modules. As in NAS-Bench-201's weight-sharing baselines, all cells of
the network share one architecture choice.

An edge is driven by a ``(6, 5)`` weight matrix ``w``: edge ``k`` outputs
``sum_o w[k, o] * op_o(x)`` over the ops with non-zero weight only (so a one-hot row runs a
single op, which is how SPOS and GDAS train). :meth:`SuperNetwork.standalone` copies the
weights of one path into a stand-alone ``NB201Network`` that computes the same function.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from torch import nn

from nasbench_sim.generate.model import (
    NB201Network,
    init_weights,
    make_op,
    skeleton,
)
from nasbench_sim.space import OPS, Cell
from nasbench_sim.space.nb201 import N_EDGES, N_OPS

__all__ = ["MixedEdge", "SuperCell", "SuperNetwork", "path_weights"]


def path_weights(cell: Cell, like: torch.Tensor | None = None) -> torch.Tensor:
    """One-hot ``(6, 5)`` weights selecting ``cell``'s op on every edge."""
    w = torch.zeros(N_EDGES, N_OPS)
    w[torch.arange(N_EDGES), torch.tensor(cell.ops)] = 1.0
    if like is not None:
        w = w.to(device=like.device, dtype=like.dtype)
    return w


def _active_ops(weights: torch.Tensor, skip_unit: bool = True) -> list[list[int] | int]:
    """Per edge, the op ids with non-zero weight; a bare op id where that op is the only one,
    its weight exactly 1 and the weights need no gradient (a path of SPOS, or one scored):
    the edge's output is then the op's own, as a product by 1.0 is exact, and the product is
    skipped (`benchmarks/oneshot_scoring.py`: 2-8 % of a scoring pass on random cells, where
    the convolutions dominate; more on cells of mostly ``none`` and skip edges).
    ``skip_unit=False``: lists only, every edge multiplies by its weight (the code before)."""
    values = weights.detach().cpu().numpy()
    out: list[list[int] | int] = []
    for row in values:
        ops = [int(o) for o in row.nonzero()[0]]
        exact = len(ops) == 1 and row[ops[0]] == 1.0 and not weights.requires_grad
        out.append(ops[0] if exact and skip_unit else ops)
    return out


class MixedEdge(nn.Module):
    """One edge with every op; ``forward(x, w)`` sums the ops with non-zero weight."""

    def __init__(self, channels: int, ndim: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(make_op(name, channels, ndim) for name in OPS)

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, active: list[int] | int | None = None
    ) -> torch.Tensor:
        """``sum_o w[o] * op_o(x)`` over ``active`` ops (default: those with ``w[o] != 0``);
        ``active`` a bare op id: that op's output, its weight being 1 (see
        :func:`_active_ops`)."""
        if isinstance(active, int):
            return self.ops[active](x)
        if active is None:
            active = torch.nonzero(w.detach() != 0).flatten().tolist()
        if not active:
            return x.mul(0.0)
        out = self.ops[active[0]](x) * w[active[0]]
        for o in active[1:]:
            out = out + self.ops[o](x) * w[o]
        return out


class SuperCell(nn.Module):
    """The six mixed edges of one cell position; returns node 3."""

    def __init__(self, channels: int, ndim: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedEdge(channels, ndim) for _ in range(N_EDGES))

    def forward(
        self, x: torch.Tensor, weights: torch.Tensor, active: list[list[int] | int] | None = None
    ) -> torch.Tensor:
        if active is None:
            active = _active_ops(weights)
        nodes = [x]
        k = 0
        for target in (1, 2, 3):
            total = self.edges[k](nodes[0], weights[k], active[k])
            k += 1
            for source in range(1, target):
                total = total + self.edges[k](nodes[source], weights[k], active[k])
                k += 1
            nodes.append(total)
        return nodes[3]


class SuperNetwork(nn.Module):
    """The weight-sharing network over the whole NB201 space.

    Args:
        channels: ``C`` of the first stage.
        cells_per_stage: ``N`` cells per stage.
        input_shape: ``(channels, length)`` or ``(channels, height, width)``.
        n_classes: classes of the head.

    Example:
        >>> net = SuperNetwork(4, 1, (1, 8, 8), 10)
        >>> w = path_weights(Cell.from_index(1234))
        >>> tuple(net(torch.zeros(2, 1, 8, 8), w).shape)
        (2, 10)
    """

    def __init__(
        self, channels: int, cells_per_stage: int, input_shape: Sequence[int], n_classes: int
    ) -> None:
        super().__init__()
        ndim = len(input_shape) - 1
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.input_shape = tuple(int(s) for s in input_shape)
        self.n_classes = n_classes
        self.stem_conv, self.stem_bn, self.blocks, self.last_bn, self.classifier = skeleton(
            lambda width: SuperCell(width, ndim), channels, cells_per_stage, input_shape,
            n_classes,
        )  # fmt: skip

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, classes)`` of the network mixed by ``weights`` ``(6, 5)``."""
        active = _active_ops(weights)  # one host sync per forward, not one per edge
        h = self.stem_bn(self.stem_conv(x))
        for block in self.blocks:
            h = block(h, weights, active) if isinstance(block, SuperCell) else block(h)
        h = torch.relu(self.last_bn(h))
        return self.classifier(h.flatten(2).mean(dim=2))

    def reset_batchnorm(self) -> None:
        """Forget every running statistic and average the next batches cumulatively."""
        for m in self.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
                m.momentum = None

    def standalone(self, cell: Cell) -> NB201Network:
        """A stand-alone ``NB201Network`` of ``cell`` holding this network's path weights."""
        net = NB201Network(
            cell, self.channels, self.cells_per_stage, self.input_shape, self.n_classes
        )
        mine = self.state_dict()
        pattern = re.compile(r"^blocks\.(\d+)\.edges\.(\d+)\.(.*)$")
        state = {}
        for key in net.state_dict():
            m = pattern.match(key)
            src = key
            if m is not None:
                block, edge, rest = m.groups()
                src = f"blocks.{block}.edges.{edge}.ops.{cell.ops[int(edge)]}.{rest}"
            state[key] = mine[src].clone()
        net.load_state_dict(state)
        first = next(self.parameters())
        return net.to(device=first.device, dtype=first.dtype)


def build_supernet(
    *,
    channels: int,
    cells_per_stage: int,
    input_shape: Sequence[int],
    n_classes: int,
    seed: int,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> SuperNetwork:
    """A :class:`SuperNetwork` initialised like the generator's models from ``seed``."""
    net = SuperNetwork(channels, cells_per_stage, input_shape, n_classes)
    init_weights(net, torch.Generator().manual_seed(int(seed)))
    return net.to(device=torch.device(device), dtype=dtype)
