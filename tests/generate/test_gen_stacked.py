"""The stacked matmul trainer reproduces the reference trainer model by model, whichever way
each edge's models are grouped (every model, a contiguous run, a scattered set)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nasbench_sim.generate import Protocol
from nasbench_sim.generate._loop import train_models
from nasbench_sim.generate.datasets import Dataset, load_dataset
from nasbench_sim.generate.matmul_stacked import StackedMatmulNetwork, edge_groups
from nasbench_sim.generate.model import build_model
from nasbench_sim.generate.train_matmul import stacked_model, train_matmul_stacked
from nasbench_sim.generate.train_reference import reference_model, train_reference
from nasbench_sim.space import OPS, Cell
from tests.generate.test_gen_equivalence import CELLS
from tests.tiny_protocol import TINY


def _other(cell: Cell) -> Cell:
    """A cell that uses another op than ``cell`` on every edge."""
    return Cell.from_names(tuple(OPS[(o + 1) % len(OPS)] for o in cell.ops))


def _stacks(cell: Cell) -> dict[str, tuple[list[Cell], list[int]]]:
    """Stacks holding ``cell`` so that, on every edge, its models form the whole stack, a
    contiguous run of it, or a scattered subset; with the positions of ``cell``."""
    y = _other(cell)
    return {
        "whole": ([cell, cell], [0, 1]),
        "run": ([y, cell, cell], [1, 2]),
        "scattered": ([cell, y, cell], [0, 2]),
    }


def _setup(dtype: str) -> tuple[Protocol, Dataset]:
    p = dataclasses.replace(TINY, dataset="mnist1d", label_smoothing=0.1, dtype=dtype)
    data = load_dataset(
        "mnist1d", seed=0, device="cpu", dtype=dtype, train_subset=p.train_subset,
        eval_subset=p.eval_subset,
    )  # fmt: skip
    return p, data


def test_the_stacks_put_each_cell_in_every_grouping_situation() -> None:
    """Guards the test below: on every edge where ``cell`` has an op, its group is the whole
    stack, a contiguous run, or a non-contiguous subset, as the stack's name says."""
    for cell in CELLS:
        for situation, (cells, where) in _stacks(cell).items():
            for k, groups in enumerate(edge_groups(cells)):
                mine = [g for g in groups if where[0] in g.members]
                assert len(mine) == (0 if cell.op_names[k] == "none" else 1)
                for g in mine:
                    assert list(g.members) == where
                    run = g.members == tuple(range(g.members[0], g.members[-1] + 1))
                    assert g.whole == (situation == "whole")
                    assert run == (situation != "scattered")


@pytest.mark.parametrize("situation", ["whole", "run", "scattered"])
def test_stacked_training_equals_reference_training_float64(situation: str) -> None:
    """Every per-epoch metric of each of the four test cells (dead edges, all-pool,
    all-`none`, mixed), and of its partner, agrees with the reference to 1e-9 in float64."""
    p, data = _setup("float64")
    for cell in CELLS:
        cells, where = _stacks(cell)[situation]
        stacked = train_matmul_stacked(p, cells, 5, data, "cpu")
        refs = {c: train_reference(p, c, 5, data, "cpu") for c in set(cells)}
        for m, c in enumerate(cells):
            assert stacked.steps == refs[c].steps
            for key, curve in refs[c].metrics.items():
                np.testing.assert_allclose(stacked.metrics[key][m], curve[0], rtol=0, atol=1e-9)
        for m in where:  # not vacuous: the cell's curves are its own, not its partner's
            other = next((c for c in cells if c != cell), None)
            if other is not None:
                assert refs[other].metrics["train_loss"][0, -1] != pytest.approx(
                    stacked.metrics["train_loss"][m, -1], abs=1e-6
                )


def test_stacked_training_float32_within_rounding() -> None:
    p, data = _setup("float32")
    stacked = train_matmul_stacked(p, CELLS, 1, data, "cpu")
    for m, cell in enumerate(CELLS):
        ref = train_reference(p, cell, 1, data, "cpu")
        for key in ("train_loss", "valid_loss", "test_loss"):
            np.testing.assert_allclose(stacked.metrics[key][m], ref.metrics[key][0], atol=1e-4)


