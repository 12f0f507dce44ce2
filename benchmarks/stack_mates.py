"""Does a cell's training depend on the cells stacked with it? (docs/generator.md, "A cell's
stack-mates")

Takes the cells of one committed chunk of a ``matmul_stacked`` build (default: chunk 11 of the
default table's build) and its protocol, and prints:

1. after ``--steps`` SGD steps of the training loop (the protocol's first mini-batches), which
   models of the stack have other weights or BatchNorm statistics than the same cell trained
   alone by the one-model network, and the largest difference;
2. for one model (``--model``), whether the gradient reaching each of its BatchNorm layers,
   in network order, is the same bits stacked and alone, after one forward and backward pass
   of the training loss on the first mini-batch (whether the forward pass's logits are
   equal too);
3. whether every matrix product the stacked network makes (recorded from one forward and
   backward pass: the convolutions' forward, input and weight gradients, the stem's shared
   input included) gives each model the same bits over M models at once as for one model,
   and row sums (BatchNorm's reductions) the same bits over M models' rows as over one
   model's, for M in 2..16.

    python benchmarks/stack_mates.py                       # chunk 11, 1 step, model 2
    python benchmarks/stack_mates.py --chunk 0 --steps 5 --model 0
    python benchmarks/stack_mates.py --steps 5 --grad-sum ordered   # new builds' numerics

``--grad-sum`` (default: the build's, ``autograd``) is the order a cell node's gradients are
added in, stacked and alone alike (:mod:`nasbench_sim.generate.grad_sum`).

One thread, as the build trains; about 20 s.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasbench_sim.generate import Protocol
from nasbench_sim.generate import matmul_model as mm
from nasbench_sim.generate._loop import train_models
from nasbench_sim.generate.chunks import chunk_path, parts_dir, read_chunk, read_manifest
from nasbench_sim.generate.datasets import dataset_for
from nasbench_sim.generate.grad_sum import GRAD_SUMS
from nasbench_sim.generate.matmul_stacked import StackedMatmulNetwork
from nasbench_sim.generate.train_reference import reference_model
from nasbench_sim.space import Cell

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "nb201_mnist1d.h5"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--table", type=Path, default=DEFAULT, help="the build's output path")
    p.add_argument("--chunk", type=int, default=11)
    p.add_argument("--steps", type=int, default=1, help="SGD steps for part 1 (default: 1)")
    p.add_argument("--model", type=int, default=2, help="the stack's model for part 2")
    p.add_argument(
        "--grad-sum", choices=GRAD_SUMS, default="autograd",
        help="the order a cell node's gradients are added in (default: the build's, autograd)",
    )  # fmt: skip
    args = p.parse_args()
    ordered = args.grad_sum == "ordered"
    torch.set_num_threads(1)
    parts = parts_dir(args.table)
    protocol = Protocol.from_dict(read_manifest(parts)["protocol"])
    cells = [Cell.from_index(int(i)) for i in read_chunk(chunk_path(parts, args.chunk)).arch_index]
    data = dataset_for(protocol, "cpu")
    print(f"chunk {args.chunk}: {len(cells)} cells {[c.index for c in cells]}")
    _weights_after_steps(protocol, cells, data, args.steps, ordered)
    _bn_gradients(protocol, cells, data, args.model, ordered)
    _matrix_products(protocol, cells, data)


def _weights_after_steps(
    protocol: Protocol, cells: list[Cell], data: Any, steps: int, ordered: bool
) -> None:
    """Part 1: train the stack and each cell alone for ``steps`` mini-batches."""
    short = dataclasses.replace(
        protocol, epochs=1, train_subset=steps * protocol.batch_size, test_every=1
    )
    sub = dataset_for(short, "cpu")
    refs = [reference_model(short, c, 0, sub, "cpu") for c in cells]
    stack = StackedMatmulNetwork(refs, ordered)
    train_models(stack, stack, len(cells), short, 0, sub)
    stack.export(refs)
    differ = []
    for j, cell in enumerate(cells):
        alone = reference_model(short, cell, 0, sub, "cpu")
        one = mm.MatmulNetwork(alone, ordered)

        def forward(xb: torch.Tensor, one: nn.Module = one) -> torch.Tensor:
            return one(xb).unsqueeze(1)

        train_models(one, forward, 1, short, 0, sub)
        a, b = refs[j].state_dict(), alone.state_dict()
        diffs = [
            float((a[k] - b[k]).abs().max())
            for k in a
            if "num_batches" not in k and not torch.equal(a[k], b[k])
        ]
        if diffs:
            differ.append(f"{cell.index} ({len(diffs)} tensors, max {max(diffs):.1e})")
    print(
        f"1. after {steps} step(s): {len(differ)} of {len(cells)} models differ from the same "
        f"cell trained alone: {differ}"
    )


def _bn_gradients(protocol: Protocol, cells: list[Cell], data: Any, j: int, ordered: bool) -> None:
    """Part 2: the gradient reaching each BatchNorm of model ``j``, stacked and alone."""
    calls: list[dict[str, Any]] = []
    original = mm._BatchNormTrain.apply

    def recording(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float) -> Any:
        rec: dict[str, Any] = {"x": x.detach().clone()}
        y, mean, var = original(x, w, b, eps)
        y.register_hook(lambda g: rec.__setitem__("gy", g.detach().clone()))
        calls.append(rec)
        return y, mean, var

    xb, yb = data.train_x[: protocol.batch_size], data.train_y[: protocol.batch_size]

    def loss(logits: torch.Tensor) -> torch.Tensor:
        b, m = logits.shape[:2]
        return (
            F.cross_entropy(
                logits.reshape(b * m, -1), yb.repeat_interleave(m),
                label_smoothing=protocol.label_smoothing, reduction="none",
            )
            .view(b, m).mean(0).sum()
        )  # fmt: skip

    mm._BatchNormTrain.apply = recording  # type: ignore[method-assign]
    try:
        refs = [reference_model(protocol, c, 0, data, "cpu") for c in cells]
        stack = StackedMatmulNetwork(refs, ordered)
        out_stack = stack.train()(xb)
        loss(out_stack).backward()
        stacked, calls[:] = list(calls), []
        ref = reference_model(protocol, cells[j], 0, data, "cpu")
        one = mm.MatmulNetwork(ref, ordered).train()
        out_one = one(xb).unsqueeze(1)
        loss(out_one).backward()
        alone = list(calls)
    finally:
        mm._BatchNormTrain.apply = original  # type: ignore[method-assign]
    logits_equal = torch.equal(out_stack[:, j], out_one[:, 0])
    marks = []
    for a in alone:  # the stacked call holding model j's rows: the one with its input
        hit = next(
            (s, r) for s in stacked for r in range(s["x"].shape[0])
            if s["x"].dim() == 4 and s["x"].shape[1:] == a["x"].shape
            and torch.equal(s["x"][r], a["x"])
        )  # fmt: skip
        s, r = hit
        marks.append("=" if torch.equal(s["gy"].view(s["x"].shape)[r], a["gy"]) else "x")
    print(
        f"2. model {j} (cell {cells[j].index}): forward logits equal {logits_equal}; gradient at "
        f"each of its {len(alone)} BatchNorm outputs, stem first (= same bits, x other): "
        f"{''.join(marks)}"
    )


def _recorded_products(protocol: Protocol, cells: list[Cell], data: Any) -> set[tuple[Any, ...]]:
    """The per-model shapes of every matrix product one forward and backward pass of the
    stacked network makes: ``(function, A's shape, A transposed, B's shape, B shared)``."""
    seen: set[tuple[Any, ...]] = set()
    originals = {name: getattr(mm, name) for name in ("_wx", "_weight_grad")}

    def recorder(name: str) -> Any:
        def call(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            if a.dim() == 3:  # M models (2-D operands: one model, or the stem's summed input)
                shared = b.dim() == 2
                seen.add((name, tuple(a.shape[1:]), not a.is_contiguous(),
                          tuple(b.shape[-2:]), shared))  # fmt: skip
            return originals[name](a, b)

        return call

    for name in originals:
        setattr(mm, name, recorder(name))
    try:
        stack = StackedMatmulNetwork([reference_model(protocol, c, 0, data, "cpu") for c in cells])
        xb = data.train_x[: protocol.batch_size]
        stack.train()(xb).sum().backward()
    finally:
        for name, fn in originals.items():
            setattr(mm, name, fn)
    return seen


def _matrix_products(protocol: Protocol, cells: list[Cell], data: Any) -> None:
    """Part 3: every product of the network, per model, over M models against one model;
    BatchNorm's row sums likewise."""
    shapes = _recorded_products(protocol, cells, data)
    gen = torch.Generator().manual_seed(0)

    def rand(shape: tuple[int, ...], transposed: bool) -> torch.Tensor:
        if not transposed:
            return torch.randn(shape, generator=gen)
        return torch.randn((*shape[:-2], shape[-1], shape[-2]), generator=gen).transpose(-1, -2)

    bad = 0
    for name, a_shape, a_t, b_shape, shared in sorted(shapes):
        fn = getattr(mm, name)
        for m in range(2, 17):
            a = rand((m, *a_shape), a_t)
            b = torch.randn(b_shape if shared else (m, *b_shape), generator=gen)
            together = fn(a, b)
            bad += sum(
                not torch.equal(together[i], fn(a[i], b if shared else b[i])) for i in range(m)
            )
    rows = {(a_shape[-2], b_shape[-1]) for _, a_shape, _, b_shape, _ in shapes}
    sums = 0  # BatchNorm's reductions: row sums of (M * C, B * L), against one model's rows
    for m in range(2, 17):
        for c, n in rows:
            g = torch.randn(m * c, n, generator=gen)
            together = g.sum(1)
            sums += sum(
                not torch.equal(together[i * c : (i + 1) * c], g[i * c : (i + 1) * c].sum(1))
                for i in range(m)
            )
    print(
        f"3. the network's {len(shapes)} kinds of matrix product (convolutions forward, input "
        f"and weight gradients; the stem's shared input included) x M = 2..16: {bad} "
        f"per-model results differ between M models at once and one model; BatchNorm-like "
        f"row sums at {len(rows)} shapes: {sums} differ"
    )


if __name__ == "__main__":
    main()
