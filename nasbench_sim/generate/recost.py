"""Re-measure a generated table's wall-clock costs on one machine at rest.

A build measures each cell's inference latency and times a few cells' training steps while it
trains (see :mod:`~nasbench_sim.generate.costs`). A build that runs in the background for days,
sharing its cores with other work, records those wall-clock figures under whatever else ran at
the time, so they mix the cells' costs with the machine's load. :func:`recost_table` measures
them again in one pass, with nothing else to do: every row's ``latency_s`` (the median of
``repeats`` passes) and the step time of ``timed_cells`` rows drawn at random, from which the
training-time model (:mod:`~nasbench_sim.generate.timing_model`) is fitted again to predict
``train_time_s`` for every row. Learning curves, parameters and FLOPs are not touched. The
provenance keeps the build's timing-model figures under ``costs_at_build`` and records the
re-measurement (host, threads, repeats, cells timed, when) under ``costs_remeasured``.

Run it on an otherwise idle machine: it measures whatever the cores give it.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.checks import require_int
from nasbench_sim.generate.errors import GenerateError
from nasbench_sim.generate.hardware import cpu_name
from nasbench_sim.table import TableData, read_table, write_table

__all__ = ["RecostReport", "check_arguments", "recost_table"]

_TIMING_KEYS = ("timing_model_method", "timing_model_n_measured", "timing_model_cv_mape")


@dataclass(frozen=True)
class RecostReport:
    """What :func:`recost_table` did.

    Attributes:
        out: the table written.
        rows: rows whose latency was measured.
        timed: rows whose training steps were timed.
        threads: torch CPU threads of the measurements.
        repeats: forward passes per latency measurement.
        cv_mape_before: the build's timing-model error (cross-validated MAPE), if recorded.
        cv_mape_after: the refitted model's.
        latency_ratio_median: median of new / old latency over rows (how far the build's
            figures were off, typically).
        seconds: wall time of the re-measurement.
    """

    out: Path
    rows: int
    timed: int
    threads: int
    repeats: int
    cv_mape_before: float | None
    cv_mape_after: float | None
    latency_ratio_median: float
    seconds: float

    def lines(self) -> list[str]:
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f} %"

        return [
            f"wrote {self.out}: latency of {self.rows} rows ({self.repeats} passes each) and "
            f"training steps of {self.timed} rows re-measured with {self.threads} thread(s) "
            f"in {self.seconds:.0f} s",
            f"median new/old latency: {self.latency_ratio_median:.3f}; timing-model error "
            f"(cross-validated MAPE): {pct(self.cv_mape_before)} at build, "
            f"{pct(self.cv_mape_after)} now",
        ]


def check_arguments(timed_cells: int, repeats: int, threads: int | None) -> None:
    """Refuse arguments :func:`recost_table` cannot use, before any work."""
    require_int("timed_cells", timed_cells, 4, GenerateError, numpy=False)
    require_int("repeats", repeats, 1, GenerateError, numpy=False)
    if threads is not None:
        require_int("threads", threads, 1, GenerateError, numpy=False)


def _threads(table: TableData, threads: int | None) -> int:
    if threads is not None:
        return threads
    numerics = table.provenance.get("numerics") or {}
    return int(numerics.get("threads", 1)) if isinstance(numerics, dict) else 1


def _check_table(table: TableData, path: str | os.PathLike[str]) -> None:
    """Refuse a table whose costs this command cannot measure again."""
    if not table.protocol or "generator" in table.protocol:
        raise GenerateError(
            f"{path}: records no build protocol (only tables made by `nasbench-sim build` "
            "can be re-measured)"
        )
    if table.space != "nb201":
        raise GenerateError(
            f"{path}: a table of space {table.space!r}; only nb201 tables are re-measured"
        )
    numerics = table.provenance.get("numerics") or {}
    device = numerics.get("device", "cpu") if isinstance(numerics, dict) else "cpu"
    if device != "cpu":
        raise GenerateError(
            f"{path}: built on {device!r}; recost measures on this machine's CPU and would put "
            "CPU figures beside the build's device in the provenance (re-measure on the device "
            "that built it instead)"
        )


def _measure(
    table: TableData,
    protocol: Any,
    timed: np.ndarray,
    data_dir: str | os.PathLike[str] | None,
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every row's latency, and the seconds per epoch of the ``timed`` rows (NaN elsewhere)."""
    from nasbench_sim.generate._loop import steps_per_epoch
    from nasbench_sim.generate.costs import measure_latency, time_train_steps
    from nasbench_sim.generate.datasets import dataset_for
    from nasbench_sim.generate.train_reference import reference_model
    from nasbench_sim.space import Cell

    data = dataset_for(protocol, "cpu", data_dir)
    seed0 = int(table.seeds[0])
    cells = [Cell.from_index(int(i)) for i in table.arch_index]
    latency = np.empty(table.n_cells)
    for j, cell in enumerate(cells):
        model = reference_model(protocol, cell, seed0, data, "cpu")
        latency[j] = measure_latency(model, data.input_shape, protocol)
        if progress is not None:
            progress(1)
    measured = np.full(table.n_cells, np.nan)
    spe = steps_per_epoch(protocol, int(data.train_y.shape[0]))
    for j in timed.tolist():
        model = reference_model(protocol, cells[j], seed0, data, "cpu")
        measured[j] = time_train_steps(model, data, protocol) * spe
        if progress is not None:
            progress(1)
    return latency, measured


