"""Typed query results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Result", "ResultBatch", "TestBatch", "TestResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """What a search sees after training one cell for ``epoch`` epochs (built by keyword).

    Attributes:
        arch: the queried architecture (as given, not its class representative).
        index: its space index.
        epoch: epochs trained (1-based).
        repeat: which stored repeat answered (``-1`` when averaged over repeats).
        train_loss, train_acc, valid_loss, valid_acc: metrics after ``epoch`` epochs;
            accuracies are fractions in ``[0, 1]``.
        train_time: cumulative training time to reach ``epoch``, in the benchmark's
            ``time_unit``: seconds, or epochs for a table that records no times.
        params, flops, latency: cost metrics of the cell (see the table schema).
        valid_curve: validation accuracy after each epoch ``1 .. epoch`` (read-only array), as
            a training run logs it; ``None`` when the benchmark does not provide curves.
    """

    arch: Any
    index: int
    epoch: int
    repeat: int
    train_loss: float
    train_acc: float
    valid_loss: float
    valid_acc: float
    train_time: float
    params: float
    flops: float
    latency: float
    valid_curve: np.ndarray | None = None

    @property
    def missing(self) -> bool:
        """True when the validation accuracy is missing (NaN: a failed or absent training)."""
        return self.valid_acc != self.valid_acc


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    """Held-out test metrics: returned only by the analysis path, never to a search."""

    __test__ = False  # not a pytest test class

    index: int
    epoch: int
    repeat: int
    test_loss: float
    test_acc: float


@dataclass(frozen=True, kw_only=True)
class TestBatch:
    """Vectorised held-out test metrics (analysis path); every field is an array ``(n,)``."""

    __test__ = False  # not a pytest test class

    index: np.ndarray
    epoch: np.ndarray
    repeat: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray

    def __len__(self) -> int:
        return int(self.index.shape[0])


@dataclass(frozen=True, kw_only=True)
class ResultBatch:
    """Vectorised results of :meth:`Benchmark.query_many`; every field is an array ``(n,)``."""

    index: np.ndarray
    epoch: np.ndarray
    repeat: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    valid_loss: np.ndarray
    valid_acc: np.ndarray
    train_time: np.ndarray
    params: np.ndarray
    flops: np.ndarray
    latency: np.ndarray

    def __len__(self) -> int:
        return int(self.index.shape[0])
