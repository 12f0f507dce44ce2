"""Pareto fronts, hypervolume, regret and IGD on tiny tables whose fronts are computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.search.mo import ObjectiveError, ObjectiveSet, exact_front, score_log
from nasbench_sim.search.mo.pareto import (
    crowding_distance,
    hypervolume,
    igd,
    nondominated_mask,
    nondominated_rank,
)
from nasbench_sim.search.mo.score import incumbent_rows
from nasbench_sim.space import NB201Space
from nasbench_sim.table import TableData

#          A    B    C    D    E      (D ties B exactly; C is dominated by B on test)
TEST = [0.9, 0.8, 0.7, 0.8, 0.5]
VALID = [0.9, 0.8, 0.95, 0.8, 0.5]  # on validation C looks best: it dominates A there
PARAMS = [4.0, 2.0, 3.0, 2.0, 1.0]


def _tiny() -> TabularBenchmark:
    cells = np.sort(NB201Space().representatives()[10:15])
    shape = (5, 1, 1)
    acc = {"valid_acc": VALID, "test_acc": TEST, "train_acc": TEST}
    metrics = {k: np.asarray(v, np.float32).reshape(shape) for k, v in acc.items()}
    for k in ("valid_loss", "test_loss", "train_loss"):
        metrics[k] = np.ones(shape, np.float32)
    cost = {
        "params": np.array(PARAMS),
        "flops": np.array(PARAMS) * 10,
        "latency_s": np.full(5, 0.01),
        "train_time_s": np.full(5, 10.0),
    }
    return TabularBenchmark(TableData("nb201", "tiny", cells, np.zeros(1, np.int64), metrics, cost))


def _log(bench: TabularBenchmark, rows: list[int]) -> pd.DataFrame:
    index = bench.table.arch_index[rows]
    return pd.DataFrame(
        {"query": np.arange(len(rows)), "finish": 10.0 * (1 + np.arange(len(rows))),
         "index": index, "epoch": np.ones(len(rows), np.int64)}
    )  # fmt: skip


def test_the_exact_front_and_its_hypervolume_by_hand() -> None:
    bench = _tiny()
    front = exact_front(bench, "valid_acc,params")
    assert sorted(front.front_rows.tolist()) == [0, 1, 3, 4]  # C (row 2) is dominated; B, D tie
    # normalised losses: A (0, 1), B = D (0.25, 1/3), E (1, 0); reference (1.1, 1.1)
    expected = [[0, 1], [0.25, 1 / 3], [1, 0]]
    np.testing.assert_allclose(front.normalized(np.array([0, 1, 4])), expected, atol=1e-6)
    assert front.hypervolume == pytest.approx(0.025 + 0.75 * (1.1 - 1 / 3) + 0.1 * 1.1, abs=1e-6)


def test_a_run_is_scored_on_test_values_of_its_validation_front() -> None:
    bench = _tiny()
    front = exact_front(bench, "valid_acc,params")
    scored = score_log(_log(bench, [2, 4, 0]), bench, front, seed=0)  # C, E, then A
    hv_c = 0.6 * (1.1 - 2 / 3)  # C at (0.5, 2/3) on test
    hv_ce = hv_c + 0.1 * 1.1 - 0.1 * (1.1 - 2 / 3)
    # A joins nothing: on validation C (0.95, 3 params) dominates A (0.9, 4 params)
    np.testing.assert_allclose(scored["hv"], [hv_c, hv_ce, hv_ce], atol=1e-6)
    np.testing.assert_allclose(scored["regret"], front.hypervolume - scored["hv"])
    assert scored["front_size"].tolist() == [1, 2, 2]
    # IGD after C and E: A -> C, B -> C, D -> C, E -> E
    d_a, d_b = np.hypot(0.5, 1 - 2 / 3), np.hypot(0.25, 2 / 3 - 1 / 3)
    assert scored["igd"].iloc[-1] == pytest.approx((d_a + 2 * d_b + 0.0) / 4, abs=1e-6)
    assert sorted(incumbent_rows(_log(bench, [2, 4, 0]), bench, front, 0).tolist()) == [2, 4]


def test_finding_the_whole_front_is_zero_regret_and_ties_count_once() -> None:
    bench = _tiny()
    front = exact_front(bench, "valid_acc,params")
    scored = score_log(_log(bench, [0, 1, 3, 4, 2]), bench, front, seed=0)
    assert scored["regret"].iloc[3] == pytest.approx(0.0, abs=1e-12)  # the same rows: exact
    assert scored["igd"].iloc[3] == pytest.approx(0.0, abs=1e-12)
    assert scored["front_size"].tolist() == [1, 2, 3, 4, 4]  # B and D both stay: a tie


def test_hypervolume_and_igd_by_hand() -> None:
    pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 3.0]])
    assert hypervolume(pts, np.array([4.0, 4.0])) == pytest.approx(3 * 1 + 2 * 1)
    assert hypervolume(np.array([[5.0, 1.0]]), np.array([4.0, 4.0])) == 0.0  # outside the box
    assert hypervolume(np.zeros((0, 2)), np.ones(2)) == 0.0
    assert igd(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[0.0, 1.0]])) == pytest.approx(1.0)
    assert igd(np.ones((1, 2)), np.zeros((0, 2))) == float("inf")


def test_a_dominated_point_is_never_on_a_front() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        shape = (int(rng.integers(1, 30)), int(rng.integers(2, 4)))
        pts = rng.integers(0, 6, size=shape).astype(float)  # many ties
        on = nondominated_mask(pts)
        dominated = np.array([any(np.all(q <= p) and np.any(q < p) for q in pts) for p in pts])
        np.testing.assert_array_equal(on, ~dominated)
        rank = nondominated_rank(pts)
        assert ((rank == 0) == on).all()


def test_nan_points_are_ranked_last_and_crowding_marks_the_extremes() -> None:
    pts = np.array([[0.0, 3.0], [1.0, 2.0], [np.nan, 0.0], [2.0, 1.0], [3.0, 0.0]])
    assert nondominated_mask(pts).tolist() == [True, True, False, True, True]
    assert nondominated_rank(pts)[2] == 1
    crowd = crowding_distance(pts[[0, 1, 3, 4]])
    assert np.isinf(crowd[[0, 3]]).all()
    np.testing.assert_allclose(crowd[[1, 2]], [2 / 3 + 2 / 3, 2 / 3 + 2 / 3])


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("valid_acc", "two or more objectives"),
        ("valid_acc,valid_acc", "listed twice"),
        ("test_acc,params", "never sees test metrics"),
        ("valid_acc,params:up", "'max' or 'min'"),
    ],
)
def test_bad_objectives_are_refused(spec: str, fragment: str) -> None:
    with pytest.raises(ObjectiveError, match=fragment):
        ObjectiveSet.parse(spec)


def test_an_unknown_cost_names_what_the_table_records() -> None:
    with pytest.raises(ObjectiveError, match=r"unknown objective 'energy_j'.*latency_s"):
        ObjectiveSet.parse("valid_acc,energy_j").bind(_tiny())


def test_an_extra_cost_and_a_minimised_accuracy_are_read() -> None:
    bench = _tiny()
    bench.table.cost["energy_j"] = np.array([5.0, 1.0, 1.0, 2.0, 9.0])  # as an importer adds
    objs = ObjectiveSet.parse("valid_acc,energy_j").bind(bench)
    r = bench.query(int(bench.table.arch_index[1]))
    np.testing.assert_allclose(objs.search_values(r), [0.8, 1.0])
    front = exact_front(bench, "valid_acc,energy_j")
    assert sorted(front.front_rows.tolist()) == [0, 1]  # A (0.9, 5) and B (0.8, 1)
    assert ObjectiveSet.parse("valid_acc:min,params").signs.tolist() == [1.0, 1.0]