def _provenance(table: TableData, timing: Any, record: dict[str, Any]) -> dict[str, Any]:
    """The table's provenance with the refitted timing model and this re-measurement; the
    build's own timing-model figures are kept under ``costs_at_build`` (set once: a second
    re-measurement does not overwrite them), earlier re-measurements under
    ``costs_remeasured_before``."""
    prov: dict[str, Any] = dict(table.provenance)
    prov.setdefault("costs_at_build", {k: prov.get(k) for k in _TIMING_KEYS})
    if "costs_remeasured" in prov:
        prov["costs_remeasured_before"] = [
            *prov.get("costs_remeasured_before", []),
            prov["costs_remeasured"],
        ]
    prov.update(timing.provenance())
    prov["costs_remeasured"] = record
    return prov


def recost_table(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    timed_cells: int = 400,
    repeats: int = 15,
    threads: int | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RecostReport:
    """Write ``path`` to ``out`` with its wall-clock costs measured again on this machine's CPU.

    Args:
        path: a table made by ``build`` on a CPU (it records the protocol the costs are
            measured at).
        out: where to write the result (may be ``path``; written atomically).
        timed_cells: rows whose training steps are timed (all rows if fewer).
        repeats: forward passes per latency measurement (their median is kept).
        threads: torch CPU threads (default: those the build trained with).
        seed: draws the timed rows.
        data_dir: where file-based datasets live.
        progress: called with the number of measurements just made (one per row's latency,
            one per timed row: ``rows + min(timed_cells, rows)`` in all).

    Raises:
        GenerateError: a table without a build protocol, not nb201, built on another device
            than a CPU, or bad arguments.
    """
    import torch

    from nasbench_sim.generate.protocol import Protocol
    from nasbench_sim.generate.timing_model import fit_timing_model

    check_arguments(timed_cells, repeats, threads)
    table = read_table(path)
    _check_table(table, path)
    protocol = replace(Protocol.from_dict(table.protocol), latency_repeats=repeats)
    n_threads = _threads(table, threads)
    k = min(timed_cells, table.n_cells)
    timed = np.sort(np.random.default_rng(seed).choice(table.n_cells, k, replace=False))
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    start = time.perf_counter()
    try:
        latency, measured = _measure(table, protocol, timed, data_dir, progress)
    finally:
        torch.set_num_threads(before)
    seconds = time.perf_counter() - start
    cost = dict(table.cost)
    old_latency = np.asarray(cost["latency_s"], dtype=np.float64)
    cost["latency_s"] = latency
    cost["train_time_measured_s"] = measured
    timing = fit_timing_model(table.arch_index, cost["flops"], cost["params"], measured)
    cost["train_time_s"] = timing.predicted
    prov = _provenance(table, timing, {
        "when": _dt.datetime.now(_dt.UTC).isoformat(),
        "host": platform.node(),
        "processor": cpu_name(),
        "cpu_count": os.cpu_count(),
        "threads": n_threads,
        "latency_repeats": repeats,
        "timed_cells": int(k),
        "seed": seed,
        "seconds": seconds,
    })  # fmt: skip
    written = write_table(out, replace(table, cost=cost, provenance=prov))
    before_mape = prov["costs_at_build"].get("timing_model_cv_mape")
    with np.errstate(all="ignore"):
        ratio = float(np.nanmedian(latency / old_latency))
    return RecostReport(
        out=written,
        rows=table.n_cells,
        timed=int(k),
        threads=n_threads,
        repeats=repeats,
        cv_mape_before=None if before_mape is None else float(before_mape),
        cv_mape_after=None if np.isnan(timing.cv_mape) else float(timing.cv_mape),
        latency_ratio_median=ratio,
        seconds=seconds,
    )
