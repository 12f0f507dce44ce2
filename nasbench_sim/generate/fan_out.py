"""How the edges leaving a cell node read it, in either order of gradient additions
(:mod:`~nasbench_sim.generate.grad_sum`): shared by the one-model and the stacked matmul
networks, so that both add a node's gradients the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from nasbench_sim.space import EDGES

__all__ = ["OUT_EDGES", "node_inputs"]

OUT_EDGES: tuple[tuple[int, ...], ...] = tuple(
    tuple(k for k, (src, _) in enumerate(EDGES) if src == node) for node in range(3)
)
"""The edges (indices into :data:`~nasbench_sim.space.EDGES`) leaving cell nodes 0, 1, 2."""


class _FanOut(torch.autograd.Function):
    """``n`` views of ``x`` whose gradients are added in view order (a view no op reads gets
    a zero gradient: autograd materialises it)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, n: int) -> tuple[torch.Tensor, ...]:
        return tuple(x.view_as(x) for _ in range(n))  # views: no copy (none is written to)

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple[torch.Tensor, None]:
        total = grads[0]
        for g in grads[1:]:
            total = total + g
        return total, None


def node_inputs(
    node: torch.Tensor, source: int, live: Callable[[int], bool], ordered: bool
) -> dict[int, torch.Tensor]:
    """What each live edge leaving cell node ``source`` reads (``live(k)``: edge ``k`` has an
    op other than ``none``).

    ``ordered``: each edge reads its own view of ``node``, and the node's gradient is the sum
    of the edges' gradients in edge order, whatever order autograd runs them in. Otherwise
    every edge reads ``node`` itself and autograd adds their gradients in the order it runs
    them, which follows the graph: in a stack of models grouped by op, the grouping
    (docs/generator.md, "A cell's stack-mates").

    Example:
        >>> x = torch.ones(2, requires_grad=True)
        >>> ins = node_inputs(x, 0, lambda k: k != 1, ordered=True)
        >>> sorted(ins), sum(3 * v.sum() for v in ins.values()).backward(), x.grad.tolist()
        ([0, 3], None, [6.0, 6.0])
    """
    edges = [k for k in OUT_EDGES[source] if live(k)]
    if ordered and len(edges) > 1:
        return dict(zip(edges, _FanOut.apply(node, len(edges)), strict=True))
    return dict.fromkeys(edges, node)
