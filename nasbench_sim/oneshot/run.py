"""Run one weight-sharing search on a table's protocol and store it in the table file.

torch is imported only when :func:`run_oneshot` trains, so importing this module is cheap.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench_sim.bench import Benchmark, TabularBenchmark
from nasbench_sim.oneshot.store import OneShotError, OneShotRecord, check_method, write_oneshot
from nasbench_sim.table import TableData, read_table, software_versions

if TYPE_CHECKING:
    from nasbench_sim.generate.protocol import Protocol
    from nasbench_sim.oneshot.train import OneShotSettings

__all__ = ["OneShotProgress", "run_oneshot", "standalone_accuracy", "table_protocol"]


@dataclass(frozen=True)
class OneShotProgress:
    """A progress event: ``stage`` is ``"train"`` (unit: epochs) or ``"eval"`` (cells)."""

    stage: str
    done: int
    total: int


def table_protocol(table: TableData, **overrides: Any) -> Protocol:
    """The generator protocol recorded in ``table``, with ``overrides`` applied.

    Raises:
        OneShotError: the table's ``protocol`` attribute is not a generator protocol (e.g. a
            synthetic table) or an override is not a protocol field.
    """
    from nasbench_sim.generate.errors import GenerateError
    from nasbench_sim.generate.protocol import Protocol

    if table.is_synthetic:
        raise OneShotError(
            "a synthetic table records no training protocol (its curves were drawn, not "
            "trained), and one-shot methods train a real super-network: give a table built by "
            "`nasbench-sim build`"
        )
    try:
        proto = Protocol.from_dict(table.protocol)
    except (GenerateError, TypeError) as exc:
        raise OneShotError(
            f"cannot train a super-network on this table's protocol ({exc}); a table built by "
            "`nasbench-sim build` records a usable protocol"
        ) from None
    return with_overrides(proto, overrides)


def with_overrides(proto: Protocol, overrides: Mapping[str, Any]) -> Protocol:
    """``proto`` with the fields in ``overrides`` changed (``None`` values are ignored).

    Raises:
        OneShotError: an override is not a protocol field.
    """
    fields = {f.name for f in dataclasses.fields(proto)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise OneShotError(
            f"unknown protocol field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(fields))}"
        )
    return dataclasses.replace(proto, **{k: v for k, v in overrides.items() if v is not None})


def standalone_accuracy(
    bench: Benchmark, arch_index: np.ndarray, metric: str = "valid_acc"
) -> np.ndarray:
    """Mean (over seeds) final-epoch ``valid_acc`` or ``test_acc`` of each cell from the table;
    NaN for a cell whose row (or class row) the table lacks."""
    if metric not in ("valid_acc", "test_acc"):
        raise OneShotError(f"metric must be valid_acc or test_acc, got {metric!r}")
    cells = np.asarray(arch_index, dtype=np.int64).reshape(-1)
    covered = np.zeros(bench.space.size, dtype=bool)
    covered[bench.candidate_cells] = True
    ok = covered[cells]
    out = np.full(cells.shape, np.nan)
    if metric == "valid_acc":
        out[ok] = bench.query_many(cells[ok], repeat="mean").valid_acc
    else:
        out[ok] = bench.test_acc_many(cells[ok])
    return out


def _resolve_cells(cells: str | Sequence[int] | np.ndarray | None, table: TableData) -> np.ndarray:
    if cells is None or (isinstance(cells, str) and cells == "table"):
        return np.asarray(table.arch_index, dtype=np.int64)
    if isinstance(cells, str):
        if cells == "all":
            return np.arange(15625, dtype=np.int64)
        raise OneShotError(f"cells must be 'table', 'all' or a list of indices, got {cells!r}")
    arr = np.asarray(cells, dtype=np.int64).reshape(-1)
    if arr.size == 0 or arr.min() < 0 or arr.max() >= 15625:
        raise OneShotError("cell indices must be a non-empty list of integers in 0..15624")
    return np.unique(arr)


def run_oneshot(
    table_path: str | os.PathLike[str],
    method: str,
    *,
    seed: int = 0,
    protocol: Protocol | None = None,
    overrides: Mapping[str, Any] | None = None,
    settings: OneShotSettings | None = None,
    cells: str | Sequence[int] | np.ndarray | None = None,
    device: str = "cpu",
    data_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[OneShotProgress], None] | None = None,
    write: bool = True,
) -> OneShotRecord:
    """Train a super-network with ``method`` on the table's protocol, score it, store it.

    SPOS scores every cell of ``cells`` (default: the table's cells; ``"all"``: the whole
    space) with inherited weights. DARTS and GDAS record the derived cell, ``softmax(alpha)``
    and the derived cell's stand-alone accuracy from the table after every epoch.

    Args:
        table_path: the table file (also where the group is written).
        method: ``spos``, ``darts`` or ``gdas``.
        seed: super-network seed (the group is ``oneshot/<method>/seed_<seed>``).
        protocol: train with this protocol instead of the table's.
        overrides: protocol fields to change (e.g. ``epochs``, ``train_subset``).
        settings: method hyper-parameters.
        cells: SPOS's cells to score.
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        data_dir: folder of the torchvision datasets.
        progress: receives :class:`OneShotProgress` events.
        write: store the record in the table file.

    Example:
        >>> rec = run_oneshot("table.h5", "spos", overrides={"epochs": 1})  # doctest: +SKIP
    """
    check_method(method)
    from nasbench_sim.generate.datasets import dataset_for
    from nasbench_sim.oneshot.train import OneShotSettings, train_supernet

    table = read_table(table_path)
    if protocol is None:
        proto = table_protocol(table, **dict(overrides or {}))
    else:
        proto = with_overrides(protocol, overrides or {})
    settings = settings or OneShotSettings()
    data = dataset_for(proto, device, data_dir=data_dir)

    def on_epoch(done: int, total: int) -> None:
        if progress is not None:
            progress(OneShotProgress("train", done, total))

    trace = train_supernet(
        proto, method, data, seed=seed, settings=settings, device=device, progress=on_epoch
    )
    if method == "spos":
        scored = _score_spos(
            trace, _resolve_cells(cells, table), data, proto, settings, seed, progress
        )
    else:
        scored = _derived(trace, TabularBenchmark(table))
    record = _record(method, seed, trace, scored, proto, data, settings, device)
    record.validate()
    if write:
        write_oneshot(Path(table_path), record)
    return record


@dataclass(frozen=True)
class _Scored:
    """What a method adds to its super-network: the cells and their one-shot accuracy, the
    seconds spent scoring them, and the method's extra arrays."""

    arch: np.ndarray
    valid: np.ndarray
    eval_s: float
    extra: dict[str, Any]


