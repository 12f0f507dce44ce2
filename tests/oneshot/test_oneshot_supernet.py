"""The super-network shares real weights: a fixed path computes the stand-alone network."""

from __future__ import annotations

import functools

import pytest
import torch

from nasbench_sim.generate import Protocol
from nasbench_sim.generate.datasets import dataset_for
from nasbench_sim.generate.model import NB201Network
from nasbench_sim.oneshot.supernet import build_supernet, path_weights
from nasbench_sim.oneshot.train import train_supernet
from nasbench_sim.space import Cell

CELLS = [Cell.from_index(i) for i in (0, 1234, 6000, 9999, 15624, 3 * 3125 + 2 * 625 + 3)]


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_fixed_path_equals_standalone_network(tiny: Protocol, mode: str) -> None:
    data = dataset_for(tiny, "cpu")
    sup = train_supernet(tiny, "spos", data, seed=3).model  # trained: weights and BN stats moved
    x = data.valid_x[:16]
    for cell in CELLS:
        net = sup.standalone(cell)
        assert isinstance(net, NB201Network) and net.cell == cell
        getattr(sup, mode)()
        getattr(net, mode)()
        with torch.no_grad():
            torch.testing.assert_close(sup(x, path_weights(cell)), net(x), rtol=0, atol=1e-6)


def test_cells_sharing_an_op_share_its_weights(tiny: Protocol) -> None:
    sup = build_supernet(channels=4, cells_per_stage=1, input_shape=(1, 8, 8), n_classes=10, seed=0)
    a = Cell((3, 3, 1, 2, 0, 4))
    b = Cell((3, 2, 2, 3, 1, 4))  # same op as `a` on edges 0 and 5 (conv3x3, pool)
    na, nb = sup.standalone(a), sup.standalone(b)
    for blk in (0, 2, 4):  # the cell positions of N=1
        wa = na.blocks[blk].edges[0].conv.weight
        wb = nb.blocks[blk].edges[0].conv.weight
        torch.testing.assert_close(wa, wb, rtol=0, atol=0)
    # different ops on edge 1 -> different weights (both conv)
    assert not torch.equal(
        na.blocks[0].edges[1].conv.weight, sup.blocks[0].edges[1].ops[2].conv.weight
    )


def test_a_step_updates_only_the_path(tiny: Protocol) -> None:
    """Gradient steps on one path move that path's op weights and leave the others alone."""
    sup = build_supernet(channels=4, cells_per_stage=1, input_shape=(1, 8, 8), n_classes=10, seed=1)
    cell = Cell((3, 2, 3, 2, 3, 3))
    before = {k: v.clone() for k, v in sup.state_dict().items()}
    opt = torch.optim.SGD(sup.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(8) % 10
    opt.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(sup(x, path_weights(cell)), y).backward()
    opt.step()
    after = sup.state_dict()
    for k in range(6):
        for o in (2, 3):
            key = f"blocks.0.edges.{k}.ops.{o}.conv.weight"
            moved = not torch.equal(before[key], after[key])
            assert moved == (cell.ops[k] == o), key


def test_mixed_weights_are_the_weighted_sum_of_ops() -> None:
    """A DARTS-style mix on edge 0->3 (the only edge not set to ``none``) is the weighted sum
    of the ops' outputs (BN in eval mode, so each op is a fixed function)."""
    sup = build_supernet(channels=4, cells_per_stage=1, input_shape=(1, 8, 8), n_classes=10, seed=2)
    sup.eval()
    x = torch.randn(4, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    skip, conv = Cell((0, 0, 0, 1, 0, 0)), Cell((0, 0, 0, 3, 0, 0))
    w = 0.3 * path_weights(skip) + 0.7 * path_weights(conv)
    block = sup.blocks[0]
    with torch.no_grad():
        mixed = block(x, w)
        expect = 0.3 * block(x, path_weights(skip)) + 0.7 * block(x, path_weights(conv))
        torch.testing.assert_close(block(x, path_weights(skip)), x, rtol=0, atol=0)
    torch.testing.assert_close(mixed, expect, rtol=1e-6, atol=1e-6)
    assert not torch.allclose(mixed, x)


def test_a_one_hot_path_skips_the_product_by_one_bit_for_bit(tiny: Protocol) -> None:
    """An edge whose one op has weight exactly 1 and no gradient returns the op's output (a
    product by 1.0 is exact): logits and parameter gradients are the same bits as with every
    edge multiplied by its weight; mixed or differentiable weights keep the product."""
    from nasbench_sim.oneshot import supernet

    data = dataset_for(tiny, "cpu")
    sup = train_supernet(tiny, "spos", data, seed=3).model
    x, y = data.train_x[:16], data.train_y[:16]
    w = path_weights(CELLS[3])
    plan = supernet._active_ops(w)
    assert plan == list(CELLS[3].ops)  # bare op ids: the product skipped on every edge
    assert all(isinstance(a, list) for a in supernet._active_ops(w.clone().requires_grad_()))
    assert isinstance(supernet._active_ops(0.5 * w)[0], list)
    assert supernet._active_ops(w, skip_unit=False) == [[o] for o in CELLS[3].ops]

    def run(every_edge_times_weight: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if every_edge_times_weight:
            sup_ops = supernet._active_ops
            supernet._active_ops = functools.partial(sup_ops, skip_unit=False)
        try:
            sup.zero_grad()
            sup.eval()  # BN statistics unchanged: both runs see the same network
            out = sup(x, w)
            torch.nn.functional.cross_entropy(out, y).backward()
            return out.detach(), [p.grad.clone() for p in sup.parameters() if p.grad is not None]
        finally:
            if every_edge_times_weight:
                supernet._active_ops = sup_ops

    (a, ga), (b, gb) = run(False), run(True)
    assert torch.equal(a, b) and len(ga) == len(gb) > 0
    assert all(torch.equal(g, h) for g, h in zip(ga, gb, strict=True))
