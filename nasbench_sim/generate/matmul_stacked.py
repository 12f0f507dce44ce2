"""M 1-D NAS-Bench-201 networks run at once as matrix products with a leading model dimension.

:class:`~nasbench_sim.generate.matmul_model.MatmulNetwork` runs one network per process as
large matrix products; at the small mini-batches a protocol may use, its time goes mostly to
the fixed cost of each eager PyTorch call (~700 per step), not to arithmetic.
:class:`StackedMatmulNetwork` makes every call serve M models of one training seed:

* activations are ``(M, C, batch, length)``: model ``m`` owns slab ``m``;
* every convolution is one ``bmm`` of the M models' tap-major weights with their inputs
  (the stem, whose input all models share, one ``mm`` over the stacked weights), the taps
  added back with shifted slices, as in the one-model network;
* BatchNorm normalises ``M * C`` contiguous rows, so per channel and per model; pooling,
  additions and the head (one ``bmm``) are batched the same way;
* on each cell edge the models are grouped by the op they use there (``none`` left out).
  When one group holds every model, its op runs on the whole tensor. Otherwise the models
  that use some op are taken in op order from the source node, with a slice of the model
  dimension when they are a contiguous run and one ``index_select`` when not, split into
  the groups, and the groups' outputs, concatenated, are added into the target node with
  one ``index_add``. Cells that share their leading edges (consecutive NB201 indices: edge
  0 is the most significant digit) share most of their calls.

The layers are those of :mod:`~nasbench_sim.generate.matmul_model` with a model dimension.
No weight or statistic is shared between models and the training loss is the sum of the
per-model losses, so each model's gradient is its own and, with the elementwise SGD of the
training loop, each model follows its reference trajectory up to the order of floating-point
additions. Every reduction runs over one model's own rows (the head's bias gradient is
reduced model by model) and ``bmm`` runs one ``gemm`` per model. The gradients that meet at
a cell node are added in edge order with ``ordered_grads`` (the default of builds,
:mod:`~nasbench_sim.generate.grad_sum`): then a model's trajectory is the one-model
network's (with ``ordered_grads`` too) bit for bit, whoever its stack-mates are. Without it,
autograd's order follows the stack's grouping, and a cell's numbers reproduce only within its
chunk (docs/generator.md, "A cell's stack-mates"). :meth:`StackedMatmulNetwork.export`
writes the trained weights and BatchNorm statistics back into reference networks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import torch
from torch import nn

from nasbench_sim.generate.errors import GenerateError
from nasbench_sim.generate.fan_out import OUT_EDGES, node_inputs
from nasbench_sim.generate.matmul_model import (
    batch_norm,
    conv,
    pool2,
    pool3,
)
from nasbench_sim.generate.model import NB201Cell, NB201Network, ReLUConvBN, ResBlock
from nasbench_sim.space import OPS, Cell

__all__ = ["EdgeGroup", "StackedMatmulNetwork", "edge_groups"]

_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
_T = TypeVar("_T")


class EdgeGroup:
    """The models that use op ``op`` on one edge.

    Attributes:
        op: the op's name (never ``none``).
        members: model positions, ascending.
        whole: the group holds every model.
    """

    __slots__ = ("members", "op", "whole")

    def __init__(self, op: str, members: Sequence[int], n_models: int) -> None:
        self.op = op
        self.members = tuple(members)
        self.whole = len(self.members) == n_models

    def __repr__(self) -> str:
        return f"EdgeGroup({self.op!r}, {self.members})"


def edge_groups(cells: Sequence[Cell]) -> tuple[tuple[EdgeGroup, ...], ...]:
    """Per edge (NB201 order), the groups of models by the op they use there (``none``
    left out), in :data:`~nasbench_sim.space.OPS` order.

    Example:
        >>> cells = [Cell.from_index(i) for i in (11161, 11162, 11163)]  # differ in edge 5
        >>> [[g.op for g in groups] for groups in edge_groups(cells)][3:]
        [['skip_connect'], ['nor_conv_1x1'], ['skip_connect', 'nor_conv_1x1', 'nor_conv_3x3']]
        >>> edge_groups(cells)[5][1]
        EdgeGroup('nor_conv_1x1', (1,))
    """
    out = []
    for k in range(6):
        groups = []
        for op_id, name in enumerate(OPS):
            members = [m for m, c in enumerate(cells) if c.ops[k] == op_id]
            if name != "none" and members:
                groups.append(EdgeGroup(name, members, len(cells)))
        out.append(tuple(groups))
    return tuple(out)


class _AddBias(torch.autograd.Function):
    """``z (M, B, K) + bias (M, K)`` per model, whose bias gradient is reduced model by model
    (a reduction over the batch dimension of the whole ``(M, B, K)`` tensor sums in an order
    that depends on M; reduced per model, it does not)."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return z + bias[:, None, :]

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return g, torch.stack([gm.sum(0) for gm in g])


