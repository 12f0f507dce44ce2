"""M different NAS-Bench-201 networks run as one: channels concatenated model by model.

Every activation has ``M * c`` channels; channels ``m*c .. (m+1)*c - 1`` belong to model
``m``. Layers that every model has (stem, reduction blocks, last BN) become one layer with
``groups=M`` (the stem, whose input all models share, is one plain convolution with
``M * C`` outputs). On each cell edge the models are grouped by the op they use there: the
channels of the models using op ``o`` are gathered (``index_select``), ``o`` runs once on them
(a grouped convolution for the convolution ops), and the result is scattered back into the
target node (``index_add``); models whose edge is ``none`` get nothing added. BatchNorm works
per channel, so per model. The head is a batched matrix product.

Because no weight or statistic is shared between models and the training loss is the *sum* of
the per-model losses, each model's gradient is exactly its own; with an elementwise optimiser
(SGD) the batched network follows the same trajectory as the M networks trained alone.
:func:`GroupedNetwork.from_models` copies the weights of M reference networks, so the batched
run starts from the reference initialisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasbench_sim.generate.model import NB201Cell, NB201Network, ReLUConvBN, ResBlock, layer_types
from nasbench_sim.space import OPS

__all__ = ["GroupedNetwork"]

_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}


def _copy_concat(dst: nn.Module, srcs: Sequence[nn.Module]) -> None:
    """Set each parameter/buffer of ``dst`` to the concatenation (dim 0) of the same-named
    tensors of ``srcs``; scalar buffers (BN's batch counter) are copied from the first."""
    like = next(srcs[0].parameters(), None)
    if like is not None:  # match device and dtype first: no rounding through float32
        dst.to(device=like.device, dtype=like.dtype)
    with torch.no_grad():
        tables = [{**dict(s.named_parameters()), **dict(s.named_buffers())} for s in srcs]
        for name, tensor in list(dst.named_parameters()) + list(dst.named_buffers()):
            parts = [table[name] for table in tables]
            if tensor.dim() == 0:
                tensor.copy_(parts[0])
            else:
                tensor.copy_(torch.cat(parts, dim=0))


class _GroupedCell(nn.Module):
    """The same cell position of M networks, ops grouped per edge by op type."""

    def __init__(self, refs: Sequence[NB201Cell], channels: int, ndim: int) -> None:
        super().__init__()
        _, _, pool = layer_types(ndim)
        m_total = len(refs)
        self.ops = nn.ModuleDict()
        self.plan: list[list[tuple[str, bool]]] = []  # per edge: (key, uses an index)
        for k in range(6):
            edge_plan: list[tuple[str, bool]] = []
            for op_id, name in enumerate(OPS):
                members = [m for m, r in enumerate(refs) if r.cell.ops[k] == op_id]
                if name == "none" or not members:
                    continue
                key = f"e{k}_{name}"
                g = len(members)
                if name in _KERNEL:
                    module: nn.Module = ReLUConvBN(
                        g * channels, g * channels, _KERNEL[name], 1, ndim, groups=g
                    )
                    _copy_concat(module, [refs[m].edges[k] for m in members])
                elif name == "avg_pool_3x3":
                    module = pool(3, stride=1, padding=1, count_include_pad=False)
                else:
                    module = nn.Identity()
                self.ops[key] = module
                partial = g != m_total
                if partial:
                    idx = torch.cat(
                        [torch.arange(m * channels, (m + 1) * channels) for m in members]
                    )
                    self.register_buffer(f"idx_{key}", idx, persistent=False)
                edge_plan.append((key, partial))
            self.plan.append(edge_plan)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for target in (1, 2, 3):
            acc: torch.Tensor | None = None
            for source in range(target):
                h = nodes[source]
                for key, partial in self.plan[k]:
                    op = self.ops[key]
                    if partial:
                        idx = self.get_buffer(f"idx_{key}")
                        y = op(h.index_select(1, idx))
                        acc = (torch.zeros_like(h) if acc is None else acc).index_add(1, idx, y)
                    else:
                        y = op(h)
                        acc = y if acc is None else acc + y
                k += 1
            nodes.append(torch.zeros_like(x) if acc is None else acc)
        return nodes[3]


class GroupedNetwork(nn.Module):
    """M NAS-Bench-201 networks (same C, N, data; any cells) as one module.

    ``forward(x)`` returns logits ``(batch, M, classes)``: model ``m``'s logits equal those of
    the ``m``-th network passed to :meth:`from_models`.
    """

    def __init__(self, refs: Sequence[NB201Network]) -> None:
        super().__init__()
        if not refs:
            raise ValueError("GroupedNetwork needs at least one network")
        first = refs[0]
        m = len(refs)
        ndim = first.ndim
        conv, bn, _ = layer_types(ndim)
        c = first.channels
        self.n_models = m
        self.cells = tuple(r.cell for r in refs)
        self.stem_conv = conv(first.in_channels, m * c, 3, 1, 1, bias=False)
        self.stem_bn = bn(m * c)
        _copy_concat(self.stem_conv, [r.stem_conv for r in refs])
        _copy_concat(self.stem_bn, [r.stem_bn for r in refs])
        blocks: list[nn.Module] = []
        width = c
        for i, block in enumerate(first.blocks):
            if isinstance(block, ResBlock):
                width = block.c_out
                grouped: nn.Module = ResBlock(m * block.c_in, m * block.c_out, ndim, groups=m)
                _copy_concat(grouped, [r.blocks[i] for r in refs])
            else:
                members = [r.blocks[i] for r in refs]
                assert all(isinstance(b, NB201Cell) for b in members)
                grouped = _GroupedCell(members, width, ndim)  # type: ignore[arg-type]
            blocks.append(grouped)
        self.blocks = nn.ModuleList(blocks)
        self.last_bn = bn(m * 4 * c)
        _copy_concat(self.last_bn, [r.last_bn for r in refs])
        with torch.no_grad():
            self.head_weight = nn.Parameter(torch.stack([r.classifier.weight for r in refs]))
            self.head_bias = nn.Parameter(torch.stack([r.classifier.bias for r in refs]))

    @classmethod
    def from_models(cls, refs: Sequence[NB201Network]) -> GroupedNetwork:
        """Batch ``refs`` (copies their weights, buffers, dtype and device)."""
        p = next(refs[0].parameters())
        return cls(refs).to(device=p.device, dtype=p.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem_bn(self.stem_conv(x))
        for block in self.blocks:
            h = block(h)
        h = torch.relu(self.last_bn(h))
        feats = h.flatten(2).mean(dim=2).view(h.shape[0], self.n_models, -1)
        return torch.einsum("bmf,mkf->bmk", feats, self.head_weight) + self.head_bias
