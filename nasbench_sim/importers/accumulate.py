"""Collect :class:`~nasbench_sim.importers.records.ArchRecord` s into one table.

Records arrive in any order (from a process pool). :class:`TableAccumulator` copies each into
preallocated arrays at once, so the importing process holds the output table and nothing
more; seeds are kept by their real labels, a run missing from the file stays NaN.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_sim.importers.errors import ImportFormatError
from nasbench_sim.importers.records import CURVE_METRICS, ArchRecord, Selection
from nasbench_sim.space import get_space
from nasbench_sim.table import TableData

__all__ = ["TableAccumulator", "coverage", "times_kind"]

_COSTS = ("params", "flops", "latency_s", "train_time_s", "valid_eval_time_s")


def coverage(arr: np.ndarray) -> str:
    """How much of the epoch axis of a ``(rows, seeds, epochs)`` metric holds values."""
    has = np.isfinite(arr).any(axis=(0, 1))
    n, k = has.shape[0], int(has.sum())
    if k == 0:
        return "absent"
    if k == n:
        return "every epoch"
    if k == 1 and has[-1]:
        return "last epoch only (NaN before)"
    return f"{k} of {n} epochs (NaN elsewhere)"


def times_kind(timed: int, constant: int, n_epochs: int) -> dict[str, Any]:
    """Classify the recorded per-epoch training times of ``timed`` runs."""
    if timed == 0:
        return {"kind": "absent", "note": "no training times recorded: budget in queries"}
    if n_epochs > 1 and constant == timed:
        return {
            "kind": "pseudo",
            "note": "every run records the same time for each of its epochs: estimated "
            "per-epoch constants written by the benchmark's authors, not measured timings",
            "runs_timed": timed,
        }
    return {"kind": "per-epoch", "runs_timed": timed, "runs_with_constant_times": constant}


@dataclass
class TableAccumulator:
    """Arrays of one output table, filled record by record.

    Args:
        selection: the dataset and budget this table holds.
        n_rows: how many architectures may arrive (rows are cells of the NB201 space).
    """

    selection: Selection
    n_rows: int = 15625

    def __post_init__(self) -> None:
        self._curves: np.ndarray | None = None  # (rows, seed slots, 6, epochs)
        self._slot: dict[int, int] = {}
        self._row: dict[int, int] = {}
        self._cost = np.full((self.n_rows, len(_COSTS)), np.nan)
        self._timed = 0
        self._constant = 0
        self._configs: Counter[tuple[tuple[str, int], ...]] = Counter()

    def _grow(self, seeds: int, epochs: int) -> np.ndarray:
        cur = self._curves
        if cur is None:
            cur = np.full((self.n_rows, max(seeds, 3), 6, epochs), np.nan, dtype=np.float32)
        elif seeds > cur.shape[1] or epochs > cur.shape[3]:
            new = np.full(
                (self.n_rows, max(seeds, cur.shape[1]), 6, max(epochs, cur.shape[3])),
                np.nan,
                dtype=np.float32,
            )
            new[:, : cur.shape[1], :, : cur.shape[3]] = cur
            cur = new
        self._curves = cur
        return cur

    def add(self, rec: ArchRecord, source: str) -> None:
        """Copy one record into the table."""
        if rec.index in self._row:
            raise ImportFormatError(source, f"a second entry for cell {rec.index}")
        row = len(self._row)
        if row >= self.n_rows:
            raise ImportFormatError(source, f"more than {self.n_rows} architectures")
        self._row[rec.index] = row
        for s in rec.seeds:
            self._slot.setdefault(s, len(self._slot))
        cur = self._grow(len(self._slot), rec.curves.shape[2])
        slots = [self._slot[s] for s in rec.seeds]
        cur[row, slots, :, : rec.curves.shape[2]] = rec.curves
        with np.errstate(all="ignore"):
            t = float(np.nanmean(rec.epoch_time)) if np.isfinite(rec.epoch_time).any() else math.nan
        self._cost[row] = (rec.params, rec.flops, rec.latency_s, t, rec.eval_time)
        self._timed += rec.timed_runs
        self._constant += rec.constant_times
        self._configs[rec.config] += 1

    def reserve(self, n_rows: int) -> None:
        """Set the row capacity; only before the first record (arrays are allocated then)."""
        if self._curves is not None:
            raise ValueError("reserve() after records were added")
        self.n_rows = int(n_rows)
        self._cost = np.full((self.n_rows, len(_COSTS)), np.nan)

    @property
    def n_added(self) -> int:
        return len(self._row)

    def build(self, space: str = "nb201") -> tuple[TableData, dict[str, Any]]:
        """The table (rows in cell-index order, seeds sorted by label) and the facts of the
        import for its provenance."""
        if self._curves is None:
            raise ValueError("no record was added")
        n = len(self._row)
        cells = np.array(sorted(self._row), dtype=np.int64)
        rows = np.array([self._row[c] for c in cells], dtype=np.int64)
        labels = sorted(self._slot)
        slots = np.array([self._slot[s] for s in labels], dtype=np.int64)
        n_epochs = self._last_epoch()
        pick = np.ix_(rows, slots)
        metrics = {
            name: self._curves[:, :, m, :n_epochs][pick] for m, name in enumerate(CURVE_METRICS)
        }
        self._curves = None  # free the working array before the caller writes the table
        cost = {name: self._cost[rows, j].copy() for j, name in enumerate(_COSTS)}
        missing = _missing_runs(metrics)
        facts = {
            "rows": n,
            "seeds": labels,
            "missing_runs": {
                str(s): int(missing[:, j].sum())
                for j, s in enumerate(labels)
                if missing[:, j].any()
            },
            "epoch_coverage": {m: coverage(metrics[m]) for m in CURVE_METRICS},
            "times": times_kind(self._timed, self._constant, n_epochs),
            "network": dict(self._configs.most_common(1)[0][0]) if self._configs else {},
        }
        table = TableData(
            space=space,
            dataset=self.selection.dataset,
            arch_index=cells,
            seeds=np.array(labels, dtype=np.int64),
            metrics=metrics,
            cost=cost,
        )
        get_space(space)  # validated by write_table as well
        return table, facts

    def _last_epoch(self) -> int:
        assert self._curves is not None
        has = np.isfinite(self._curves).any(axis=(0, 1, 2))
        return int(np.nonzero(has)[0].max()) + 1 if has.any() else int(has.shape[0])


def _missing_runs(metrics: Mapping[str, np.ndarray]) -> np.ndarray:
    """``(rows, seeds)``: True where a run has no accuracy at any epoch (absent from the file)."""
    out = np.ones(metrics["valid_acc"].shape[:2], dtype=bool)
    for name in ("train_acc", "valid_acc", "test_acc"):
        out &= ~np.isfinite(metrics[name]).any(axis=2)
    return out