def _stack(tensors: Sequence[torch.Tensor | None], cat: bool) -> torch.Tensor:
    parts = [t for t in tensors if t is not None]
    assert len(parts) == len(tensors), "missing BatchNorm running statistics"
    with torch.no_grad():
        t = torch.cat(parts) if cat else torch.stack(parts)
    return t.detach().clone()


def _typed(items: Iterable[object], cls: type[_T]) -> list[_T]:
    """``items`` as a list of ``cls`` (the same layer of M networks)."""
    out = []
    for item in items:
        if not isinstance(item, cls):
            raise TypeError(f"expected {cls.__name__}, got {type(item).__name__}")
        out.append(item)
    return out


class _BN(nn.Module):
    """The BatchNorms of M models as one layer of ``M * C`` rows."""

    def __init__(self, bns: Sequence[nn.BatchNorm1d]) -> None:
        super().__init__()
        self.weight = nn.Parameter(_stack([b.weight for b in bns], cat=True))
        self.bias = nn.Parameter(_stack([b.bias for b in bns], cat=True))
        self.register_buffer("running_mean", _stack([b.running_mean for b in bns], cat=True))
        self.register_buffer("running_var", _stack([b.running_var for b in bns], cat=True))
        self.eps = float(bns[0].eps)
        momentum = bns[0].momentum
        self.momentum = float(momentum) if momentum is not None else 0.1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rm, rv = self.get_buffer("running_mean"), self.get_buffer("running_var")
        return batch_norm(x, self.weight, self.bias, rm, rv, self.eps, self.momentum, self.training)

    def export(self, bns: Sequence[nn.BatchNorm1d]) -> None:
        rm, rv = self.get_buffer("running_mean"), self.get_buffer("running_var")
        with torch.no_grad():
            for m, bn in enumerate(bns):
                for src, dst in ((self.weight, bn.weight), (self.bias, bn.bias),
                                 (rm, bn.running_mean), (rv, bn.running_var)):  # fmt: skip
                    assert dst is not None
                    dst.copy_(src.chunk(len(bns))[m])
                if bn.num_batches_tracked is not None:
                    bn.num_batches_tracked.zero_()


