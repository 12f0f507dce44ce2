"""The batched trainer reproduces the reference trainer model by model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nasbench_sim.generate import Protocol
from nasbench_sim.generate.datasets import load_dataset
from nasbench_sim.generate.train_batched import batched_model, train_batched
from nasbench_sim.generate.train_reference import reference_model, train_reference
from nasbench_sim.space import Cell
from tests.tiny_protocol import TINY

CELLS = [
    # convolutions with `none` edges (node 1 feeds nothing but node 2)
    Cell.from_str(
        "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    ),
    # pool-heavy
    Cell.from_str(
        "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|skip_connect~1|avg_pool_3x3~2|"
    ),
    # the all-`none` cell: the output node gets no input at all
    Cell.from_names(("none",) * 6),
    # a mixed cell sharing some edge ops with the others (partial op groups per edge)
    Cell.from_str(
        "|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|"
    ),
]


def _setup(name: str, dtype: str) -> tuple[Protocol, object]:
    p = dataclasses.replace(TINY, dataset=name, label_smoothing=0.1, dtype=dtype)
    data = load_dataset(
        name, seed=0, device="cpu", dtype=dtype, train_subset=p.train_subset,
        eval_subset=p.eval_subset,
    )  # fmt: skip
    return p, data


@pytest.mark.parametrize("name", ["mnist1d", "digits"])
def test_initial_batched_logits_equal_each_reference(name: str) -> None:
    p, data = _setup(name, "float64")
    refs = [reference_model(p, c, 3, data, "cpu").eval() for c in CELLS]  # type: ignore[arg-type]
    group = batched_model(p, CELLS, 3, data, "cpu").eval()  # type: ignore[arg-type]
    x = data.valid_x[:16]  # type: ignore[attr-defined]
    with torch.no_grad():
        out = group(x)
        for m, ref in enumerate(refs):
            assert torch.allclose(out[:, m], ref(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["mnist1d", "digits"])
def test_batched_training_equals_reference_training_float64(name: str) -> None:
    """Same seeds, two epochs, float64: every per-epoch metric of every cell agrees to
    1e-9 (observed: ~1e-15; only summation order differs between grouped and plain
    convolutions)."""
    p, data = _setup(name, "float64")
    batched = train_batched(p, CELLS, 5, data, "cpu")  # type: ignore[arg-type]
    for m, cell in enumerate(CELLS):
        ref = train_reference(p, cell, 5, data, "cpu")  # type: ignore[arg-type]
        assert ref.steps == batched.steps == 2 * 3
        for key, curve in ref.metrics.items():
            np.testing.assert_allclose(batched.metrics[key][m], curve[0], rtol=0, atol=1e-9)
    # the curves are not trivially equal across cells (the test would not notice a mix-up)
    assert np.unique(batched.metrics["train_loss"][:, -1]).size == len(CELLS)


def test_batched_training_float32_within_rounding() -> None:
    """float32: rounding differences (grouped vs plain convolution reduction order) stay at
    the 1e-6 level over two tiny epochs; 1e-4 leaves a wide margin while any real mismatch
    (wrong init, wrong op routing, shared gradients) moves losses by >1e-2."""
    p, data = _setup("mnist1d", "float32")
    batched = train_batched(p, CELLS[:2], 1, data, "cpu")  # type: ignore[arg-type]
    for m, cell in enumerate(CELLS[:2]):
        ref = train_reference(p, cell, 1, data, "cpu")  # type: ignore[arg-type]
        for key in ("train_loss", "valid_loss", "test_loss"):
            np.testing.assert_allclose(batched.metrics[key][m], ref.metrics[key][0], atol=1e-4)


def test_training_is_deterministic_and_seed_dependent() -> None:
    p, data = _setup("digits", "float32")
    p = dataclasses.replace(p, epochs=1)
    a = train_batched(p, CELLS[:2], 0, data, "cpu")  # type: ignore[arg-type]
    b = train_batched(p, CELLS[:2], 0, data, "cpu")  # type: ignore[arg-type]
    c = train_batched(p, CELLS[:2], 1, data, "cpu")  # type: ignore[arg-type]
    for key in a.metrics:
        np.testing.assert_array_equal(a.metrics[key], b.metrics[key])
    assert not np.array_equal(a.metrics["train_loss"], c.metrics["train_loss"])


def test_grouping_copies_float64_weights_exactly() -> None:
    """Weights that float32 cannot represent survive the copy into the grouped layout."""
    from nasbench_sim.generate.batched_model import GroupedNetwork
    from nasbench_sim.generate.model import build_model

    refs = [
        build_model(c, channels=4, cells_per_stage=1, input_shape=(1, 40), n_classes=10,
                    seed=i, dtype=torch.float64)
        for i, c in enumerate(CELLS)
    ]  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for r in refs:
            for p in r.parameters():
                p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 1e-9)
    group = GroupedNetwork.from_models(refs).eval()
    x = torch.randn(3, 1, 40, generator=gen, dtype=torch.float64)
    for r in refs:
        r.eval()
    with torch.no_grad():
        out = group(x)
        for m, r in enumerate(refs):
            assert torch.allclose(out[:, m], r(x), rtol=0, atol=1e-14)  # f32 copy: ~1e-8


# -- the matmul trainer (CPU fast path, 1-D data) -------------------------------------------


def test_matmul_training_equals_reference_training_float64() -> None:
    """Every per-epoch metric of every cell (dead edges, all-pool and all-`none` cells
    included) agrees with the reference to 1e-9 in float64 (observed ~1e-15)."""
    from nasbench_sim.generate.train_matmul import train_matmul

    p, data = _setup("mnist1d", "float64")
    for cell in CELLS:
        ref = train_reference(p, cell, 5, data, "cpu")  # type: ignore[arg-type]
        fast = train_matmul(p, cell, 5, data, "cpu")  # type: ignore[arg-type]
        assert ref.steps == fast.steps
        for key, curve in ref.metrics.items():
            np.testing.assert_allclose(fast.metrics[key], curve, rtol=0, atol=1e-9)


def test_matmul_training_float32_within_rounding() -> None:
    from nasbench_sim.generate.train_matmul import train_matmul

    p, data = _setup("mnist1d", "float32")
    for cell in CELLS[:2]:
        ref = train_reference(p, cell, 1, data, "cpu")  # type: ignore[arg-type]
        fast = train_matmul(p, cell, 1, data, "cpu")  # type: ignore[arg-type]
        for key in ("train_loss", "valid_loss", "test_loss"):
            np.testing.assert_allclose(fast.metrics[key], ref.metrics[key], atol=1e-4)


@pytest.mark.parametrize("length", [40, 12, 6])
def test_matmul_network_matches_reference_forward_and_gradients(length: int) -> None:
    """Short lengths (6 -> 3 -> 2) exercise the edge cases of the shifted-tap convolution."""
    from nasbench_sim.generate.matmul_model import MatmulNetwork
    from nasbench_sim.generate.model import build_model

    cell = CELLS[3]
    a = build_model(cell, channels=3, cells_per_stage=2, input_shape=(1, length), n_classes=4,
                    seed=0, dtype=torch.float64)  # fmt: skip
    b = build_model(cell, channels=3, cells_per_stage=2, input_shape=(1, length), n_classes=4,
                    seed=0, dtype=torch.float64)  # fmt: skip
    fast = MatmulNetwork(b)
    x = torch.randn(5, 1, length, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for mode in (True, False):
        a.train(mode)
        fast.train(mode)
        ya, yb = a(x), fast(x)
        assert torch.allclose(ya, yb, rtol=0, atol=1e-12)
    a.train()
    fast.train()
    a(x).square().sum().backward()
    fast(x).square().sum().backward()
    dead = 0
    for (name, pa), pb in zip(a.named_parameters(), b.parameters(), strict=True):
        assert pa.grad is not None, name
        if pb.grad is None:  # an edge no path reaches: the reference's gradient is zero
            assert float(pa.grad.abs().max()) == 0.0, name
            dead += 1
            continue
        assert torch.allclose(pa.grad, pb.grad, rtol=0, atol=1e-10), name
    assert dead > 0  # this cell has a dead edge (node 2 feeds node 3 through `none`)
    for (name, ba), bb in zip(a.named_buffers(), b.buffers(), strict=True):
        assert torch.allclose(ba.double(), bb.double(), rtol=0, atol=1e-12), name


def test_matmul_trainer_refuses_2d_data() -> None:
    from nasbench_sim.generate.errors import GenerateError
    from nasbench_sim.generate.train_matmul import train_matmul

    p, data = _setup("digits", "float32")
    with pytest.raises(GenerateError, match="1-D"):
        train_matmul(p, CELLS[0], 0, data, "cpu")  # type: ignore[arg-type]


def test_flat_parameters_keep_gradients_as_views() -> None:
    """Parameters and their gradients stay views of the two flat buffers through a
    backward pass, so one optimiser step on the buffer updates every parameter."""
    from nasbench_sim.generate._loop import flat_parameters
    from nasbench_sim.generate.model import build_model

    net = build_model(CELLS[0], channels=2, cells_per_stage=1, input_shape=(1, 12),
                      n_classes=3, seed=0)  # fmt: skip
    before = [p.detach().clone() for p in net.parameters()]
    flat = flat_parameters(net)
    assert flat.grad is not None
    for p, b in zip(net.parameters(), before, strict=True):
        assert torch.equal(p, b)
    net(torch.randn(4, 1, 12)).sum().backward()
    assert float(flat.grad.abs().sum()) > 0
    total = 0
    for p in net.parameters():
        assert p.grad is not None
        assert p.grad.untyped_storage().data_ptr() == flat.grad.untyped_storage().data_ptr()
        total += p.numel()
    assert total == flat.numel()
    opt = torch.optim.SGD([flat], lr=0.1)
    opt.step()
    assert not torch.equal(next(net.parameters()), before[0])
