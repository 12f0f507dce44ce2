"""SYNTHETIC NAS-Bench-101 files (TFRecord and NASLib's pickle) for tests and benchmarks.

Random valid cells with made-up results in the published layouts: every (graph, budget,
repeat) a record ``[hash, epochs, bits, ops, base64(ModelMetrics)]`` with evaluations at the
start, halfway and end of the run. Accuracy grows with the number of 3x3 convolutions and
with the budget; training time with the budget and the cell's size.

Each file carries a mark the published files never have (a first TFRecord record
``{"nasbench_sim_synthetic": true}``; that key at the top of the pickle), so a table imported
from it is marked synthetic (``mark=False`` writes the bare published layout).
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.errors import CellParseError
from nasbench_sim.importers.nb101 import BUDGETS, REPEATS, encode_row
from nasbench_sim.importers.protobuf import Evaluation, ModelMetrics
from nasbench_sim.importers.report import SYNTHETIC_KEY
from nasbench_sim.importers.tfrecord import write_tfrecord
from nasbench_sim.space.nb101 import OPS, NB101Cell
from nasbench_sim.space.nb101_space import graph_neighbours

__all__ = [
    "clustered_cells",
    "random_cells",
    "synthetic_runs",
    "write_naslib_pickle",
    "write_nb101_tfrecord",
]


def random_cells(n: int, seed: int = 0) -> list[NB101Cell]:
    """``n`` distinct valid cells from random 7-vertex specs."""
    rng = np.random.default_rng([seed, 101])
    out: dict[str, NB101Cell] = {}
    while len(out) < n:
        m = np.triu(rng.random((7, 7)) < 0.3, k=1).astype(int)
        ops = ["input", *rng.choice(OPS, 5).tolist(), "output"]
        try:
            cell = NB101Cell.from_spec(m, ops)
        except CellParseError:
            continue
        out.setdefault(cell.hash, cell)
    return list(out.values())


def clustered_cells(n: int, seed: int = 0, roots: int = 4) -> list[NB101Cell]:
    """``n`` distinct valid cells that are each other's neighbours: the graphs within a few
    edits of ``roots`` random cells (breadth first), like a region of NAS-Bench-101, so that
    mutations and local moves mostly stay inside a small table."""
    rng = np.random.default_rng([seed, 0xC1])
    out: dict[str, NB101Cell] = {}
    frontier = random_cells(roots, seed)
    while len(out) < n and frontier:
        nxt = []
        for cell in frontier:
            if len(out) >= n:
                break
            if cell.hash in out:
                continue
            out[cell.hash] = cell
            near = graph_neighbours(cell)
            nxt += [near[int(i)] for i in rng.permutation(len(near))]
        frontier = nxt
    return list(out.values())


def synthetic_runs(
    cells: Sequence[NB101Cell], budgets: Sequence[int] = BUDGETS, seed: int = 0
) -> Iterator[tuple[NB101Cell, int, int, ModelMetrics]]:
    """(cell, budget, repeat, metrics) of every run."""
    rng = np.random.default_rng([seed, 0xB101])
    for cell in cells:
        convs = sum(op == OPS[0] for op in cell.ops)
        params = 200_000 + 400_000 * convs + 50_000 * cell.n_edges
        for epochs in budgets:
            for _ in range(REPEATS):
                top = 0.80 + 0.02 * convs - 0.3 / epochs + rng.normal(0, 0.004)
                per_epoch = 8.0 + 3.0 * convs + rng.uniform(0, 1)
                evals = [Evaluation(0.0, 0.0, 0.1, 0.1, 0.1)]
                for frac in (0.5, 1.0):
                    acc = top - (1 - frac) * 0.2
                    evals.append(
                        Evaluation(
                            epochs * frac,
                            per_epoch * epochs * frac,
                            min(acc + 0.05, 1.0),
                            acc,
                            acc - 0.005,
                        )
                    )
                yield cell, epochs, _, ModelMetrics(tuple(evals), params, per_epoch * epochs * 1.1)


def write_nb101_tfrecord(
    path: str | os.PathLike[str],
    cells: Sequence[NB101Cell],
    budgets: Sequence[int] = BUDGETS,
    seed: int = 0,
    *,
    mark: bool = True,
) -> Path:
    """A ``nasbench_*.tfrecord``-style file of every (cell, budget, repeat)."""
    rows = (
        encode_row(cell.hash, epochs, str(cell), metrics)
        for cell, epochs, _, metrics in synthetic_runs(cells, budgets, seed)
    )
    head = [json.dumps({SYNTHETIC_KEY: True}).encode()] if mark else []
    return write_tfrecord(path, itertools.chain(head, rows))


def write_naslib_pickle(
    path: str | os.PathLike[str], cells: Sequence[NB101Cell], seed: int = 0, *, mark: bool = True
) -> Path:
    """NASLib's ``nasbench_only108.pkl`` layout: ``{hash: (fixed, computed)}`` at 108 epochs."""
    data: dict[str, Any] = {SYNTHETIC_KEY: True} if mark else {}
    for cell, epochs, _, m in synthetic_runs(cells, (108,), seed):
        fixed = {
            "module_adjacency": cell.array(),
            "module_operations": list(cell.ops),
            "trainable_parameters": m.trainable_parameters,
        }
        computed = data.setdefault(cell.hash, (fixed, {}))[1].setdefault(epochs, [])
        point = {}
        for name, ev in (("halfway", m.evaluations[1]), ("final", m.evaluations[2])):
            point[f"{name}_training_time"] = ev.training_time
            point[f"{name}_train_accuracy"] = ev.train_accuracy
            point[f"{name}_validation_accuracy"] = ev.validation_accuracy
            point[f"{name}_test_accuracy"] = ev.test_accuracy
        computed.append(point)
    path = Path(path)
    path.write_bytes(pickle.dumps(data, protocol=4))
    return path
