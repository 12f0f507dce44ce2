"""Successive halving and Hyperband: Li et al.'s schedule, promotions by rung accuracy,
continuation charging, asynchrony, reproducibility, and search quality."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import Budget, Result, TabularBenchmark
from nasbench_sim.search import create, run
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.search.hyperband import (
    Hyperband,
    SuccessiveHalving,
    hyperband_schedule,
)
from nasbench_sim.search.reinforce import StrategyConfigError
from nasbench_sim.space import NB201Space


def _full_time(bench: TabularBenchmark) -> float:
    return float(np.median(bench.table.cost["train_time_s"])) * bench.n_epochs


def test_schedule_matches_li_et_al_table_1() -> None:
    got = [[(r.n, r.epochs) for r in b] for b in hyperband_schedule(81, eta=3)]
    assert got == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]


def test_schedule_with_a_larger_smallest_rung_and_eta_2() -> None:
    # R = 81 / 9 = 9 units of 9 epochs: s_max = 2
    got = [[(r.n, r.epochs) for r in b] for b in hyperband_schedule(81, eta=3, min_epochs=9)]
    assert got == [[(9, 9), (3, 27), (1, 81)], [(5, 27), (1, 81)], [(3, 81)]]
    brackets = hyperband_schedule(16, eta=2)
    assert [b[0].n for b in brackets] == [16, 10, 7, 5, 5]
    assert [r.epochs for r in brackets[0]] == [1, 2, 4, 8, 16]
    for b in brackets:  # every bracket ends at the full budget, epochs strictly increase
        assert b[-1].epochs == 16
        assert all(x.epochs < y.epochs for x, y in itertools.pairwise(b))


class _Recording(Strategy):
    """Wraps a strategy and keeps every (proposal, result) pair it was told."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner.space, inner.n_epochs, 0)
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.told: list[tuple[Proposal, Result]] = []

    def ask(self) -> Proposal:
        p: Proposal = self.inner.ask()
        return p

    def tell(self, proposal: Proposal, result: Result) -> None:
        self.told.append((proposal, result))
        self.inner.tell(proposal, result)


def _check_promotions(rec: _Recording, eta: int) -> int:
    """Every decided rung promoted exactly its top ``n / eta`` by rung accuracy."""
    rungs: dict[tuple[int, int], dict[int, float]] = {}
    for p, r in rec.told:
        bid, rung, _ = p.tag
        rungs.setdefault((bid, rung), {})[r.index] = r.valid_acc
    promoted = {(bid, rung): idx for bid, rung, idx in rec.inner.promotions}
    assert promoted
    for (bid, rung), idx in promoted.items():
        scores = rungs[(bid, rung)]
        assert len(idx) == len(scores) // eta
        top = sorted(scores, key=lambda i: -scores[i])[: len(idx)]
        assert sorted(idx) == sorted(top)
        assert set(rungs.get((bid, rung + 1), {})) <= set(idx)
    return len(promoted)


@pytest.mark.parametrize("n_workers", [1, 4])
def test_successive_halving_promotes_the_top_third(
    n_workers: int, synthetic_bench: TabularBenchmark
) -> None:
    sh = SuccessiveHalving(synthetic_bench.space, synthetic_bench.n_epochs, seed=3)
    assert [(r.n, r.epochs) for r in sh.rungs] == [(9, 1), (3, 4), (1, 12)]
    rec = _Recording(sh)
    log = run(rec, synthetic_bench, Budget(queries=130), seed=3, n_workers=n_workers).log
    assert _check_promotions(rec, 3) >= 18
    assert set(log["epoch"]) == {1, 4, 12}
    # a cell is never asked for the same fidelity twice
    assert not log.duplicated(["index", "epoch"]).any()


def test_hyperband_cycles_brackets_in_order(synthetic_bench: TabularBenchmark) -> None:
    hb = Hyperband(synthetic_bench.space, synthetic_bench.n_epochs, seed=0)
    one_cycle = [r.epochs for b in hb.schedule for r in b for _ in range(r.n)]
    assert len(one_cycle) == 13 + 6 + 3
    rec = _Recording(hb)
    log = run(rec, synthetic_bench, Budget(queries=2 * len(one_cycle)), seed=0).log
    assert log["epoch"].tolist() == one_cycle * 2
    assert hb.n_brackets == 6
    _check_promotions(rec, 3)