@pytest.mark.parametrize("length", [40, 12, 6])
def test_stacked_network_matches_reference_forward_and_gradients(length: int) -> None:
    """Logits in both modes, every parameter's gradient (through :meth:`export`) and the
    BatchNorm statistics agree with the reference networks; short lengths (6 -> 3 -> 2)
    exercise the edge cases of the shifted-tap convolution."""
    cells = [CELLS[3], CELLS[0], _other(CELLS[3]), CELLS[3]]

    def nets() -> list[torch.nn.Module]:
        return [
            build_model(c, channels=3, cells_per_stage=2, input_shape=(1, length), n_classes=4,
                        seed=i, dtype=torch.float64)
            for i, c in enumerate(cells)
        ]  # fmt: skip

    refs, copies = nets(), nets()
    fast = StackedMatmulNetwork(copies)  # type: ignore[arg-type]
    x = torch.randn(5, 1, length, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for mode in (True, False):
        fast.train(mode)
        out = fast(x)
        for m, ref in enumerate(refs):
            ref.train(mode)
            assert torch.allclose(out[:, m], ref(x), rtol=0, atol=1e-12)
    fast.train()
    for p in fast.parameters():
        p.grad = torch.zeros_like(p)
    fast(x).square().sum().backward()
    for ref in refs:
        ref.train()
        ref(x).square().sum().backward()
    with torch.no_grad():  # export the gradients in place of the weights
        for p in fast.parameters():
            assert p.grad is not None
            p.copy_(p.grad)
    fast.export(copies)  # type: ignore[arg-type]
    for ref, copy in zip(refs, copies, strict=True):
        for (name, pa), pb in zip(ref.named_parameters(), copy.parameters(), strict=True):
            assert pa.grad is not None, name
            assert torch.allclose(pa.grad, pb, rtol=0, atol=1e-10), name
        for (name, ba), bb in zip(ref.named_buffers(), copy.buffers(), strict=True):
            if not name.endswith("num_batches_tracked"):
                assert torch.allclose(ba, bb, rtol=0, atol=1e-12), name


def test_dead_edges_get_weight_decay_as_in_the_reference() -> None:
    """After training, every parameter equals the reference's, dead edges included (node 2
    of the mixed cell reaches the output only through `none`, so its incoming convolution
    gets no gradient): weight decay reached the parameters no gradient reaches."""
    p, data = _setup("float64")
    p = dataclasses.replace(p, epochs=1, weight_decay=0.05)
    cells = [CELLS[3], CELLS[2], CELLS[3]]
    assert CELLS[3].op_names[5] == "none" and CELLS[3].op_names[1] == "nor_conv_3x3"
    stacked = stacked_model(p, cells, 2, data, "cpu")
    train_models(stacked, stacked, len(cells), p, 2, data)
    trained = [reference_model(p, c, 2, data, "cpu") for c in cells]
    stacked.export(trained)
    decayed = 0
    for m, cell in enumerate(cells):
        ref = reference_model(p, cell, 2, data, "cpu")
        start = {name: q.detach().clone() for name, q in ref.named_parameters()}
        train_models(ref, lambda xb, r=ref: r(xb).unsqueeze(1), 1, p, 2, data)
        for (name, a), b in zip(ref.named_parameters(), trained[m].parameters(), strict=True):
            assert torch.allclose(a, b, rtol=0, atol=1e-9), name
            if name.endswith("edges.1.conv.weight"):  # dead: decayed, no gradient
                ratio = a / start[name]  # every element shrinks by the same factor
                ratio = ratio.detach()
                assert float(ratio.max()) < 1 and float(ratio.max() - ratio.min()) < 1e-12
                decayed += 1
    assert decayed == 2 * 3  # two models with the mixed cell, three cell positions


def test_export_refuses_other_cells() -> None:
    nets = [
        build_model(c, channels=2, cells_per_stage=1, input_shape=(1, 12), n_classes=3, seed=0)
        for c in CELLS[:2]
    ]
    fast = StackedMatmulNetwork(nets)
    with pytest.raises(ValueError, match="same cells"):
        fast.export(nets[::-1])


def test_stacked_network_refuses_2d_data() -> None:
    from nasbench_sim.generate.errors import GenerateError

    net = build_model(CELLS[0], channels=2, cells_per_stage=1, input_shape=(1, 8, 8),
                      n_classes=3, seed=0)  # fmt: skip
    with pytest.raises(GenerateError, match="1-D"):
        StackedMatmulNetwork([net])


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "autograd"])
def test_a_models_trajectory_does_not_depend_on_its_stack_mates(ordered: bool) -> None:
    """float32: a cell trained alone by the one-model matmul network and stacked with 1, 3
    or 7 other cells ends with the same weights and BatchNorm statistics, bit for bit, at
    this small protocol (every per-model reduction runs over that model's own contiguous
    rows, and ``bmm`` runs one ``gemm`` per model). With the ordered numerics everywhere; in
    autograd's order only on AVX-512 machines (there, autograd's form of the classifier's
    weight gradient happens to sum in the stacked ``bmm``'s order; on AVX2 it does not), and
    not for every stack at larger protocols (the test below). Only the loss
    metrics may differ in their last bits here: the shared training loop averages the
    ``(batch, M)`` losses over the batch in an order that depends on M."""
    from nasbench_sim.generate.matmul_model import MatmulNetwork

    if not ordered and torch.backends.cpu.get_cpu_capability() != "AVX512":
        pytest.skip("autograd's order matches the stacked network bitwise on AVX-512 only")
    p, data = _setup("float32")
    p = dataclasses.replace(p, epochs=1)
    x = CELLS[3]
    alone = reference_model(p, x, 0, data, "cpu")
    mm = MatmulNetwork(alone, ordered_grads=ordered)
    train_models(mm, lambda xb: mm(xb).unsqueeze(1), 1, p, 0, data)
    expected = [t.detach().clone() for t in [*alone.parameters(), *alone.buffers()]]
    others = [CELLS[0], _other(x), Cell.from_index(9868), Cell.from_index(9869), CELLS[1],
              Cell.from_index(15000), CELLS[2]]  # fmt: skip
    for stack in (
        [x, others[0]],
        [others[1], x, others[2], others[3]],
        [*others[3:], x, *others[:3]],
    ):
        net = stacked_model(p, stack, 0, data, "cpu", ordered_grads=ordered)
        train_models(net, net, len(stack), p, 0, data, rowwise_losses=ordered)
        outs = [reference_model(p, c, 0, data, "cpu") for c in stack]
        net.export(outs)
        got = outs[stack.index(x)]
        for a, b in zip(expected, [*got.parameters(), *got.buffers()], strict=True):
            if a.dim():  # BatchNorm batch counters: not kept by the stacked network
                assert torch.equal(a, b)


