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
3. whether the convolutions' three matrix products give each model the same bits as a
   ``bmm`` over M models as one ``mm`` per model, and BatchNorm's row sums the same bits
   over M models' rows as over one model's, for every shape of the protocol and M in 2..16.

    python benchmarks/stack_mates.py                       # chunk 11, 1 step, model 2
    python benchmarks/stack_mates.py --chunk 0 --steps 5 --model 0

One thread, as the build trains; about a minute.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from nasbench_sim.generate import Protocol
from nasbench_sim.generate import matmul_model as mm
from nasbench_sim.generate._loop import train_models
from nasbench_sim.generate.chunks import chunk_path, parts_dir, read_chunk, read_manifest
from nasbench_sim.generate.datasets import dataset_for
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
    args = p.parse_args()
    torch.set_num_threads(1)
    parts = parts_dir(args.table)
    protocol = Protocol.from_dict(read_manifest(parts)["protocol"])
    cells = [Cell.from_index(int(i)) for i in read_chunk(chunk_path(parts, args.chunk)).arch_index]
    data = dataset_for(protocol, "cpu")
    print(f"chunk {args.chunk}: {len(cells)} cells {[c.index for c in cells]}")
    _weights_after_steps(protocol, cells, data, args.steps)
    _bn_gradients(protocol, cells, data, args.model)
    _matrix_products(protocol)


def _weights_after_steps(protocol: Protocol, cells: list[Cell], data: Any, steps: int) -> None:
    """Part 1: train the stack and each cell alone for ``steps`` mini-batches."""
    short = dataclasses.replace(
        protocol, epochs=1, train_subset=steps * protocol.batch_size, test_every=1
    )
    sub = dataset_for(short, "cpu")
    refs = [reference_model(short, c, 0, sub, "cpu") for c in cells]
    stack = StackedMatmulNetwork(refs)
    train_models(stack, stack, len(cells), short, 0, sub)
    stack.export(refs)
    differ = []
    for j, cell in enumerate(cells):
        alone = reference_model(short, cell, 0, sub, "cpu")
        one = mm.MatmulNetwork(alone)
        train_models(one, lambda xb, one=one: one(xb).unsqueeze(1), 1, short, 0, sub)
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


def _bn_gradients(protocol: Protocol, cells: list[Cell], data: Any, j: int) -> None:
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
        stack = StackedMatmulNetwork([reference_model(protocol, c, 0, data, "cpu") for c in cells])
        out_stack = stack.train()(xb)
        loss(out_stack).backward()
        stacked, calls[:] = list(calls), []
        one = mm.MatmulNetwork(reference_model(protocol, cells[j], 0, data, "cpu")).train()
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


def _matrix_products(protocol: Protocol) -> None:
    """Part 3: the convolution's products, per model, as bmm over M models and as one mm."""
    gen = torch.Generator().manual_seed(0)
    c, b, n_length = protocol.channels, protocol.batch_size, 40
    shapes = []
    for stage in range(3):  # channels double and the length halves at each reduction
        c_in = c_out = c * 2**stage
        shapes += [(c_in, c_out, k, b * n_length // 2**stage) for k in (1, 3)]
    bad = 0
    for m in range(2, 17):
        for c_in, c_out, k, bl in shapes:
            w = torch.randn(m, c_out, c_in, k, generator=gen)
            gu = torch.randn(m, k * c_out, bl, generator=gen)
            x2 = torch.randn(m, c_in, bl, generator=gen)
            w_all = mm._tap_major(w)
            together = (
                mm._wx(w_all.transpose(-1, -2), gu),
                mm._weight_grad(gu, x2),
                mm._wx(w_all, x2),
            )
            for i in range(m):
                wi = mm._tap_major(w[i])
                apart = (
                    mm._wx(wi.transpose(-1, -2), gu[i]),
                    mm._weight_grad(gu[i], x2[i]),
                    mm._wx(wi, x2[i]),
                )
                bad += sum(not torch.equal(t[i], a) for t, a in zip(together, apart, strict=True))
    sums = 0  # BatchNorm's reductions: row sums of (M * C, B * L), against one model's rows
    for m in range(2, 17):
        for c_in, _, _, bl in shapes:
            g = torch.randn(m * c_in, bl, generator=gen)
            together = g.sum(1)
            sums += sum(
                not torch.equal(
                    together[i * c_in : (i + 1) * c_in], g[i * c_in : (i + 1) * c_in].sum(1)
                )
                for i in range(m)
            )
    print(
        f"3. convolution products (input gradient, weight gradient, forward) at "
        f"{len(shapes)} shapes x M = 2..16: {bad} per-model results differ between bmm and mm; "
        f"BatchNorm row sums: {sums} per-model results differ"
    )


if __name__ == "__main__":
    main()
