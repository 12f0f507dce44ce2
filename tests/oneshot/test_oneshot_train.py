"""SPOS sampling, GDAS hard sampling, DARTS architecture updates, seeding."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy import stats

from nasbench_sim.generate import Protocol
from nasbench_sim.generate.datasets import dataset_for
from nasbench_sim.oneshot import OneShotError
from nasbench_sim.oneshot.train import (
    OneShotSettings,
    derive_cell,
    gumbel_weights,
    oneshot_accuracy,
    sample_paths,
    train_supernet,
)
from nasbench_sim.space import Cell


def test_spos_sampling_is_uniform_per_edge_and_seeded() -> None:
    paths = sample_paths(np.random.default_rng(0), 5000)
    assert paths.shape == (5000, 6) and paths.min() == 0 and paths.max() == 4
    for k in range(6):
        counts = np.bincount(paths[:, k], minlength=5)
        assert stats.chisquare(counts).pvalue > 1e-3, (k, counts)
    # edges are independent: the joint counts of two edges are uniform over 25 pairs
    pair = np.bincount(paths[:, 0] * 5 + paths[:, 5], minlength=25)
    assert stats.chisquare(pair).pvalue > 1e-3
    np.testing.assert_array_equal(paths, sample_paths(np.random.default_rng(0), 5000))
    assert not np.array_equal(paths, sample_paths(np.random.default_rng(1), 5000))


def test_gdas_weights_are_one_hot_and_follow_softmax_alpha() -> None:
    p = np.array([0.5, 0.2, 0.15, 0.1, 0.05])
    alpha = torch.tensor(np.log(np.tile(p, (6, 1))), dtype=torch.float32, requires_grad=True)
    gen = torch.Generator().manual_seed(0)
    picks = np.zeros((6, 5))
    for i in range(600):
        w = gumbel_weights(alpha, tau=5.0 if i % 2 else 0.2, generator=gen)
        v = w.detach()
        assert torch.equal(v.sum(1), torch.ones(6)) and bool(((v == 0) | (v == 1)).all())
        picks += v.numpy()
    # the Gumbel-max sample is distributed as softmax(alpha), whatever the temperature
    chi = stats.chisquare(picks.sum(0), 3600 * p)
    assert chi.pvalue > 1e-3, picks.sum(0)
    # gradients reach alpha through the relaxation
    w = gumbel_weights(alpha, 1.0, torch.Generator().manual_seed(1))
    (w * torch.arange(5.0)).sum().backward()
    assert alpha.grad is not None and float(alpha.grad.abs().sum()) > 0


def test_derive_cell_takes_the_argmax_op() -> None:
    a = np.zeros((6, 5))
    a[np.arange(6), [3, 1, 4, 0, 2, 3]] = 1.0
    assert derive_cell(a) == Cell((3, 1, 4, 0, 2, 3))
    assert derive_cell(torch.tensor(a)) == Cell((3, 1, 4, 0, 2, 3))


def test_darts_alpha_moves_and_derived_cells_are_valid(tiny: Protocol) -> None:
    data = dataset_for(tiny, "cpu")
    settings = OneShotSettings(arch_lr=0.05)
    trace = train_supernet(tiny, "darts", data, seed=0, settings=settings)
    assert trace.alpha is not None and trace.alpha.shape == (2, 6, 5)
    np.testing.assert_allclose(trace.alpha.sum(-1), 1.0, rtol=1e-6)
    # alpha starts within 1e-3 of uniform; Adam with lr 0.05 moves it well beyond that
    assert np.abs(trace.alpha[-1] - 0.2).max() > 0.005
    assert not np.allclose(trace.alpha[0], trace.alpha[1])
    assert trace.derived.shape == (2,)
    for e, idx in enumerate(trace.derived):
        assert derive_cell(trace.alpha[e]) == Cell.from_index(int(idx))
    assert ((trace.supernet_valid_acc >= 0) & (trace.supernet_valid_acc <= 1)).all()
    assert trace.op_counts.sum() == 0  # DARTS runs every op; nothing is sampled
    again = train_supernet(tiny, "darts", data, seed=0, settings=settings)
    np.testing.assert_array_equal(trace.alpha, again.alpha)  # same seed, same trajectory
    other = train_supernet(tiny, "darts", data, seed=1, settings=settings)
    assert not np.array_equal(trace.alpha, other.alpha)


def test_gdas_and_spos_sample_one_op_per_edge_per_step(tiny: Protocol) -> None:
    proto = dataclasses.replace(tiny, epochs=3)
    data = dataset_for(proto, "cpu")
    gdas = train_supernet(proto, "gdas", data, seed=0, settings=OneShotSettings(arch_lr=0.05))
    spos = train_supernet(proto, "spos", data, seed=0)
    for trace in (gdas, spos):
        assert trace.steps == 9
        np.testing.assert_array_equal(trace.op_counts.sum(1), np.full(6, 9))
    np.testing.assert_allclose(gdas.tau, [10.0, 5.05, 0.1])  # linear decay tau_max -> tau_min
    assert gdas.alpha is not None and not np.allclose(gdas.alpha[-1], 0.2, atol=1e-4)
    again = train_supernet(proto, "spos", data, seed=0)
    np.testing.assert_array_equal(spos.op_counts, again.op_counts)
    np.testing.assert_array_equal(spos.supernet_valid_acc, again.supernet_valid_acc)


def test_oneshot_accuracy_leaves_the_model_alone_and_is_deterministic(tiny: Protocol) -> None:
    data = dataset_for(tiny, "cpu")
    model = train_supernet(tiny, "spos", data, seed=0).model
    state = {k: v.clone() for k, v in model.state_dict().items()}
    cells = [0, 1234, 15624]
    acc = oneshot_accuracy(model, cells, data, tiny, bn_batches=2)
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    np.testing.assert_array_equal(acc, oneshot_accuracy(model, cells, data, tiny, bn_batches=2))
    assert ((acc >= 0) & (acc <= 1)).all()
    # the all-`none` cell sees a constant input to the head: chance-level at best
    assert acc[0] <= 0.25


def test_bad_method_and_settings_raise_typed_errors(tiny: Protocol) -> None:
    data = dataset_for(tiny, "cpu")
    with pytest.raises(OneShotError, match="valid methods: spos, darts, gdas"):
        train_supernet(tiny, "enas", data)
    with pytest.raises(OneShotError, match="tau_min"):
        OneShotSettings(tau_min=2.0, tau_max=1.0)
