"""The /oneshot group round-trips; gap statistics are right on planted cases."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.oneshot import (
    OneShotError,
    OneShotRecord,
    gap_report,
    list_oneshot,
    parameter_free_fraction,
    precision_at_k,
    rank_gap,
    read_oneshot,
    seed_spread,
    spread,
    standalone_accuracy,
    standalone_percentile,
    write_oneshot,
)
from nasbench_sim.oneshot.plots import plot_gap_scatter, plot_trajectory
from nasbench_sim.space import Cell
from nasbench_sim.table import read_table


def _spos(arch: np.ndarray, valid: np.ndarray, seed: int = 0) -> OneShotRecord:
    return OneShotRecord(
        method="spos",
        seed=seed,
        arch_index=arch,
        valid_acc=valid,
        supernet_valid_acc=np.array([0.3, 0.4]),
        protocol={"dataset": "digits", "epochs": 2},
        cost={"wall_s": 12.5, "epochs": 2, "steps": 6, "device": "cpu"},
        settings={"bn_batches": 4},
    )


def _darts(seed: int = 0) -> OneShotRecord:
    alpha = np.full((3, 6, 5), 0.2)
    alpha[2, :, 1] = 0.6
    alpha[2, :, [0, 2, 3, 4]] = 0.1
    return OneShotRecord(
        method="darts",
        seed=seed,
        arch_index=np.array(
            [Cell((3,) * 6).index, Cell((3, 3, 1, 1, 3, 3)).index, Cell((1,) * 6).index]
        ),
        valid_acc=np.array([0.5, 0.6, 0.2]),
        supernet_valid_acc=np.array([0.4, 0.5, 0.3]),
        alpha=alpha,
        standalone_valid_acc=np.array([0.8, 0.7, np.nan]),
        standalone_test_acc=np.array([0.79, 0.71, np.nan]),
        cost={"wall_s": 3.0},
    )


def test_group_round_trips_and_the_table_still_reads(tiny_table_path: Path) -> None:
    t = read_table(tiny_table_path)
    rec = _spos(t.arch_index, np.linspace(0, 1, t.n_cells))
    write_oneshot(tiny_table_path, rec)
    write_oneshot(tiny_table_path, _darts(seed=2))
    back = read_oneshot(tiny_table_path, "spos", 0)
    np.testing.assert_array_equal(back.arch_index, rec.arch_index)
    np.testing.assert_array_equal(back.valid_acc, rec.valid_acc)
    np.testing.assert_array_equal(back.supernet_valid_acc, rec.supernet_valid_acc)
    assert back.cost == rec.cost and back.protocol == rec.protocol and back.alpha is None
    assert "h5py" in back.software and back.created
    d = read_oneshot(tiny_table_path, "darts", 2)
    assert d.alpha is not None and d.alpha.shape == (3, 6, 5)
    np.testing.assert_array_equal(d.standalone_valid_acc, _darts().standalone_valid_acc)
    assert list_oneshot(tiny_table_path) == [("darts", 2), ("spos", 0)]
    # read_table ignores the unknown group; the table data are unchanged
    t2 = read_table(tiny_table_path)
    np.testing.assert_array_equal(t2.metrics["valid_acc"], t.metrics["valid_acc"])
    with h5py.File(tiny_table_path) as f:  # plain h5py finds the documented layout
        assert f["oneshot/spos/seed_0/valid_acc"].shape == (t.n_cells,)
        assert f["oneshot/spos/seed_0"].attrs["method"] == "spos"
    # rewriting replaces the group, and leaves no temp file behind
    write_oneshot(tiny_table_path, _spos(t.arch_index[:3], np.zeros(3)))
    assert read_oneshot(tiny_table_path, "spos", 0).arch_index.shape == (3,)
    assert _beside(tiny_table_path) == [f".{tiny_table_path.name}.lock", tiny_table_path.name]


def test_missing_groups_and_bad_records_raise(tiny_table_path: Path) -> None:
    with pytest.raises(OneShotError, match="groups present: none"):
        read_oneshot(tiny_table_path, "spos", 0)
    with pytest.raises(OneShotError, match="valid methods"):
        read_oneshot(tiny_table_path, "enas", 0)
    with pytest.raises(OneShotError, match="equal length"):
        write_oneshot(tiny_table_path, _spos(np.arange(3), np.zeros(4)))
    bad = OneShotRecord("darts", 0, np.arange(2), np.zeros(2), np.zeros(2))
    with pytest.raises(OneShotError, match="alpha"):
        write_oneshot(tiny_table_path, bad)
    with pytest.raises(FileNotFoundError):
        write_oneshot(tiny_table_path.parent / "nope.h5", _spos(np.arange(2), np.zeros(2)))


def test_gap_tau_is_high_for_a_faithful_score_and_null_for_a_shuffled_one(
    synthetic_bench: TabularBenchmark,
) -> None:
    arch = synthetic_bench.table.arch_index
    truth = standalone_accuracy(synthetic_bench, arch)
    np.testing.assert_allclose(truth, synthetic_bench.search_mean[:, -1, 3])
    rng = np.random.default_rng(0)
    noisy = truth + rng.normal(0, 0.002, truth.size)
    good = gap_report(_spos(arch, noisy), truth, ks=(10, 50, 100, 0.05))
    assert good.kendall_tau > 0.85 and good.spearman_rho > 0.95
    assert good.n_cells == arch.size and good.n_top == int(np.ceil(0.1 * arch.size))
    assert set(good.precision) == {10, 50, 100, round(0.05 * arch.size)}
    assert good.precision[100] > 0.5
    shuffled = gap_report(_spos(arch, rng.permutation(noisy)), truth)
    assert abs(shuffled.kendall_tau) < 0.05 and abs(shuffled.spearman_rho) < 0.07
    assert shuffled.precision[100] < 0.1
    flipped = gap_report(_spos(arch, -truth), truth)
    assert flipped.kendall_tau < -0.99 and flipped.top_kendall_tau < -0.99
    # where the one-shot pick lands: the best cell (faithful score), the worst (flipped)
    assert good.pick_standalone == pytest.approx(truth.max(), abs=0.005)
    assert good.pick_percentile > 99
    assert flipped.pick_standalone == truth.min()
    assert flipped.pick_percentile == pytest.approx(100 * np.mean(truth == truth.min()))


def test_pick_percentile_counts_ties_and_skips_nan() -> None:
    truth = np.array([0.5, 0.9, 0.7, 0.7, np.nan, 0.1])
    score = np.array([0.0, 0.1, 0.8, 0.8, 0.99, 0.2])  # the NaN pair is left out; first of ties
    rep = rank_gap("spos", 0, score, truth, ks=(2,))
    assert rep.pick_standalone == 0.7 and rep.pick_percentile == pytest.approx(80.0)  # 4 of 5
    assert rep.to_dict()["pick_percentile"] == rep.pick_percentile
    got = standalone_percentile(truth, np.array([0.9, 0.05, np.nan]))
    np.testing.assert_allclose(got, [100.0, 0.0, np.nan])
    assert np.isnan(standalone_percentile(np.array([np.nan]), np.array([0.5]))).all()


def test_precision_fraction_and_spread() -> None:
    score = np.array([5.0, 4, 3, 2, 1, 0])
    truth = np.array([5.0, 4, 0, 1, 2, 3])
    assert precision_at_k(score, truth, 2) == 1.0
    assert precision_at_k(score, truth, 3) == pytest.approx(2 / 3)
    with pytest.raises(OneShotError, match=r"1\.\.6"):
        precision_at_k(score, truth, 7)
    cells = [Cell((3,) * 6).index, Cell((0, 1, 4, 2, 3, 3)).index, 0]
    np.testing.assert_allclose(parameter_free_fraction(np.array(cells)), [0.0, 0.5, 1.0])
    variants = (score, truth + 0.1, score[::-1])  # three "seeds": tau 0.2, 1, -0.2
    reps = [gap_report(_spos(np.arange(6), v, seed=i), truth) for i, v in enumerate(variants)]
    sp = seed_spread(reps)
    taus = [r.kendall_tau for r in reps]
    assert sp["kendall_tau"]["mean"] == pytest.approx(np.mean(taus))
    assert sp["kendall_tau"]["std"] == pytest.approx(np.std(taus, ddof=1))
    assert sp["kendall_tau"]["n_seeds"] == 3
    assert sp["kendall_tau"]["max"] == pytest.approx(1.0)
    assert sp["kendall_tau"]["std"] > 0.5
    # the pick's percentile: score and truth+0.1 pick cell 0 (100th), reversed score cell 5
    assert [r.pick_percentile for r in reps] == pytest.approx([100.0, 100.0, 100 * 4 / 6])
    assert sp["pick_percentile"]["mean"] == pytest.approx(np.mean([100, 100, 400 / 6]))


def test_plots_write_pngs(tmp_path: Path) -> None:
    truth = np.linspace(0.5, 0.9, 40)
    rec = _spos(np.arange(40), truth + np.random.default_rng(1).normal(0, 0.05, 40))
    rep = gap_report(rec, truth)
    png = plot_gap_scatter(rec, truth, rep, tmp_path / "a" / "gap.png")
    traj = plot_trajectory(_darts(), tmp_path / "traj.png")
    for p in (png, traj):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000


def test_the_gap_scatter_names_its_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    titles: list[str] = []
    real = Figure.savefig

    def spy(fig, *a, **k):  # type: ignore[no-untyped-def]
        titles.append(fig.axes[0].get_title())
        return real(fig, *a, **k)

    monkeypatch.setattr(Figure, "savefig", spy)
    truth = np.linspace(0.5, 0.9, 40)
    rec = _spos(np.arange(40), truth)
    rep = gap_report(rec, truth)
    plot_gap_scatter(rec, truth, rep, tmp_path / "a.png", table="T.h5")
    plot_gap_scatter(rec, truth, rep, tmp_path / "b.png", synthetic=True, table="S.h5")
    assert titles[0].endswith("\ntable T.h5") and titles[1].endswith("\nSYNTHETIC table S.h5")


def test_a_write_that_fails_midway_leaves_the_table_as_it_was(
    tiny_table_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nasbench_sim.oneshot import store

    t = read_table(tiny_table_path)
    write_oneshot(tiny_table_path, _darts(seed=1))
    before = tiny_table_path.read_bytes()

    def boom() -> dict[str, str]:  # called after the datasets are written, before the rename
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "software_versions", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_oneshot(tiny_table_path, _spos(t.arch_index, np.zeros(t.n_cells)))
    assert tiny_table_path.read_bytes() == before
    assert _beside(tiny_table_path) == [f".{tiny_table_path.name}.lock", tiny_table_path.name]
    assert list_oneshot(tiny_table_path) == [("darts", 1)]


def _beside(path: Path) -> list[str]:
    """Every file in the table's folder: the table and the writers' lock, no temp file."""
    return sorted(p.name for p in path.parent.iterdir())


def _slow_software() -> dict[str, str]:
    time.sleep(0.3)  # inside the write: writers that did not take turns would overlap here
    return {"h5py": "test"}


def _write_seed(path: str, seed: int, barrier: Any) -> None:
    barrier.wait()
    write_oneshot(path, _spos(np.arange(2000), np.linspace(0, 1, 2000), seed=seed))


def test_concurrent_writers_keep_every_group_and_readers_are_not_blocked(
    tiny_table_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing as mp

    from nasbench_sim.oneshot import store

    monkeypatch.setattr(store, "software_versions", _slow_software)  # inherited by fork
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(4)
    procs = [
        ctx.Process(target=_write_seed, args=(str(tiny_table_path), s, barrier)) for s in range(4)
    ]
    for p in procs:
        p.start()
    t0 = time.perf_counter()
    time.sleep(0.1)
    # while the writers take turns (about 4 x 0.3 s), the table reads as usual
    reads = 0
    while any(p.is_alive() for p in procs) and time.perf_counter() - t0 < 60:
        read_table(tiny_table_path)
        list_oneshot(tiny_table_path)
        reads += 1
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert reads >= 3
    assert time.perf_counter() - t0 >= 4 * 0.3  # they took turns
    assert list_oneshot(tiny_table_path) == [("spos", s) for s in range(4)]
    assert _beside(tiny_table_path) == [f".{tiny_table_path.name}.lock", tiny_table_path.name]


def test_malformed_groups_raise_typed_errors(tiny_table_path: Path) -> None:
    write_oneshot(tiny_table_path, _spos(np.arange(3), np.zeros(3)))
    with h5py.File(tiny_table_path, "a") as f:
        del f["oneshot/spos/seed_0/valid_acc"]
        f.create_group("oneshot/spos/seed_x")  # not a seed: ignored by the listing
    assert list_oneshot(tiny_table_path) == [("spos", 0)]
    with pytest.raises(OneShotError, match="lacks valid_acc"):
        read_oneshot(tiny_table_path, "spos", 0)


def test_spread_counts_finite_values_only() -> None:
    s = spread([0.2, float("nan"), 0.4])
    assert s["n_seeds"] == 2 and s["mean"] == pytest.approx(0.3)
    assert s["std"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    one = spread([0.5, float("nan")])
    assert one["std"] == 0.0 and one["min"] == one["max"] == 0.5
    assert np.isnan(spread([float("nan")])["mean"])
    # a small top-k fraction of few cells still asks for at least one cell
    truth = np.arange(10.0)
    rep = gap_report(_spos(np.arange(10), truth), truth, ks=(0.01,))
    assert rep.precision == {1: 1.0}
