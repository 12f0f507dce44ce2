"""A 1-D NAS-Bench-201 network run as matrix products: the fast path on CPUs.

On a CPU, PyTorch's kernels for the small tensors of a narrow 1-D network are far from what the
cores can do: a BatchNorm over ``256 x 8 x 40`` values takes ~180 µs and an average pool
~550 µs, where the memory traffic alone would take ~10 µs (see
``benchmarks/generator_speed.py --profile``). :class:`MatmulNetwork` runs the *same* network
(it wraps an :class:`~nasbench_sim.generate.model.NB201Network` and trains its parameters and
BatchNorm buffers in place) in a layout where every layer is a large matrix product or a
contiguous elementwise pass:

* activations are ``(channels, batch, length)``, so a channel is one contiguous row;
* a ``k``-tap convolution is **one** matrix product ``(k * C_out, C_in) @ (C_in, batch *
  length)`` whose ``k`` output blocks are added back with shifted slices (the stride picks
  every ``s``-th position); its backward pass is two matrix products;
* BatchNorm reduces contiguous rows and has a hand-written backward pass;
* the ``count_include_pad=False`` average pool is three shifted adds times a per-position
  reciprocal count.

The arithmetic is that of the reference network up to the order of floating-point additions,
so per-epoch curves agree with :func:`~nasbench_sim.generate.train_reference.train_reference`
to rounding (float64: ~1e-12; see ``tests/generate/test_gen_equivalence.py``). Only 1-D data
(MNIST-1D) is supported; 2-D datasets use the reference or the batched trainer.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nasbench_sim.generate.errors import GenerateError
from nasbench_sim.generate.model import NB201Cell, NB201Network, ReLUConvBN, ResBlock

__all__ = ["MatmulNetwork"]


def _taps(length: int, kernel: int, stride: int) -> tuple[int, list[tuple[slice, slice]]]:
    """Output length and, per tap ``t``, the (output, input) position slices it connects
    (zero padding ``kernel // 2``, as the reference convolutions)."""
    pad = kernel // 2
    out_len = (length + 2 * pad - kernel) // stride + 1
    pairs = []
    for t in range(kernel):
        off = t - pad  # output l reads input stride * l + off
        lo = max(0, -(off // stride))  # first l with stride * l + off >= 0
        hi = min(out_len - 1, (length - 1 - off) // stride)
        if hi < lo:
            pairs.append((slice(0, 0), slice(0, 0)))
            continue
        start = stride * lo + off
        pairs.append((slice(lo, hi + 1), slice(start, stride * hi + off + 1, stride)))
    return out_len, pairs


def _scatter_tap(
    dst: torch.Tensor, gy: torch.Tensor, o: slice, i: slice, length: int, stride: int
) -> None:
    """``dst (C, B, L)`` = the input-position gradient of one tap: ``gy[o]`` at positions
    ``i``, zero elsewhere (only the uncovered positions are zeroed)."""
    if stride == 1:
        dst[:, :, i].copy_(gy[:, :, o])
        if i.start > 0:
            dst[:, :, : i.start].zero_()
        if i.stop < length:
            dst[:, :, i.stop :].zero_()
        return
    dst.zero_()
    dst[:, :, i].copy_(gy[:, :, o])


class _Conv(torch.autograd.Function):
    """Convolution of ``x (C_in, B, L)`` with ``w (C_out, C_in, k)``, no bias."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, w: torch.Tensor, stride: int) -> torch.Tensor:
        c_in, b, length = x.shape
        c_out, _, k = w.shape
        _, pairs = _taps(length, k, stride)
        w_all = w.permute(2, 0, 1).reshape(k * c_out, c_in)
        u = torch.mm(w_all, x.reshape(c_in, b * length)).view(k, c_out, b, length)
        centre = k // 2
        if stride == 1:  # the centre tap covers every output: add the others to it in place
            y = u[centre]
            for t, (o, i) in enumerate(pairs):
                if t != centre:
                    y[:, :, o].add_(u[t, :, :, i])
        else:
            y = u[centre, :, :, pairs[centre][1]].clone()
            for t, (o, i) in enumerate(pairs):
                if t != centre:
                    y[:, :, o].add_(u[t, :, :, i])
        ctx.save_for_backward(x, w)
        ctx.stride = stride
        return y

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        x, w = ctx.saved_tensors
        c_in, b, length = x.shape
        c_out, _, k = w.shape
        _, pairs = _taps(length, k, ctx.stride)
        if k == 1 and ctx.stride == 1:
            gu = gy.reshape(c_out, b * length)
        else:
            g = gy.new_empty((k, c_out, b, length))
            for t, (o, i) in enumerate(pairs):
                _scatter_tap(g[t], gy, o, i, length, ctx.stride)
            gu = g.view(k * c_out, b * length)
        x2 = x.reshape(c_in, b * length)
        if c_in < 16:  # MKL is faster with the short dimension outside for small C_in
            gw = torch.mm(x2, gu.t()).t().reshape(k, c_out, c_in).permute(1, 2, 0)
        else:
            gw = torch.mm(gu, x2.t()).view(k, c_out, c_in).permute(1, 2, 0)
        w_all = w.permute(2, 0, 1).reshape(k * c_out, c_in)
        gx = torch.mm(w_all.t(), gu).view(c_in, b, length)
        return gx, gw, None


class _BatchNormTrain(torch.autograd.Function):
    """Training-mode BatchNorm of ``x (C, B, L)`` (statistics over ``B * L`` per channel).

    Written with plain multiplies and adds of a ``(C, 1)`` column: PyTorch's CPU kernels for
    three-operand broadcasts (``addcmul``) are ~5x slower than two binary passes here."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = x.shape[0]
        xv = x.reshape(c, -1)
        n = xv.shape[1]
        mean = xv.sum(1, keepdim=True).div_(n)
        xc = xv - mean
        var = (xc * xc).sum(1, keepdim=True).div_(n)
        invstd = torch.rsqrt(var + eps)
        y = (xc * (gamma[:, None] * invstd)).add_(beta[:, None])
        ctx.save_for_backward(xc, invstd, gamma)
        ctx.mark_non_differentiable(mean, var)
        return y.view_as(x), mean.view(c), var.view(c)

    @staticmethod
    def backward(
        ctx: Any, gy: torch.Tensor, _gm: Any, _gv: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, None]:
        xc, invstd, gamma = ctx.saved_tensors
        c, n = xc.shape
        g = gy.reshape(c, n)
        gbeta = g.sum(1, keepdim=True)
        gxc = (g * xc).sum(1, keepdim=True)  # = ggamma / invstd
        scale = gamma[:, None] * invstd
        # dx = scale * (g - gbeta / n - xhat * ggamma / n), with xhat = xc * invstd
        gx = (g * scale).add_(xc * (scale * invstd * invstd * gxc).div_(-n)).sub_(scale * gbeta / n)
        return gx.view_as(gy), (gxc * invstd).view(c), gbeta.view(c), None


class _AvgPool3(torch.autograd.Function):
    """Average pool, window 3, stride 1, zero padding 1 left out of the count."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, rcount: torch.Tensor) -> torch.Tensor:
        s = x.clone()
        s[:, :, 1:].add_(x[:, :, :-1])
        s[:, :, :-1].add_(x[:, :, 1:])
        ctx.save_for_backward(rcount)
        return s.mul_(rcount)

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor) -> tuple[torch.Tensor, None]:
        (rcount,) = ctx.saved_tensors
        g = gy * rcount
        gx = g.clone()
        gx[:, :, :-1].add_(g[:, :, 1:])
        gx[:, :, 1:].add_(g[:, :, :-1])
        return gx, None


class MatmulNetwork(nn.Module):
    """Runs a 1-D :class:`~nasbench_sim.generate.model.NB201Network` as matrix products.

    The wrapped network's parameters and BatchNorm buffers are used and updated in place, so
    ``MatmulNetwork(net).parameters()`` are ``net``'s, in ``net``'s order. ``forward`` takes
    and returns what ``net`` does: ``(batch, channels, length)`` in, logits out.

    Example:
        >>> from nasbench_sim.generate.model import build_model
        >>> from nasbench_sim.space import Cell
        >>> net = build_model(Cell.from_index(1234), channels=4, cells_per_stage=1,
        ...                   input_shape=(1, 40), n_classes=10, seed=0)
        >>> x = torch.randn(8, 1, 40)
        >>> bool(torch.allclose(MatmulNetwork(net).eval()(x), net.eval()(x), atol=1e-5))
        True
    """

    def __init__(self, net: NB201Network) -> None:
        super().__init__()
        if net.ndim != 1:
            raise GenerateError(
                "the matmul trainer runs 1-D networks (dataset mnist1d) only; "
                "use the reference or batched trainer for 2-D data"
            )
        self.net = net
        self._rcount: dict[tuple[int, torch.dtype], torch.Tensor] = {}

    # -- layers ------------------------------------------------------------------------------
    def _bn(self, x: torch.Tensor, bn: nn.Module) -> torch.Tensor:
        assert isinstance(bn, nn.BatchNorm1d)
        if self.training:
            y, mean, var = _BatchNormTrain.apply(x, bn.weight, bn.bias, bn.eps)
            with torch.no_grad():
                n = x.shape[1] * x.shape[2]
                m = bn.momentum if bn.momentum is not None else 0.1
                assert bn.running_mean is not None and bn.running_var is not None
                bn.running_mean.mul_(1 - m).add_(mean, alpha=m)
                bn.running_var.mul_(1 - m).add_(var * (n / max(n - 1, 1)), alpha=m)
                if bn.num_batches_tracked is not None:
                    bn.num_batches_tracked.add_(1)
            return y
        assert bn.running_mean is not None and bn.running_var is not None
        scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        shift = bn.bias - bn.running_mean * scale
        return (x * scale[:, None, None]).add_(shift[:, None, None])

    def _conv(self, x: torch.Tensor, conv: nn.Module) -> torch.Tensor:
        assert isinstance(conv, nn.Conv1d)
        return _Conv.apply(x, conv.weight, conv.stride[0])

    def _relu_conv_bn(self, x: torch.Tensor, op: ReLUConvBN) -> torch.Tensor:
        return self._bn(self._conv(torch.relu(x), op.conv), op.bn)

    def _pool3(self, x: torch.Tensor) -> torch.Tensor:
        key = (x.shape[2], x.dtype)
        rc = self._rcount.get(key)
        if rc is None:
            count = torch.full((x.shape[2],), 3.0, dtype=torch.float64)
            count[0] -= 1
            count[-1] -= 1
            rc = (1.0 / count).to(device=x.device, dtype=x.dtype)
            self._rcount[key] = rc
        return _AvgPool3.apply(x, rc)

    def _edge(self, x: torch.Tensor, op: nn.Module) -> torch.Tensor | None:
        if isinstance(op, ReLUConvBN):
            return self._relu_conv_bn(x, op)
        if isinstance(op, nn.Identity):
            return x
        if isinstance(op, nn.AvgPool1d):
            return self._pool3(x)
        return None  # the "none" op adds nothing

    def _cell(self, x: torch.Tensor, cell: NB201Cell) -> torch.Tensor:
        nodes = [x]
        k = 0
        for target in (1, 2, 3):
            acc: torch.Tensor | None = None
            for source in range(target):
                y = self._edge(nodes[source], cell.edges[k])
                k += 1
                if y is not None:
                    acc = y if acc is None else acc + y
            nodes.append(torch.zeros_like(x) if acc is None else acc)
        return nodes[3]

    def _resblock(self, x: torch.Tensor, block: ResBlock) -> torch.Tensor:
        length = x.shape[2] - x.shape[2] % 2
        pooled = (x[:, :, 0:length:2] + x[:, :, 1:length:2]) * 0.5
        short = self._conv(pooled, block.shortcut)
        return short + self._relu_conv_bn(self._relu_conv_bn(x, block.conv_a), block.conv_b)

    # -- the network -------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        h = x.transpose(0, 1).contiguous()  # (C_in, B, L)
        h = self._bn(self._conv(h, net.stem_conv), net.stem_bn)
        for block in net.blocks:
            if isinstance(block, ResBlock):
                h = self._resblock(h, block)
            else:
                assert isinstance(block, NB201Cell)
                h = self._cell(h, block)
        h = torch.relu(self._bn(h, net.last_bn))
        feats = h.mean(2)  # (4C, B)
        head = net.classifier
        return torch.addmm(head.bias, feats.t(), head.weight.t())
