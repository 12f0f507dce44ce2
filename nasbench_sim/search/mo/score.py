"""Scoring multi-objective runs against the table's exact Pareto front.

**The exact front.** Every table row is a point on the analysis path (test metric mean over
repeats at the last epoch, and the costs: see :meth:`ObjectiveSet.reported`); the rows no other
row dominates are the exact front. An exhaustive table knows it; a live search never does.

**Normalisation and the reference point.** Each objective is turned into a loss (maximised
ones negated) and scaled to ``[0, 1]`` by its minimum and maximum over all table rows: ``0``
is the table's ideal value, ``1`` its worst. The hypervolume reference point is ``1.1`` in
every coordinate (the table's worst values plus 10% of each range), so every cell of the table,
including the extremes of the front, adds volume, and hypervolumes are comparable across
objectives with different units. The exact front's hypervolume is at most ``1.1 ** m``.

**A run's score.** After each result, the incumbent front is the set of queried cells that no
other queried cell dominates *on the search path* (validation metrics of the served repeat,
costs). Its hypervolume is measured on the *analysis path* (test metrics), and the
**hypervolume regret** is the exact front's hypervolume minus it (never negative; ``0`` when
the incumbent front covers the exact front). **IGD** is the mean distance from each
exact-front point to the nearest incumbent point, in the same normalised units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.search.mo.objectives import ObjectiveSet, row_of_cells
from nasbench_sim.search.mo.pareto import dominates, hypervolume, igd, nondominated_mask

__all__ = ["REFERENCE", "ExactFront", "exact_front", "incumbent_rows", "score_log"]

REFERENCE = 1.1
"""The hypervolume reference point in every normalised coordinate."""


@dataclass(frozen=True)
class ExactFront:
    """The table's exact front for some objectives, and the scales that score runs against it.

    Attributes:
        objectives: the (bound) objectives.
        values: analysis-path values of every table row ``(n_rows, m)``, natural units.
        row_of: table row answering each space index (``-1``: none).
        low, high: per-objective minimum and maximum of the losses over the rows.
        front_rows: the rows on the exact front, sorted by the first objective.
        hypervolume: the exact front's hypervolume in normalised units.
    """

    objectives: ObjectiveSet
    values: np.ndarray
    row_of: np.ndarray
    low: np.ndarray
    high: np.ndarray
    front_rows: np.ndarray
    hypervolume: float

    @property
    def reference(self) -> np.ndarray:
        return np.full(self.values.shape[1], REFERENCE)

    def normalized(self, rows: np.ndarray) -> np.ndarray:
        """Normalised losses of table ``rows`` (``0`` ideal, ``1`` worst of the table)."""
        losses = self.objectives.signs * self.values[np.asarray(rows, dtype=np.int64)]
        return (losses - self.low) / np.where(self.high > self.low, self.high - self.low, 1.0)

    def hv_of(self, rows: np.ndarray) -> float:
        """Hypervolume of the analysis-path points of ``rows``."""
        return hypervolume(self.normalized(np.unique(rows)), self.reference)

    def igd_of(self, rows: np.ndarray) -> float:
        """IGD of the analysis-path points of ``rows`` to the exact front."""
        return igd(self.normalized(self.front_rows), self.normalized(np.unique(rows)))


def exact_front(bench: Any, objectives: ObjectiveSet | str) -> ExactFront:
    """The exact Pareto front of ``bench``'s table for ``objectives``.

    Example:
        >>> from nasbench_sim.bench import TabularBenchmark
        >>> from nasbench_sim.table import make_synthetic_table
        >>> bench = TabularBenchmark(make_synthetic_table(0, cells=200, n_epochs=4))
        >>> front = exact_front(bench, "valid_acc,params")
        >>> 1 <= front.front_rows.size < 200, 0 < front.hypervolume <= 1.1 ** 2
        (True, True)
    """
    objs = ObjectiveSet.parse(objectives).bind(bench)
    values = objs.reported(bench)
    losses = objs.signs * values
    ok = np.isfinite(losses).all(axis=1)
    if ok.sum() == 0:
        raise ValueError("no table row has a value for every objective")
    low = np.nanmin(np.where(ok[:, None], losses, np.nan), axis=0)
    high = np.nanmax(np.where(ok[:, None], losses, np.nan), axis=0)
    rows = np.flatnonzero(ok)
    on_front = rows[nondominated_mask(losses[rows])]
    on_front = on_front[np.lexsort(losses[on_front].T[::-1])]
    partial = ExactFront(objs, values, row_of_cells(bench), low, high, on_front, 0.0)
    return ExactFront(objs, values, partial.row_of, low, high, on_front, partial.hv_of(on_front))


def _search_losses(log: pd.DataFrame, bench: Any, front: ExactFront, seed: int) -> np.ndarray:
    """Search-path losses of every logged query: the served repeat at the epoch trained."""
    index = log["index"].to_numpy(np.int64)
    if index.size == 0:
        return np.zeros((0, len(front.objectives.objectives)))
    epochs = log["epoch"].to_numpy(np.int64)
    batch = bench.with_run_seed(seed).query_many(index, epochs=epochs)
    cols = []
    for o in front.objectives.objectives:
        if o.is_metric or o.name in ("params", "flops"):
            cols.append(np.asarray(getattr(batch, o.name), dtype=np.float64))
        elif o.name == "latency_s":
            cols.append(np.asarray(batch.latency, dtype=np.float64))
        else:
            cols.append(front.objectives.extra_costs[o.name][index])
    return front.objectives.signs * np.column_stack(cols)


def score_log(log: pd.DataFrame, bench: Any, front: ExactFront, seed: int) -> pd.DataFrame:
    """Hypervolume, hypervolume regret and IGD of the incumbent front after each logged result.

    Args:
        log: a run's query log (columns ``query``, ``finish``, ``index``, ``epoch``), in the
            order results arrived.
        bench: the benchmark the run replayed against.
        front: :func:`exact_front` of that benchmark.
        seed: the run seed (it fixed the repeats the run was served).

    Returns:
        One row per logged result: ``query``, ``finish``, ``hv``, ``regret`` (hypervolume
        regret), ``igd`` and ``front_size`` (cells on the incumbent front).
    """
    losses = _search_losses(log, bench, front, seed)
    rows = front.row_of[log["index"].to_numpy(np.int64)]
    members: list[int] = []  # positions in the log of the incumbent front's cells
    n = len(log)
    hv, inv, size = np.zeros(n), np.full(n, np.inf), np.zeros(n, dtype=np.int64)
    current = (0.0, float("inf"))
    for i in range(n):
        p = losses[i]
        if not np.isnan(p).any() and not any(dominates(losses[j], p) for j in members):
            members = [j for j in members if not dominates(p, losses[j])] + [i]
            current = (front.hv_of(rows[members]), front.igd_of(rows[members]))
        hv[i], inv[i], size[i] = current[0], current[1], len(members)
    return pd.DataFrame(
        {
            "query": log["query"].to_numpy(),
            "finish": log["finish"].to_numpy(np.float64),
            "hv": hv,
            "regret": np.maximum(front.hypervolume - hv, 0.0),
            "igd": inv,
            "front_size": size,
        }
    )


def incumbent_rows(
    log: pd.DataFrame, bench: Any, front: ExactFront, seed: int, time_s: float | None = None
) -> np.ndarray:
    """Table rows of the incumbent front at ``time_s`` (default: the end of the run)."""
    if time_s is not None:
        log = log[log["finish"].to_numpy(np.float64) <= time_s]
    if len(log) == 0:
        return np.zeros(0, dtype=np.int64)
    losses = _search_losses(log, bench, front, seed)
    ok = ~np.isnan(losses).any(axis=1)
    keep = np.zeros(len(log), dtype=bool)
    keep[np.flatnonzero(ok)[nondominated_mask(losses[ok])]] = True
    return np.unique(front.row_of[log["index"].to_numpy(np.int64)[keep]])
