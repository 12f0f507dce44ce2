"""Weight-sharing replays in the run loop: the super-network cost comes first, then the
super-network's ranking, one cell per equivalence class (no torch needed)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import Budget, TabularBenchmark
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.oneshot import write_oneshot
from nasbench_sim.oneshot.strategy import describe_records, oneshot_kwargs
from nasbench_sim.oneshot.train import derive_cell
from nasbench_sim.search.experiment import run_many
from nasbench_sim.strategies import STRATEGIES, create, run


@pytest.mark.parametrize("n_workers", [1, 3])
def test_every_worker_starts_after_the_super_network(
    n_workers: int, synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    result = run(
        "spos",
        synthetic_bench,
        Budget(queries=10),
        seed=0,
        n_workers=n_workers,
        strategy_kwargs={**ws_kwargs["spos"], "cost_s": 5000.0},
    )
    log = result.log
    assert result.meta["setup_cost_s"] == 5000.0
    np.testing.assert_allclose(log["start"].iloc[:n_workers], 5000.0)
    assert (log["start"] >= 5000.0).all()
    # the first result is the super-network's cost plus one full training
    first = log.iloc[0]
    assert first["finish"] == pytest.approx(5000.0 + first["cost"])


def test_a_budget_below_the_super_network_cost_trains_nothing(
    synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    cost = ws_kwargs["darts"]["records"][0].cost["wall_s"]
    result = run(
        "darts", synthetic_bench, Budget(time_s=0.5 * cost), strategy_kwargs=ws_kwargs["darts"]
    )
    assert len(result.log) == 0 and math.isnan(result.final_regret)
    comp = run_many(
        synthetic_bench, ["random", "darts"], [0, 1], Budget(time_s=0.5 * cost),
        strategy_kwargs=ws_kwargs, registry=STRATEGIES,
    )  # fmt: skip
    final = comp.final.set_index("strategy")
    assert (final.loc["darts", "n_queries"] == 0).all()
    assert final.loc["random", "n_queries"].min() > 0


def test_spos_trains_its_ranking_one_class_at_a_time_then_falls_back(
    synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    space = synthetic_bench.space
    rec = ws_kwargs["spos"]["records"][0]
    top = np.argsort(-rec.valid_acc, kind="stable")[:12]
    small = type(rec)(
        "spos", 0, rec.arch_index[top], rec.valid_acc[top], rec.supernet_valid_acc, cost=rec.cost
    )
    # one of them listed twice, through another member of its class, scored just below it
    classes = space.class_ids()
    sizes = np.bincount(classes)
    k = next(i for i, c in enumerate(small.arch_index) if sizes[classes[c]] > 1)
    members = np.flatnonzero(classes == classes[small.arch_index[k]])
    twin = members[members != small.arch_index[k]][0]
    scores = np.r_[small.valid_acc, [small.valid_acc[k] - 1e-9]]
    dup = type(rec)(
        "spos", 0, np.r_[small.arch_index, [twin]], scores, small.supernet_valid_acc, cost=rec.cost
    )
    strategy = create("spos", space, synthetic_bench.n_epochs, seed=0, records=[dup])
    log = run(strategy, synthetic_bench, Budget(queries=20)).log
    np.testing.assert_array_equal(log["index"].iloc[:12], small.arch_index)
    assert (log["epoch"] == synthetic_bench.n_epochs).all()
    assert len(set(classes[log["index"]])) == 20  # never a class twice
    assert strategy.fallback_proposals == 8


def test_darts_and_gdas_train_the_derived_cell_first(
    synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    for method in ("darts", "gdas"):
        for seed, rec in enumerate(ws_kwargs[method]["records"]):
            log = run(
                method, synthetic_bench, Budget(queries=5), seed=seed,
                strategy_kwargs=ws_kwargs[method],
            ).log  # fmt: skip
            assert int(log["index"].iloc[0]) == derive_cell(rec.alpha[-1]).index
            # then in order of decreasing probability under softmax(alpha)
            logp = [
                np.log(
                    rec.alpha[-1][np.arange(6), synthetic_bench.space.from_index(int(i)).ops]
                ).sum()
                for i in log["index"]
            ]
            assert np.all(np.diff(logp) <= 1e-12)


def test_run_seed_picks_the_stored_super_network(
    synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    space, n = synthetic_bench.space, synthetic_bench.n_epochs
    records = ws_kwargs["spos"]["records"]
    assert [create("spos", space, n, seed=s, records=records).record.seed for s in range(4)] == [
        0,
        1,
        0,
        1,
    ]
    lines = describe_records(ws_kwargs)
    assert lines[0].startswith("spos: 2 stored super-network(s)") and "mod 2" in lines[0]
    cost = records[0].cost["wall_s"]
    assert f"charged {cost:.1f} s each" in lines[0]  # the fixture's records cost the same
    # super-networks that cost differently: each is charged its own, so the line says so
    dear = dataclasses.replace(records[1], cost={**records[1].cost, "wall_s": 3 * cost})
    line = describe_records({"spos": {"records": [records[0], dear]}})[0]
    assert f"each charged its own cost, {cost:.1f}-{3 * cost:.1f} s (mean {2 * cost:.1f})" in line


def test_errors_name_the_fix(
    synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]], tiny_table_path: Path
) -> None:
    space, n = synthetic_bench.space, synthetic_bench.n_epochs
    with pytest.raises(
        StrategyConfigError, match=r"nasbench-sim oneshot --table T\.h5 --method spos"
    ):
        create("spos", space, n)
    with pytest.raises(StrategyConfigError, match="none was given"):
        create("gdas", space, n, records=ws_kwargs["darts"]["records"])  # wrong method
    with pytest.raises(StrategyConfigError, match="cost_s"):
        create("spos", space, n, records=ws_kwargs["spos"]["records"], cost_s=-1.0)
    assert oneshot_kwargs("synthetic", ["random", "evolution"]) == {}
    with pytest.raises(StrategyConfigError, match="synthetic"):
        oneshot_kwargs("synthetic", ["random", "spos"])
    with pytest.raises(StrategyConfigError, match="groups present: none"):
        oneshot_kwargs(str(tiny_table_path), ["darts"])
    # a stored record is read back from the file
    write_oneshot(tiny_table_path, ws_kwargs["darts"]["records"][1])
    kw = oneshot_kwargs(str(tiny_table_path), ["random", "darts"])
    assert list(kw) == ["darts"] and [r.seed for r in kw["darts"]["records"]] == [1]
    write_oneshot(tiny_table_path, ws_kwargs["spos"]["records"][0])
    kw = oneshot_kwargs(str(tiny_table_path), ["spos", "darts"], spos_candidates=7)
    assert kw["spos"]["candidates"] == 7 and "candidates" not in kw["darts"]
    with pytest.raises(StrategyConfigError, match="groups present: darts/seed_1"):
        oneshot_kwargs(str(tiny_table_path), ["gdas"])


def test_spos_with_candidates_searches_the_super_network_and_pays_per_cell(
    synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    space, n = synthetic_bench.space, synthetic_bench.n_epochs
    records = ws_kwargs["spos"]["records"]
    rec = records[0]
    per_cell = rec.cost["eval_wall_s"] / rec.cost["cells_evaluated"]
    classes = space.class_ids()
    score_of = dict(zip(rec.arch_index.tolist(), rec.valid_acc, strict=True))
    best_evolved, best_random = [], []
    for seed in range(0, 20, 2):  # even run seeds: all replay stored seed 0
        strategy = create("spos", space, n, seed=seed, records=records, candidates=300)
        assert strategy.evaluated == 300
        assert strategy.setup_cost_s == pytest.approx(rec.cost["train_wall_s"] + 300 * per_cell)
        assert strategy.setup_cost_s < rec.cost["wall_s"]
        log = run(strategy, synthetic_bench, Budget(queries=40)).log
        assert log["start"].min() == pytest.approx(strategy.setup_cost_s)
        # the ranking holds exactly the evaluated cells, best one-shot score first
        assert set(strategy._ranking.tolist()) == set(strategy.candidate_cells.tolist())
        ranked = log["index"].to_numpy()[: min(40, len(strategy._ranking))]
        assert set(ranked.tolist()) <= set(strategy.candidate_cells.tolist())
        got = [score_of[int(space.representatives()[classes[i]])] for i in ranked]
        assert got == sorted(got, reverse=True)
        best_evolved.append(max(got))
        rng = np.random.default_rng(seed)
        sample = rng.choice(rec.arch_index.size, 300, replace=False)
        best_random.append(rec.valid_acc[sample].max())
    # evolution on one-shot scores finds better-scored cells than as many random evaluations
    assert np.mean(best_evolved) > np.mean(best_random)
    # without candidates: every stored score ranked, the whole recorded cost charged
    plain = create("spos", space, n, seed=0, records=records)
    assert plain.setup_cost_s == rec.cost["wall_s"] and plain.evaluated == 0
    line = describe_records({"spos": {"records": records, "candidates": 300}})[0]
    assert "evolution over 300 one-shot evaluations" in line and "300 x" in line


def test_spos_candidates_errors_name_the_problem(
    synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    space, n = synthetic_bench.space, synthetic_bench.n_epochs
    rec = ws_kwargs["spos"]["records"][0]
    for bad in (0, -3, 2.5):
        with pytest.raises(StrategyConfigError, match="candidates must be an integer >= 1"):
            create("spos", space, n, records=[rec], candidates=bad)
    part = type(rec)(
        "spos", 0, rec.arch_index[:100], rec.valid_acc[:100], rec.supernet_valid_acc,
        cost=rec.cost,
    )  # fmt: skip
    with pytest.raises(StrategyConfigError, match=r"left 6366 of 6466 unscored"):
        create("spos", space, n, records=[part], candidates=50)
    create("spos", space, n, records=[part])  # ranking the scored cells still works
    bare = type(rec)(
        "spos", 0, rec.arch_index, rec.valid_acc, rec.supernet_valid_acc,
        cost={"wall_s": rec.cost["wall_s"]},
    )  # fmt: skip
    with pytest.raises(StrategyConfigError, match="per-cell scoring time"):
        create("spos", space, n, records=[bare], candidates=50)


def test_compare_cli_spos_candidates(
    tmp_path: Path, ws_kwargs: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    from nasbench_sim.cli import main
    from nasbench_sim.search.runs_io import read_runs
    from nasbench_sim.table import make_synthetic_table, write_table

    path = write_table(tmp_path / "t.h5", make_synthetic_table(0, n_epochs=12))
    rec = ws_kwargs["spos"]["records"][0]
    write_oneshot(path, rec)
    out = tmp_path / "cmp"
    rc = main(
        ["compare", "--table", str(path), "--strategies", "random,spos", "--seeds", "2",
         "--budget", "10q", "--jobs", "1", "--spos-candidates", "200", "--out", str(out)]
    )  # fmt: skip
    assert rc == 0
    assert "evolution over 200 one-shot evaluations" in capsys.readouterr().out
    runs = read_runs(out / "runs.h5")
    spos = runs[runs["strategy"] == "spos"]
    per_cell = rec.cost["eval_wall_s"] / rec.cost["cells_evaluated"]
    assert spos["start"].min() == pytest.approx(rec.cost["train_wall_s"] + 200 * per_cell)
    rc = main(["search", "--table", str(path), "--strategy", "spos", "--spos-candidates", "0"])
    assert rc == 2 and "--spos-candidates: must be an integer >= 1" in capsys.readouterr().err


def test_spos_candidates_is_reproducible_per_run_seed(
    synthetic_bench: TabularBenchmark, ws_kwargs: dict[str, dict[str, Any]]
) -> None:
    space, n = synthetic_bench.space, synthetic_bench.n_epochs
    records = ws_kwargs["spos"]["records"][:1]

    def cells(seed: Any) -> list[int]:
        strategy = create("spos", space, n, seed=seed, records=records, candidates=200)
        return strategy._ranking.tolist()

    assert cells(3) == cells(3) == cells(np.int64(3))
    assert cells(3) != cells(4)
    # a converged population re-proposes seen cells; the search still evaluates N new ones
    big = create("spos", space, n, seed=0, records=records, candidates=4000)
    assert big.evaluated == 4000 == np.unique(big.candidate_cells).size


def test_spos_candidates_needs_spos(tiny_table_path: Path) -> None:
    with pytest.raises(StrategyConfigError, match="applies to the spos strategy"):
        oneshot_kwargs(str(tiny_table_path), ["random", "darts"], spos_candidates=10)
