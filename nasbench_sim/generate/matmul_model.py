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
from nasbench_sim.generate.fan_out import OUT_EDGES, node_inputs
from nasbench_sim.generate.model import NB201Cell, NB201Network, ReLUConvBN, ResBlock, Zero

__all__ = ["MatmulNetwork", "batch_norm", "conv", "pool2", "pool3"]


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
    """``dst (..., C, B, L)`` = the input-position gradient of one tap: ``gy[..., o]`` at
    positions ``i``, zero elsewhere (only the uncovered positions are zeroed)."""
    if stride == 1:
        dst[..., i].copy_(gy[..., o])
        if i.start > 0:
            dst[..., : i.start].zero_()
        if i.stop < length:
            dst[..., i.stop :].zero_()
        return
    dst.zero_()
    dst[..., i].copy_(gy[..., o])


def _tap_major(w: torch.Tensor) -> torch.Tensor:
    """``w (..., C_out, C_in, k)`` as ``(..., k * C_out, C_in)``: row ``t * C_out + o`` holds
    tap ``t`` of output channel ``o``."""
    *lead, c_out, c_in, k = w.shape
    return w.movedim(-1, -3).reshape(*lead, k * c_out, c_in)


def _wx(w_all: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """``w_all @ x2`` per model: ``mm`` without a model dimension, one ``mm`` over the
    stacked rows when the models share their input, ``bmm`` otherwise."""
    if w_all.dim() == 2:
        return torch.mm(w_all, x2)
    if x2.dim() == 2:
        rows = w_all.shape[0] * w_all.shape[1]
        return torch.mm(w_all.reshape(rows, -1), x2).view(*w_all.shape[:2], -1)
    return torch.bmm(w_all, x2)


def _weight_grad(gu: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """``gu @ x2^T`` per model (``gu (..., k*C_out, B*L)``, ``x2 (..., C_in, B*L)``)."""
    lead = gu.shape[:-2]
    if x2.dim() == 2 and gu.dim() == 3:  # shared input: one mm over the stacked rows
        return _weight_grad(gu.reshape(-1, gu.shape[-1]), x2).view(*lead, -1, x2.shape[0])
    if gu.dim() == 2:
        if x2.shape[0] < 16:  # MKL is faster with the short dimension outside for small C_in
            return torch.mm(x2, gu.t()).t()
        return torch.mm(gu, x2.t())
    if x2.shape[-2] < 16:
        return torch.bmm(x2, gu.transpose(1, 2)).transpose(1, 2)
    return torch.bmm(gu, x2.transpose(1, 2))


class _Conv(torch.autograd.Function):
    """Convolution of ``x (C_in, B, L)`` with ``w (C_out, C_in, k)``, no bias.

    With a leading model dimension, ``w (M, C_out, C_in, k)`` holds M models' weights and
    ``x`` is ``(M, C_in, B, L)`` (model ``m``'s input, one ``bmm``) or ``(C_in, B, L)`` (an
    input all models share, one ``mm`` over the stacked weights); the output is
    ``(M, C_out, B, L)``."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, w: torch.Tensor, stride: int) -> torch.Tensor:
        c_in, b, length = x.shape[-3:]
        *lead, c_out, _, k = w.shape
        _, pairs = _taps(length, k, stride)
        x2 = x.reshape(*x.shape[:-3], c_in, b * length)
        u = _wx(_tap_major(w), x2).view(*lead, k, c_out, b, length)
        centre = k // 2
        if stride == 1:  # the centre tap covers every output: add the others to it in place
            y = u.select(-4, centre)
            others = [t for t in range(k) if t != centre]
            if others and not y.is_contiguous():  # M models: sum into a contiguous output
                y, mid = torch.empty_like(y, memory_format=torch.contiguous_format), y
                (o, i), first = pairs[others[0]], others.pop(0)
                torch.add(mid[..., o], u.select(-4, first)[..., i], out=y[..., o])
                y[..., : o.start].copy_(mid[..., : o.start])
                y[..., o.stop :].copy_(mid[..., o.stop :])
            for t in others:
                o, i = pairs[t]
                y[..., o].add_(u.select(-4, t)[..., i])
        else:
            y = u.select(-4, centre)[..., pairs[centre][1]].clone()
            for t, (o, i) in enumerate(pairs):
                if t != centre:
                    y[..., o].add_(u.select(-4, t)[..., i])
        ctx.save_for_backward(x, w)
        ctx.stride = stride
        return y

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor, None]:
        x, w = ctx.saved_tensors
        c_in, b, length = x.shape[-3:]
        *lead, c_out, _, k = w.shape
        _, pairs = _taps(length, k, ctx.stride)
        if k == 1 and ctx.stride == 1:
            gu = gy.reshape(*lead, c_out, b * length)
        else:
            g = gy.new_empty((*lead, k, c_out, b, length))
            for t, (o, i) in enumerate(pairs):
                _scatter_tap(g.select(-4, t), gy, o, i, length, ctx.stride)
            gu = g.view(*lead, k * c_out, b * length)
        x2 = x.reshape(*x.shape[:-3], c_in, b * length)
        gw = _weight_grad(gu, x2).reshape(*lead, k, c_out, c_in).movedim(-3, -1)
        gx = None
        if ctx.needs_input_grad[0]:
            w_all = _tap_major(w)
            if x.dim() == 3 and w.dim() == 4:  # shared input: the models' gradients summed
                w_all, gu = w_all.reshape(-1, c_in), gu.reshape(-1, b * length)
            gx = _wx(w_all.transpose(-1, -2), gu).view(x.shape)
        return gx, gw, None


class _BatchNormTrain(torch.autograd.Function):
    """Training-mode BatchNorm of ``x (C, B, L)`` (statistics over ``B * L`` per channel);
    ``x`` may have a leading model dimension, ``(M, C, B, L)`` with ``gamma`` and ``beta`` of
    ``M * C`` rows (model-major).

    Written with plain multiplies and adds of a ``(C, 1)`` column: PyTorch's CPU kernels for
    three-operand broadcasts (``addcmul``) are ~5x slower than two binary passes here."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = gamma.shape[0]
        xv = x.reshape(c, -1)
        n = xv.shape[1]
        mean = xv.sum(1, keepdim=True).div_(n)
        xc = xv - mean
        var = (xc * xc).sum(1, keepdim=True).div_(n)
        invstd = torch.rsqrt(var + eps)
        y = (xc * (gamma[:, None] * invstd)).add_(beta[:, None])
        ctx.save_for_backward(xc, invstd, gamma)
        ctx.mark_non_differentiable(mean, var)
        return y.view(x.shape), mean.view(c), var.view(c)

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
        return gx.view(gy.shape), (gxc * invstd).view(c), gbeta.view(c), None


class _AvgPool3(torch.autograd.Function):
    """Average pool over the last dimension, window 3, stride 1, zero padding 1 left out of
    the count (any leading dimensions)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, rcount: torch.Tensor) -> torch.Tensor:
        s = x.clone()
        s[..., 1:].add_(x[..., :-1])
        s[..., :-1].add_(x[..., 1:])
        ctx.save_for_backward(rcount)
        return s.mul_(rcount)

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor) -> tuple[torch.Tensor, None]:
        (rcount,) = ctx.saved_tensors
        g = gy * rcount
        gx = g.clone()
        gx[..., :-1].add_(g[..., 1:])
        gx[..., 1:].add_(g[..., :-1])
        return gx, None


class _Head(torch.autograd.Function):
    """The classifier ``feats^T W^T + b`` (``feats (4C, B)``) as ``addmm``, its weight
    gradient formed as ``feats @ g``, the stacked network's per-model ``bmm``; autograd's
    ``(g^T feats^T)^T`` sums the batch in another order on some CPUs (AVX2, not AVX-512)."""

    @staticmethod
    def forward(ctx: Any, feats: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(feats, w)
        return torch.addmm(b, feats.t(), w.t())

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        feats, w = ctx.saved_tensors
        gfeats = w.t().mm(g.t()) if ctx.needs_input_grad[0] else None  # autograd's form
        return gfeats, feats.mm(g).t(), g.sum(0)


def conv(x: torch.Tensor, weight: torch.Tensor, stride: int) -> torch.Tensor:
    """Convolution (padding ``k // 2``, no bias) as one matrix product per model: ``x (C_in,
    B, L)`` with ``weight (C_out, C_in, k)``, or M models at once (see :class:`_Conv`)."""
    return _Conv.apply(x, weight, stride)


def batch_norm(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    eps: float,
    momentum: float,
    training: bool,
) -> torch.Tensor:
    """BatchNorm of ``x (C, B, L)`` or ``(M, C, B, L)`` whose ``weight``, ``bias`` and running
    statistics have one entry per row (``C`` or ``M * C``); in training mode the running
    statistics are updated in place as :class:`torch.nn.BatchNorm1d` does."""
    c = weight.shape[0]
    if training:
        y, mean, var = _BatchNormTrain.apply(x, weight, bias, eps)
        with torch.no_grad():
            n = x.numel() // c
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
            running_var.mul_(1 - momentum).add_(var * (n / max(n - 1, 1)), alpha=momentum)
        return y
    scale = weight * torch.rsqrt(running_var + eps)
    shift = bias - running_mean * scale
    return (x.reshape(c, -1) * scale[:, None]).add_(shift[:, None]).view(x.shape)


def pool3(x: torch.Tensor, cache: dict[tuple[int, torch.dtype], torch.Tensor]) -> torch.Tensor:
    """The NAS-Bench-201 ``avg_pool_3x3`` (stride 1, padding left out of the count) over the
    last dimension; ``cache`` keeps the per-position reciprocal counts per (length, dtype)."""
    key = (x.shape[-1], x.dtype)
    rc = cache.get(key)
    if rc is None:
        count = torch.full((x.shape[-1],), 3.0, dtype=torch.float64)
        count[0] -= 1
        count[-1] -= 1
        rc = (1.0 / count).to(device=x.device, dtype=x.dtype)
        cache[key] = rc
    return _AvgPool3.apply(x, rc)


def pool2(x: torch.Tensor) -> torch.Tensor:
    """The reduction block's shortcut pool (window 2, stride 2) over the last dimension."""
    length = x.shape[-1] - x.shape[-1] % 2
    return (x[..., 0:length:2] + x[..., 1:length:2]) * 0.5


class MatmulNetwork(nn.Module):
    """Runs a 1-D :class:`~nasbench_sim.generate.model.NB201Network` as matrix products.

    The wrapped network's parameters and BatchNorm buffers are used and updated in place, so
    ``MatmulNetwork(net).parameters()`` are ``net``'s, in ``net``'s order. ``ordered_grads``
    (default): add the gradients meeting at a cell node in edge order
    (:func:`~nasbench_sim.generate.fan_out.node_inputs`),
    as the stacked network does with it; ``False``: autograd's order (tables built before
    :mod:`~nasbench_sim.generate.grad_sum` existed). ``forward`` takes
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

    def __init__(self, net: NB201Network, ordered_grads: bool = True) -> None:
        super().__init__()
        if net.ndim != 1:
            raise GenerateError(
                "the matmul trainer runs 1-D networks (dataset mnist1d) only; "
                "use the reference or batched trainer for 2-D data"
            )
        self.net = net
        self.ordered_grads = ordered_grads
        self._rcount: dict[tuple[int, torch.dtype], torch.Tensor] = {}

    # -- layers ------------------------------------------------------------------------------
    def _bn(self, x: torch.Tensor, bn: nn.Module) -> torch.Tensor:
        assert isinstance(bn, nn.BatchNorm1d)
        assert bn.running_mean is not None and bn.running_var is not None
        m = bn.momentum if bn.momentum is not None else 0.1
        y = batch_norm(
            x, bn.weight, bn.bias, bn.running_mean, bn.running_var, bn.eps, m, self.training
        )
        if self.training and bn.num_batches_tracked is not None:
            with torch.no_grad():
                bn.num_batches_tracked.add_(1)
        return y

    def _conv(self, x: torch.Tensor, op: nn.Module) -> torch.Tensor:
        assert isinstance(op, nn.Conv1d)
        return conv(x, op.weight, op.stride[0])

    def _relu_conv_bn(self, x: torch.Tensor, op: ReLUConvBN) -> torch.Tensor:
        return self._bn(self._conv(torch.relu(x), op.conv), op.bn)

    def _pool3(self, x: torch.Tensor) -> torch.Tensor:
        return pool3(x, self._rcount)

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
        inputs: dict[int, torch.Tensor] = {}
        k = 0
        for target in (1, 2, 3):
            acc: torch.Tensor | None = None
            for source in range(target):
                if k == OUT_EDGES[source][0]:  # the node is complete: split it to its edges
                    live = lambda e: not isinstance(cell.edges[e], Zero)  # noqa: E731
                    inputs.update(node_inputs(nodes[source], source, live, self.ordered_grads))
                y = self._edge(inputs[k], cell.edges[k]) if k in inputs else None
                k += 1
                if y is not None:
                    acc = y if acc is None else acc + y
            nodes.append(torch.zeros_like(x) if acc is None else acc)
        return nodes[3]

    def _resblock(self, x: torch.Tensor, block: ResBlock) -> torch.Tensor:
        short = self._conv(pool2(x), block.shortcut)
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
        if self.ordered_grads:
            return _Head.apply(feats, head.weight, head.bias)
        return torch.addmm(head.bias, feats.t(), head.weight.t())
