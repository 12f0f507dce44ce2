"""The query log of a run: one row type (:class:`QueryRecord`), its columns, and the
incumbent and regret read from a benchmark's test path.

Regret: the incumbent after each result is the queried cell with the best *validation*
accuracy seen so far (first wins ties; a missing result never wins over a real one); its
regret is the benchmark's best mean final test accuracy minus the incumbent's mean final test
accuracy (the analysis path, never shown to a strategy).
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Sequence

import numpy as np
import pandas as pd

from nasbench_sim.bench.base import Benchmark

__all__ = [
    "INCUMBENT_COLUMNS",
    "LOG_COLUMNS",
    "RECORD_COLUMNS",
    "QueryRecord",
    "final_regret",
    "log_frame",
    "regret_at",
    "rescore",
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueryRecord:
    """One finished query of a run, as the simulated clock booked it.

    Attributes:
        start: simulated time the training started.
        finish: simulated time the result was available.
        worker: which simulated worker trained it.
        index: space index of the cell.
        arch: the cell's string form.
        epoch: epochs trained to.
        repeat: which stored repeat answered (``-1``: the mean).
        valid_acc: what the search saw.
        cost: seconds charged for this query.
    """

    start: float
    finish: float
    worker: int
    index: int
    arch: str
    epoch: int
    repeat: int
    valid_acc: float
    cost: float


RECORD_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(QueryRecord))
"""The fields of a :class:`QueryRecord`."""
INCUMBENT_COLUMNS: tuple[str, ...] = (
    "incumbent_index",
    "incumbent_valid",
    "incumbent_test",
    "regret",
)
"""What :func:`rescore` adds: the incumbent after each row, its test accuracy and regret."""
LOG_COLUMNS: tuple[str, ...] = ("query", *RECORD_COLUMNS, *INCUMBENT_COLUMNS)
"""Columns of a run's query log, one row per finished query in finish order."""

_INT_COLUMNS = ("query", "worker", "index", "epoch", "repeat", "incumbent_index")


def log_frame(records: Sequence[QueryRecord], bench: Benchmark) -> pd.DataFrame:
    """The query log of ``records`` (in finish order), scored against ``bench``."""
    row = operator.attrgetter(*RECORD_COLUMNS)  # a flat tuple (astuple deep-copies each field)
    frame = pd.DataFrame.from_records([row(r) for r in records], columns=list(RECORD_COLUMNS))
    frame.insert(0, "query", np.arange(len(frame), dtype=np.int64))
    frame = rescore(frame, bench)
    return frame.astype({c: np.int64 for c in _INT_COLUMNS})


def _incumbents(valid: np.ndarray) -> np.ndarray:
    """Position of the incumbent (best validation accuracy so far; first wins ties; NaN
    ranks last) per row."""
    n = valid.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    v = np.where(np.isnan(valid), -np.inf, valid)
    best = np.maximum.accumulate(v)
    is_new = np.r_[True, v[1:] > best[:-1]]
    pos = np.where(is_new, np.arange(n), 0)
    return np.maximum.accumulate(pos)


def rescore(log: pd.DataFrame, bench: Benchmark) -> pd.DataFrame:
    """Recompute the incumbent and regret columns of ``log`` against ``bench``'s test path.

    Lets a finished run be judged by another table or a surrogate without re-running it.
    """
    out = log.copy()
    index = out["index"].to_numpy(np.int64)
    valid = out["valid_acc"].to_numpy(np.float64)
    inc = _incumbents(valid)
    inc_index = index[inc]
    test = bench.test_acc_many(inc_index) if index.size else np.zeros(0)
    out["incumbent_index"] = inc_index
    out["incumbent_valid"] = valid[inc]
    out["incumbent_test"] = test
    out["regret"] = bench.best_test_acc - test
    return out


def regret_at(log: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    """Regret of the incumbent at each simulated time (``nan`` before the first result)."""
    finish = log["finish"].to_numpy(np.float64)
    regret = log["regret"].to_numpy(np.float64)
    pos = np.searchsorted(finish, np.asarray(times, dtype=np.float64), side="right") - 1
    out = np.full(pos.shape, np.nan)
    ok = pos >= 0
    out[ok] = regret[pos[ok]]
    return out


def final_regret(log: pd.DataFrame, time_s: float | None = None) -> float:
    """Regret at the end of the run, or at ``time_s`` when given (``nan`` without a result
    by then)."""
    if len(log) == 0:
        return math.nan
    if time_s is None:
        return float(log["regret"].iloc[-1])
    return float(regret_at(log, np.array([time_s]))[0])