def test_continuations_are_charged_incrementally(synthetic_bench: TabularBenchmark) -> None:
    budget = Budget(queries=130)  # ten full brackets of 9 -> 3 -> 1
    cheap = run("successive_halving", synthetic_bench, budget, seed=1).log
    dear = run("successive_halving", synthetic_bench, budget, seed=1, charge_repeats=True).log
    assert cheap["index"].equals(dear["index"])  # same decisions, only the clock differs
    per_epoch = dear["cost"] / dear["epoch"]
    # a promotion 1 -> 4 epochs costs 3 epochs, 4 -> 12 costs 8
    paid_epochs = (cheap["cost"] / per_epoch).round(6)
    expected = cheap["epoch"].map({1: 1, 4: 3, 12: 8})
    np.testing.assert_allclose(paid_epochs, expected)
    assert cheap["cost"].sum() < dear["cost"].sum()
    # and far cheaper than training every cell it looked at fully
    every_cell_fully = (per_epoch * synthetic_bench.n_epochs)[cheap["epoch"] == 1].sum()
    assert cheap["cost"].sum() < 0.4 * every_cell_fully


@pytest.mark.parametrize("name", ["hyperband", "successive_halving"])
def test_same_seed_same_trajectory_async(name: str, synthetic_bench: TabularBenchmark) -> None:
    budget = Budget(time_s=30 * _full_time(synthetic_bench))
    a = run(name, synthetic_bench, budget, seed=8, n_workers=4).log
    b = run(name, synthetic_bench, budget, seed=8, n_workers=4).log
    c = run(name, synthetic_bench, budget, seed=9, n_workers=4).log
    cols = ["index", "epoch", "finish", "worker"]
    assert a[cols].equals(b[cols])
    assert not a["index"].equals(c["index"])


