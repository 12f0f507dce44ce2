"""The torch network behind :class:`~predictors.gcn.GCNPredictor` (imports torch: only
reached from the GCN's fit)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["build_net"]


def _param(shape: tuple[int, ...], fan_in: int, gen: torch.Generator) -> nn.Parameter:
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter((torch.rand(shape, generator=gen) * 2.0 - 1.0) * bound)


class _Linear(nn.Module):
    def __init__(self, d_in: int, d_out: int, gen: torch.Generator) -> None:
        super().__init__()
        self.weight = _param((d_in, d_out), d_in, gen)
        self.bias = _param((d_out,), d_in, gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight + self.bias


def _row_normalise(a: torch.Tensor) -> torch.Tensor:
    a = a + torch.eye(a.shape[-1], dtype=a.dtype)
    return a / a.sum(dim=-1, keepdim=True)


class _GCN(nn.Module):
    def __init__(self, d_in: int, hidden: int, n_layers: int, gen: torch.Generator) -> None:
        super().__init__()
        dims = [d_in] + [hidden] * n_layers
        self.fwd = nn.ModuleList(_Linear(dims[i], dims[i + 1], gen) for i in range(n_layers))
        self.bwd = nn.ModuleList(_Linear(dims[i], dims[i + 1], gen) for i in range(n_layers))
        self.head1 = _Linear(hidden, hidden, gen)
        self.head2 = _Linear(hidden, 1, gen)

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        # adj[b, i, j] = 1 when node i feeds j: messages flow i -> j along adj^T.
        a_in = _row_normalise(adj.transpose(1, 2))
        a_out = _row_normalise(adj)
        for f, b in zip(self.fwd, self.bwd, strict=True):
            h = torch.relu(0.5 * (a_in @ f(h) + a_out @ b(h)))
        g = h.mean(dim=1)
        return self.head2(torch.relu(self.head1(g))).squeeze(-1)


def build_net(d_in: int, hidden: int, n_layers: int, gen: torch.Generator) -> nn.Module:
    """A GCN regressor with parameters drawn from ``gen``."""
    if n_layers < 1 or hidden < 1:
        raise ValueError(f"n_layers and hidden must be >= 1, got {n_layers}, {hidden}")
    return _GCN(d_in, hidden, n_layers, gen)
