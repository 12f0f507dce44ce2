"""Shared fixtures: tiny synthetic tables written by the tests themselves."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.table import TableData, make_synthetic_table, write_table


@pytest.fixture(scope="session")
def synthetic_table() -> TableData:
    """One row per equivalence class, 3 repeats, 12 epochs."""
    return make_synthetic_table(0, n_epochs=12)


@pytest.fixture(scope="session")
def synthetic_bench(synthetic_table: TableData) -> TabularBenchmark:
    return TabularBenchmark(synthetic_table)


def with_nan_rows(table: TableData, fraction: float = 0.15, seed: int = 0) -> TableData:
    """``table`` with a ``fraction`` of its rows failed (every metric NaN, as the schema allows
    for a diverged or crashed training) and as many again missing only their last repeat."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(table.n_cells)
    k = max(1, round(fraction * table.n_cells))
    failed, one_seed = rows[:k], rows[k : 2 * k]
    metrics = {}
    for name, arr in table.metrics.items():
        a = np.array(arr, copy=True)
        a[failed] = np.nan
        a[one_seed, -1] = np.nan
        metrics[name] = a
    return dataclasses.replace(table, metrics=metrics)


@pytest.fixture(scope="session")
def nan_bench(synthetic_table: TableData) -> TabularBenchmark:
    """The synthetic table with 15% of its rows NaN and 15% missing one repeat."""
    return TabularBenchmark(with_nan_rows(synthetic_table))


@pytest.fixture()
def tiny_table_path(tmp_path: Path) -> Path:
    """A 40-row synthetic table on disk."""
    return write_table(tmp_path / "tiny.h5", make_synthetic_table(1, cells=40, n_epochs=5))


def synthetic_oneshot_records(
    bench: TabularBenchmark, n_seeds: int = 2, cost_trainings: float = 5.0
) -> dict[str, dict[str, Any]]:
    """``strategy_kwargs`` of the weight-sharing replays on a synthetic table: made-up stored
    super-networks whose scores are the table's accuracy plus noise (SPOS) and whose final
    softmax(alpha) follows the per-edge mean accuracy of each op (DARTS, GDAS), costing
    ``cost_trainings`` full trainings. Not a trained super-network: a fixture of the replay."""
    from nasbench_sim.oneshot import OneShotRecord

    table = bench.table
    truth = table.metrics["valid_acc"][:, :, -1].mean(axis=1)
    ops = np.array([bench.space.from_index(int(i)).ops for i in table.arch_index])
    wall = cost_trainings * float(np.median(table.cost["train_time_s"])) * bench.n_epochs
    n_cells = int(table.arch_index.size)
    cost = {
        "wall_s": wall,
        "train_wall_s": 0.25 * wall,
        "eval_wall_s": 0.75 * wall,
        "cells_evaluated": n_cells,
    }
    out: dict[str, dict[str, Any]] = {}
    for method in ("spos", "darts", "gdas"):
        records = []
        for seed in range(n_seeds):
            rng = np.random.default_rng([seed, len(method)])
            if method == "spos":
                score = truth + rng.normal(0.0, 0.5 * truth.std(), truth.size)
                rec = OneShotRecord(
                    method, seed, table.arch_index.copy(), score, np.zeros(3), cost=cost
                )
            else:
                marg = np.array(
                    [[truth[ops[:, k] == o].mean() for o in range(5)] for k in range(6)]
                )
                logits = (marg - marg.mean()) / marg.std() + rng.normal(0.0, 0.5, marg.shape)
                alpha = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
                derived = np.full(3, int(np.sum(alpha.argmax(1) * 5 ** np.arange(5, -1, -1))))
                rec = OneShotRecord(
                    method, seed, derived, np.full(3, 0.5), np.zeros(3),
                    alpha=np.broadcast_to(alpha, (3, 6, 5)).copy(),
                    standalone_valid_acc=np.full(3, np.nan),
                    standalone_test_acc=np.full(3, np.nan), cost=cost,
                )  # fmt: skip
            rec.validate()
            records.append(rec)
        out[method] = {"records": records}
    return out


@pytest.fixture(scope="session")
def ws_kwargs(synthetic_bench: TabularBenchmark) -> dict[str, dict[str, Any]]:
    """Made-up stored super-networks for the weight-sharing replays on ``synthetic_bench``."""
    return synthetic_oneshot_records(synthetic_bench)


@pytest.fixture(scope="session")
def nb101_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic NAS-Bench-101 table: 400 neighbouring graphs x 4 budgets x 3 repeats,
    written as a TFRecord by the pure-Python writer and imported."""
    from nasbench_sim.importers import import_nb101
    from nasbench_sim.importers.synthetic_nb101 import clustered_cells, write_nb101_tfrecord

    folder = tmp_path_factory.mktemp("nb101")
    src = write_nb101_tfrecord(folder / "nasbench_full.tfrecord", clustered_cells(400, seed=0))
    return import_nb101(src, folder / "nb101.h5")[0].out


@pytest.fixture(scope="session")
def nb101_bench(nb101_path: Path) -> TabularBenchmark:
    return TabularBenchmark.from_file(nb101_path)