class _Conv(nn.Module):
    """The convolutions (no bias) of M models: weight ``(M, C_out, C_in, k)``."""

    def __init__(self, convs: Sequence[nn.Conv1d]) -> None:
        super().__init__()
        self.weight = nn.Parameter(_stack([c.weight for c in convs], cat=False))
        self.stride = int(convs[0].stride[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv(x, self.weight, self.stride)

    def export(self, convs: Sequence[nn.Conv1d]) -> None:
        with torch.no_grad():
            for w, c in zip(self.weight, convs, strict=True):
                c.weight.copy_(w)


class _ReLUConvBN(nn.Module):
    def __init__(self, ops: Sequence[ReLUConvBN]) -> None:
        super().__init__()
        self.conv = _Conv(_typed((o.conv for o in ops), nn.Conv1d))
        self.bn = _BN(_typed((o.bn for o in ops), nn.BatchNorm1d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(torch.relu(x)))

    def export(self, ops: Sequence[ReLUConvBN]) -> None:
        self.conv.export(_typed((o.conv for o in ops), nn.Conv1d))
        self.bn.export(_typed((o.bn for o in ops), nn.BatchNorm1d))


class _ResBlock(nn.Module):
    def __init__(self, blocks: Sequence[ResBlock]) -> None:
        super().__init__()
        self.conv_a = _ReLUConvBN([b.conv_a for b in blocks])
        self.conv_b = _ReLUConvBN([b.conv_b for b in blocks])
        self.shortcut = _Conv(_typed((b.shortcut for b in blocks), nn.Conv1d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(pool2(x)) + self.conv_b(self.conv_a(x))

    def export(self, blocks: Sequence[ResBlock]) -> None:
        self.conv_a.export([b.conv_a for b in blocks])
        self.conv_b.export([b.conv_b for b in blocks])
        self.shortcut.export(_typed((b.shortcut for b in blocks), nn.Conv1d))


class _EdgeRoute:
    """How one edge's models reach their ops and the target node: the models that use an op
    other than ``none``, ordered by op (a group is a contiguous block of that order), are
    taken from the source node as a whole (all models, in order), a slice (a contiguous
    run) or an ``index_select``; split into the groups; and the ops' outputs, concatenated,
    are added to the target node as a whole or with ``index_add``."""

    def __init__(self, groups: Sequence[EdgeGroup], n_models: int) -> None:
        self.ops = tuple(g.op for g in groups)
        self.sizes = [len(g.members) for g in groups]
        order = [m for g in groups for m in g.members]
        self.whole = order == list(range(n_models))
        self.run: tuple[int, int] | None = None
        if order and not self.whole and order == list(range(order[0], order[0] + len(order))):
            self.run = (order[0], order[0] + len(order))
        self.index = torch.tensor(order, dtype=torch.long)


class _Cell(nn.Module):
    """One cell position of M networks, each edge's models grouped by op."""

    def __init__(
        self,
        cells: Sequence[NB201Cell],
        plan: tuple[tuple[EdgeGroup, ...], ...],
        pool_cache: dict[tuple[int, torch.dtype], torch.Tensor],
        ordered_grads: bool,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.ordered_grads = ordered_grads
        self.routes = [_EdgeRoute(groups, len(cells)) for groups in plan]
        self.pool_cache = pool_cache
        self.convs = nn.ModuleDict()
        for k, groups in enumerate(plan):
            for g in groups:
                if g.op in _KERNEL:
                    members = _typed((cells[m].edges[k] for m in g.members), ReLUConvBN)
                    self.convs[f"e{k}_{g.op}"] = _ReLUConvBN(members)
            route = self.routes[k]
            if self.routes[k].ops and not route.whole:
                self.register_buffer(f"index_e{k}", route.index, persistent=False)

    def _op(self, k: int, op: str, h: torch.Tensor) -> torch.Tensor:
        if op in _KERNEL:
            return self.convs[f"e{k}_{op}"](h)
        if op == "avg_pool_3x3":
            return pool3(h, self.pool_cache)
        return h  # skip_connect

    def _edge(
        self, k: int, h: torch.Tensor, acc: torch.Tensor | None, owned: bool
    ) -> tuple[torch.Tensor | None, bool]:
        """Add edge ``k``'s ops of node ``h`` into the target node's sum ``acc``; ``owned``:
        ``acc`` is a sum made here, which no other op reads, so it may grow in place."""
        route = self.routes[k]
        if not route.ops:
            return acc, owned
        index = None if route.whole else self.get_buffer(f"index_e{k}")
        if index is None:
            src = h
        elif route.run is not None:
            src = h[route.run[0] : route.run[1]]
        else:
            src = h.index_select(0, index)
        pieces = src.split(route.sizes) if len(route.ops) > 1 else (src,)
        ys = [self._op(k, op, piece) for op, piece in zip(route.ops, pieces, strict=True)]
        y = torch.cat(ys) if len(ys) > 1 else ys[0]
        if index is None:
            return (y, False) if acc is None else (acc + y, True)
        if acc is None:
            acc, owned = h.new_zeros(h.shape), True
        return (acc.index_add_(0, index, y) if owned else acc.index_add(0, index, y)), True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        inputs: dict[int, torch.Tensor] = {}
        k = 0
        for target in (1, 2, 3):
            acc: torch.Tensor | None = None
            owned = False
            for source in range(target):
                if k == OUT_EDGES[source][0]:  # the node is complete: split it to its edges
                    live = lambda e: bool(self.routes[e].ops)  # noqa: E731
                    inputs.update(node_inputs(nodes[source], source, live, self.ordered_grads))
                if k in inputs:
                    acc, owned = self._edge(k, inputs[k], acc, owned)
                k += 1
            nodes.append(x.new_zeros(x.shape) if acc is None else acc)
        return nodes[3]

    def export(self, cells: Sequence[NB201Cell]) -> None:
        for k, groups in enumerate(self.plan):
            for g in groups:
                if g.op in _KERNEL:
                    op = self.convs[f"e{k}_{g.op}"]
                    assert isinstance(op, _ReLUConvBN)
                    op.export(_typed((cells[m].edges[k] for m in g.members), ReLUConvBN))


class StackedMatmulNetwork(nn.Module):
    """M 1-D NAS-Bench-201 networks (same C, N and data; any cells) trained as one module.

    Built from M reference networks, whose weights and BatchNorm statistics it copies (so
    each model starts from its reference initialisation); it does not train them in place
    (:meth:`export` copies the trained state back). ``ordered_grads`` (default; ``False``:
    autograd's order, as tables built before it): add the gradients meeting at a cell node
    in edge order
    (:func:`~nasbench_sim.generate.fan_out.node_inputs`). ``forward(x)`` takes
    ``(batch, channels, length)`` and returns logits ``(batch, M, classes)``: model ``m``'s
    logits are those of the ``m``-th network.

    Example:
        >>> from nasbench_sim.generate.model import build_model
        >>> nets = [build_model(Cell.from_index(i), channels=4, cells_per_stage=1,
        ...                     input_shape=(1, 40), n_classes=10, seed=i) for i in (5, 6)]
        >>> x = torch.randn(8, 1, 40)
        >>> out = StackedMatmulNetwork(nets).eval()(x)
        >>> tuple(out.shape), bool(torch.allclose(out[:, 1], nets[1].eval()(x), atol=1e-5))
        ((8, 2, 10), True)
    """

    def __init__(self, refs: Sequence[NB201Network], ordered_grads: bool = True) -> None:
        super().__init__()
        if not refs:
            raise ValueError("StackedMatmulNetwork needs at least one network")
        if any(r.ndim != 1 for r in refs):
            raise GenerateError(
                "the matmul trainers run 1-D networks (dataset mnist1d) only; "
                "use the reference or batched trainer for 2-D data"
            )
        self.n_models = len(refs)
        self.cells = tuple(r.cell for r in refs)
        self.plan = edge_groups(self.cells)
        self._pool_cache: dict[tuple[int, torch.dtype], torch.Tensor] = {}
        self.stem_conv = _Conv(_typed((r.stem_conv for r in refs), nn.Conv1d))
        self.stem_bn = _BN(_typed((r.stem_bn for r in refs), nn.BatchNorm1d))
        blocks: list[nn.Module] = []
        for i, block in enumerate(refs[0].blocks):
            members = [r.blocks[i] for r in refs]
            if isinstance(block, ResBlock):
                blocks.append(_ResBlock(_typed(members, ResBlock)))
            else:
                cells = _typed(members, NB201Cell)
                blocks.append(_Cell(cells, self.plan, self._pool_cache, ordered_grads))
        self.blocks = nn.ModuleList(blocks)
        self.last_bn = _BN(_typed((r.last_bn for r in refs), nn.BatchNorm1d))
        self.head_weight = nn.Parameter(_stack([r.classifier.weight for r in refs], cat=False))
        self.head_bias = nn.Parameter(_stack([r.classifier.bias for r in refs], cat=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(0, 1).contiguous()  # (C_in, B, L), shared by every model
        h = self.stem_bn(self.stem_conv(h))  # (M, C, B, L)
        for block in self.blocks:
            h = block(h)
        h = torch.relu(self.last_bn(h))
        feats = h.mean(-1)  # (M, 4C, B)
        z = torch.bmm(feats.transpose(1, 2), self.head_weight.transpose(1, 2))
        return _AddBias.apply(z, self.head_bias).transpose(0, 1)  # (B, M, classes)

    def export(self, refs: Sequence[NB201Network]) -> None:
        """Copy each model's weights and BatchNorm running statistics into ``refs`` (networks
        of the same cells and shapes, e.g. those it was built from); BatchNorm batch counters
        are reset (this network does not count batches)."""
        if len(refs) != self.n_models or tuple(r.cell for r in refs) != self.cells:
            raise ValueError("export needs networks of the same cells, in the same order")
        self.stem_conv.export(_typed((r.stem_conv for r in refs), nn.Conv1d))
        self.stem_bn.export(_typed((r.stem_bn for r in refs), nn.BatchNorm1d))
        for i, block in enumerate(self.blocks):
            members = [r.blocks[i] for r in refs]
            if isinstance(block, _ResBlock):
                block.export(_typed(members, ResBlock))
            else:
                assert isinstance(block, _Cell)
                block.export(_typed(members, NB201Cell))
        self.last_bn.export(_typed((r.last_bn for r in refs), nn.BatchNorm1d))
        with torch.no_grad():
            for m, r in enumerate(refs):
                r.classifier.weight.copy_(self.head_weight[m])
                r.classifier.bias.copy_(self.head_bias[m])