def _score_spos(
    trace: Any,
    arch: np.ndarray,
    data: Any,
    proto: Protocol,
    settings: OneShotSettings,
    seed: int,
    progress: Callable[[OneShotProgress], None] | None,
) -> _Scored:
    """SPOS: the one-shot accuracy of every cell of ``arch`` with inherited weights."""
    from nasbench_sim.oneshot.train import oneshot_accuracy

    t0 = time.perf_counter()
    done = [0]

    def on_cell(k: int) -> None:
        done[0] += k
        if progress is not None:
            progress(OneShotProgress("eval", done[0], len(arch)))

    valid = oneshot_accuracy(
        trace.model, arch, data, proto, bn_batches=settings.bn_batches, seed=int(seed),
        progress=on_cell,
    )  # fmt: skip
    return _Scored(np.asarray(arch), np.asarray(valid), time.perf_counter() - t0, {})


def _derived(trace: Any, bench: TabularBenchmark) -> _Scored:
    """DARTS / GDAS: the derived cell per epoch (read off alpha; nothing to score)."""
    arch = trace.derived
    extra = {
        "alpha": trace.alpha,
        "standalone_valid_acc": standalone_accuracy(bench, arch, "valid_acc"),
        "standalone_test_acc": standalone_accuracy(bench, arch, "test_acc"),
    }
    return _Scored(np.asarray(arch), np.asarray(trace.derived_oneshot_acc), 0.0, extra)


def _record(
    method: str,
    seed: int,
    trace: Any,
    scored: _Scored,
    proto: Protocol,
    data: Any,
    settings: OneShotSettings,
    device: str,
) -> OneShotRecord:
    import torch

    software = software_versions()
    software["torch"] = str(torch.__version__)
    proto_dict = proto.to_dict()
    proto_dict.update({"input_shape": list(data.input_shape), "n_classes": data.n_classes})
    return OneShotRecord(
        method=method,
        seed=int(seed),
        arch_index=np.asarray(scored.arch, dtype=np.int64),
        valid_acc=np.asarray(scored.valid, dtype=np.float64),
        supernet_valid_acc=trace.supernet_valid_acc,
        protocol=proto_dict,
        cost={
            "wall_s": trace.wall_s + scored.eval_s,
            "train_wall_s": trace.wall_s,
            "eval_wall_s": scored.eval_s,
            "diagnostic_wall_s": trace.diagnostic_s,
            "epochs": proto.epochs,
            "steps": trace.steps,
            "device": str(torch.device(device)),
            "cells_evaluated": len(scored.arch) if method == "spos" else 0,
        },
        settings={**settings.to_dict(), "tau": trace.tau.tolist()},
        software=software,
        **scored.extra,
    )
