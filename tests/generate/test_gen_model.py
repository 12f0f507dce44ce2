"""The NAS-Bench-201 network: shapes in 1-D and 2-D, dead cells, parameter and FLOP counts."""

from __future__ import annotations

import pytest
import torch

from nasbench_sim.generate.costs import count_flops, count_params
from nasbench_sim.generate.model import build_model
from nasbench_sim.space import Cell, get_space

ALL_NONE = Cell.from_names(("none",) * 6)


def _net(cell: Cell, shape: tuple[int, ...], c: int = 4, n: int = 1, seed: int = 0):
    return build_model(
        cell, channels=c, cells_per_stage=n, input_shape=shape, n_classes=10, seed=seed
    )


@pytest.mark.parametrize("shape", [(1, 40), (1, 8, 8), (3, 16, 16)])
def test_forward_shapes(shape: tuple[int, ...]) -> None:
    net = _net(Cell.from_index(9876), shape, n=2)
    out = net(torch.randn(5, *shape))
    assert tuple(out.shape) == (5, 10)
    assert torch.isfinite(out).all()
    # three stages: 2 cells, reduction, 2 cells, reduction, 2 cells
    assert len(net.blocks) == 2 * 3 + 2


def test_all_none_cell_runs_and_ignores_its_input() -> None:
    net = _net(ALL_NONE, (1, 40)).eval()
    out = net(torch.randn(7, 1, 40))
    assert tuple(out.shape) == (7, 10)
    assert torch.allclose(out, out[:1].expand_as(out))  # information cannot flow through
    net.train()
    loss = net(torch.randn(7, 1, 40)).logsumexp(1).mean()
    loss.backward()  # still trainable (the head and post-cell layers)
    assert net.classifier.bias.grad is not None


def test_parameter_count_relationships() -> None:
    base = ("skip_connect", "nor_conv_3x3", "avg_pool_3x3", "none", "nor_conv_1x1", "skip_connect")
    c, n = 4, 2
    for shape, k2 in (((1, 40), 3), ((1, 8, 8), 9)):
        params = {}
        for op in ("none", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3"):
            names = (op, *base[1:])
            params[op] = count_params(_net(Cell.from_names(names), shape, c, n))
        # parameter-free ops cost the same
        assert params["none"] == params["skip_connect"] == params["avg_pool_3x3"]
        # a conv edge adds w*w*k weights + 2w BN params per cell, stages w = C, 2C, 4C
        widths = (c, 2 * c, 4 * c)
        assert params["nor_conv_1x1"] - params["none"] == n * sum(w * w + 2 * w for w in widths)
        assert params["nor_conv_3x3"] - params["nor_conv_1x1"] == n * sum(
            w * w * (k2 - 1) for w in widths
        )


def test_flops_count_matches_analytic_difference() -> None:
    c = 4
    a = Cell.from_names(("nor_conv_1x1",) + ("none",) * 5)
    b = Cell.from_names(("nor_conv_3x3",) + ("none",) * 5)
    fa = count_flops(_net(a, (1, 8, 8), c), (1, 8, 8))
    fb = count_flops(_net(b, (1, 8, 8), c), (1, 8, 8))
    # 2 FLOPs per MAC; stage sizes 8x8, 4x4, 2x2 with widths C, 2C, 4C; 3x3 vs 1x1: 8 more taps
    expected = sum(2 * 8 * w * w * hw for w, hw in ((c, 64), (2 * c, 16), (4 * c, 4)))
    assert fb - fa == expected


def test_cells_of_one_class_compute_the_same_function() -> None:
    """Node 1 is dead (both its out-edges are ``none``), so the op on edge 0 cannot matter:
    the two cells share a class, and with the shared weights equal their outputs are equal."""
    space = get_space("nb201")
    live = ("skip_connect", "none", "nor_conv_1x1", "none", "avg_pool_3x3")
    x = Cell.from_names(("nor_conv_3x3", *live))
    y = Cell.from_names(("skip_connect", *live))
    assert space.class_ids()[x.index] == space.class_ids()[y.index]
    nx, ny = _net(x, (1, 40), n=2, seed=1), _net(y, (1, 40), n=2, seed=2)
    shared = {k: v for k, v in nx.state_dict().items() if k in ny.state_dict()}
    assert len(shared) < len(nx.state_dict())  # x has the dead conv's weights on top
    ny.load_state_dict(shared)
    inp = torch.randn(6, 1, 40)
    assert torch.allclose(nx(inp), ny(inp), atol=1e-6)
    assert count_params(nx) > count_params(ny)  # params count what is built, dead or not


def test_initialisation_is_seeded_not_global() -> None:
    cell = Cell.from_index(4321)
    torch.manual_seed(0)
    a = _net(cell, (1, 40), seed=7)
    torch.manual_seed(99)
    b = _net(cell, (1, 40), seed=7)
    c = _net(cell, (1, 40), seed=8)
    wa, wb, wc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(wa, wb)
    assert not torch.equal(wa, wc)