class _CountingOpen(_Recording):
    """Also records how many brackets are open after each ask."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.open_after_ask: list[int] = []

    def ask(self) -> Proposal:
        p: Proposal = self.inner.ask()
        self.open_after_ask.append(self.inner.diagnostics()["open_brackets"])
        return p


@pytest.mark.parametrize("n_workers", [1, 4])
def test_a_waiting_rung_opens_the_next_bracket(
    n_workers: int, synthetic_bench: TabularBenchmark
) -> None:
    hb = create("hyperband", synthetic_bench.space, synthetic_bench.n_epochs, seed=2)
    rec = _CountingOpen(hb)
    limit = 40 * _full_time(synthetic_bench)
    log = run(rec, synthetic_bench, Budget(time_s=limit), seed=2, n_workers=n_workers).log
    if n_workers == 1:
        assert max(rec.open_after_ask) == 1  # sequential: plain Hyperband, one bracket at a time
    else:
        assert max(rec.open_after_ask) >= 2  # rungs waiting on results did not block workers
        assert max(rec.open_after_ask) <= n_workers  # each open bracket has work in flight
    assert len(log) == len(rec.told)
    _check_promotions(rec, 3)


@pytest.mark.parametrize("name", ["hyperband", "successive_halving"])
def test_beats_random_search(name: str, synthetic_bench: TabularBenchmark) -> None:
    budget = Budget(time_s=100 * _full_time(synthetic_bench))

    def mean_regret(name: str) -> float:
        return float(
            np.mean([run(name, synthetic_bench, budget, seed=s).final_regret for s in range(20)])
        )

    assert mean_regret(name) < mean_regret("random")


def test_bad_arguments() -> None:
    space = NB201Space()
    with pytest.raises(StrategyConfigError, match="eta"):
        Hyperband(space, 12, eta=1)
    with pytest.raises(StrategyConfigError, match="min_epochs"):
        SuccessiveHalving(space, 12, min_epochs=13)
    with pytest.raises(StrategyConfigError, match="n must"):
        SuccessiveHalving(space, 12, n=0)
    with pytest.raises(StrategyConfigError):
        hyperband_schedule(12, eta=3, min_epochs=0)


class _AshaCheck(_Recording):
    """At every ASHA promotion, checks the rule against the results told so far."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.checked = 0

    def ask(self) -> Proposal:
        p: Proposal = self.inner.ask()
        member, rung = p.tag
        if rung > 0:
            below = {q.tag[0]: r.valid_acc for q, r in self.told if q.tag[1] == rung - 1}
            top = sorted(below, key=lambda m: (-below[m], m))[: len(below) // self.inner.eta]
            assert member in top  # in the top 1/eta of its rung's results at this moment
            assert p.epochs == self.inner.rung_epochs[rung]
            self.checked += 1
        return p


@pytest.mark.parametrize("n_workers", [1, 4])
def test_asha_promotes_from_the_current_top_and_never_idles(
    n_workers: int, synthetic_bench: TabularBenchmark
) -> None:
    asha = create("asha", synthetic_bench.space, synthetic_bench.n_epochs, seed=5)
    assert asha.rung_epochs == (1, 4, 12)
    rec = _AshaCheck(asha)
    limit = 60 * _full_time(synthetic_bench)
    log = run(rec, synthetic_bench, Budget(time_s=limit), seed=5, n_workers=n_workers).log
    assert rec.checked >= 20 and len(asha.promotions) == rec.checked
    assert set(log["epoch"]) == {1, 4, 12}
    assert not log.duplicated(["index", "epoch"]).any()  # each cell once per rung
    # about 1/eta of a rung reaches the next (a little more: a promoted cell that later falls
    # out of the top stays promoted, as in Li et al.'s algorithm)
    sizes = log["epoch"].value_counts()
    assert sizes[1] // 3 - n_workers <= sizes[4] <= 0.4 * sizes[1]
    assert sizes[4] // 3 - n_workers <= sizes[12] <= 0.45 * sizes[4]
    # no worker ever waits: each starts its next job when it finishes the last
    for _, jobs in log.sort_values("start").groupby("worker"):
        np.testing.assert_allclose(jobs["start"].iloc[1:], jobs["finish"].iloc[:-1])
    # a promotion is charged only the epochs beyond the rung below
    per_epoch = synthetic_bench.table.cost["train_time_s"][
        [synthetic_bench._row_of[i] for i in log["index"]]
    ]
    prev = log["epoch"].map({1: 0, 4: 1, 12: 4})
    np.testing.assert_allclose(log["cost"], per_epoch * (log["epoch"] - prev))


def test_asha_reaches_full_training_sooner_than_synchronous_halving(
    synthetic_bench: TabularBenchmark,
) -> None:
    """With 8 workers, successive halving's rung waits for its 9 cells before promoting; ASHA
    promotes as soon as a third of what it has is known, so its first fully trained cell
    finishes earlier (same rungs, same eta)."""
    full = _full_time(synthetic_bench)

    def first_full(name: str, seed: int) -> float:
        log = run(name, synthetic_bench, Budget(time_s=40 * full), seed=seed, n_workers=8).log
        return float(log.loc[log["epoch"] == synthetic_bench.n_epochs, "finish"].min())

    asha = np.array([first_full("asha", s) for s in range(10)])
    halving = np.array([first_full("successive_halving", s) for s in range(10)])
    assert asha.mean() < 0.8 * halving.mean()
    assert (asha < halving).mean() >= 0.8


def _result(arch: object, epochs: int, acc: float) -> Result:
    nan = float("nan")
    return Result(
        arch=arch, index=0, epoch=epochs, repeat=0, train_loss=nan, train_acc=nan,
        valid_loss=nan, valid_acc=acc, train_time=1.0, params=nan, flops=nan, latency=nan,
    )  # fmt: skip


def test_asha_never_promotes_a_failed_result() -> None:
    asha = create("asha", NB201Space(), 12, seed=0)
    nan = float("nan")
    proposals = [asha.ask() for _ in range(9)]
    for i, p in enumerate(proposals):  # one finite result, eight failures (NaN)
        acc = 0.5 if i == 4 else nan
        asha.tell(p, _result(p.arch, p.epochs, acc))
    nxt = [asha.ask() for _ in range(3)]
    # floor(9 / 3) = 3 promotion slots, but only the finite result is promoted
    assert [p.tag for p in nxt] == [(4, 1), (9, 0), (10, 0)]
    assert asha.promotions == [(1, NB201Space().to_index(proposals[4].arch))]