@pytest.mark.parametrize("grad_sum", ["ordered", "autograd"])
def test_stacked_chunk_gives_the_matmul_trainers_accuracies(grad_sum: str) -> None:
    """A chunk trained by ``matmul_stacked`` (stacks of ``stack_size`` consecutive cells
    and a shorter tail) has the ``matmul`` trainer's accuracies exactly; its losses too with
    the ordered numerics, to float32 rounding in autograd's order (reduced down a column of
    the ``(batch, M)`` losses)."""
    from nasbench_sim.generate.train_matmul import stack_size
    from nasbench_sim.generate.worker import train_chunk

    p = dataclasses.replace(TINY, dataset="mnist1d", epochs=1, batch_size=64,
                            timing_cells_per_chunk=0)  # fmt: skip
    assert stack_size(p) == 16
    cells = list(range(9860, 9880))  # 20 consecutive cells: a stack of 16 and one of 4
    a = train_chunk(p, cells, [0, 1], "cpu", trainer="matmul_stacked", grad_sum=grad_sum)
    b = train_chunk(p, cells, [0, 1], "cpu", trainer="matmul", grad_sum=grad_sum)
    assert a.info["numerics"]["trainer"] == "matmul_stacked" and a.info["stack_size"] == 16
    assert "stack_size" not in b.info
    for name, values in b.metrics.items():
        if name.endswith("_acc") or grad_sum == "ordered":
            np.testing.assert_array_equal(a.metrics[name], values, err_msg=name)
        else:
            np.testing.assert_allclose(a.metrics[name], values, rtol=1e-6)
    assert np.unique(a.metrics["train_loss"]).size == len(cells) * 2


def test_with_the_ordered_gradient_sum_no_model_depends_on_its_stack_mates() -> None:
    """At the default table's network and batch (C = 8, N = 3, batch 64), three SGD steps of
    build chunk 11's 16 cells stacked leave every model with the weights and BatchNorm
    statistics of the same cell trained alone, bit for bit, when each node's gradients are
    added in edge order; with autograd's order (the build's), some models differ (the
    `stack_mates` benchmark measures it: docs/generator.md, "A cell's stack-mates")."""
    from nasbench_sim.generate.matmul_model import MatmulNetwork
    from tests.generate.test_gen_golden import STACK_MATES, TABLE

    p = dataclasses.replace(TABLE, epochs=1, train_subset=3 * TABLE.batch_size, test_every=1)
    data = load_dataset("mnist1d", seed=0, device="cpu", train_subset=p.train_subset,
                        eval_subset=64, sizes=p.data_sizes)  # fmt: skip
    cells = [Cell.from_index(i) for i in STACK_MATES]
    differ = {}
    for ordered in (True, False):
        net = stacked_model(p, cells, 0, data, "cpu", ordered)
        train_models(net, net, len(cells), p, 0, data)
        outs = [reference_model(p, c, 0, data, "cpu") for c in cells]
        net.export(outs)
        differ[ordered] = []
        for cell, got in zip(cells, outs, strict=True):
            alone = reference_model(p, cell, 0, data, "cpu")
            one = MatmulNetwork(alone, ordered)
            train_models(one, lambda xb, one=one: one(xb).unsqueeze(1), 1, p, 0, data)
            want = [*alone.parameters(), *alone.buffers()]
            if not all(  # the bits, signed zeros included
                torch.equal(a.view(torch.int32), b.view(torch.int32))
                for a, b in zip(want, [*got.parameters(), *got.buffers()], strict=True)
                if a.dim()  # BatchNorm batch counters: not kept by the stacked network
            ):
                differ[ordered].append(cell.index)
    assert differ[True] == []
    assert differ[False], "autograd's order no longer depends on the stack: update the docs"
