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

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.errors import CellNotInTableError
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
    bench: TabularBenchmark, arch_index: np.ndarray, metric: str = "valid_acc"
) -> np.ndarray:
    """Mean (over seeds) final-epoch ``valid_acc`` or ``test_acc`` of each cell from the table;
    NaN for a cell whose row (or class row) the table lacks."""
    if metric not in ("valid_acc", "test_acc"):
        raise OneShotError(f"metric must be valid_acc or test_acc, got {metric!r}")
    out = np.full(len(arch_index), np.nan)
    for i, idx in enumerate(np.asarray(arch_index, dtype=np.int64)):
        try:
            if metric == "valid_acc":
                out[i] = bench.query(int(idx), seed="mean").valid_acc
            else:
                out[i] = bench.test_result(int(idx), seed="mean").test_acc
        except CellNotInTableError:
            pass
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
    import torch

    from nasbench_sim.generate.datasets import dataset_for
    from nasbench_sim.oneshot.train import OneShotSettings, oneshot_accuracy, train_supernet

    table = read_table(table_path)
    if protocol is None:
        proto = table_protocol(table, **dict(overrides or {}))
    else:
        proto = with_overrides(protocol, overrides or {})
    settings = settings or OneShotSettings()
    bench = TabularBenchmark(table)
    data = dataset_for(proto, device, data_dir=data_dir)

    def on_epoch(done: int, total: int) -> None:
        if progress is not None:
            progress(OneShotProgress("train", done, total))

    trace = train_supernet(
        proto, method, data, seed=seed, settings=settings, device=device, progress=on_epoch
    )
    eval_s = 0.0  # DARTS/GDAS read their cell off alpha; nothing to score
    if method == "spos":
        t0 = time.perf_counter()
        arch = _resolve_cells(cells, table)
        done = [0]

        def on_cell(k: int) -> None:
            done[0] += k
            if progress is not None:
                progress(OneShotProgress("eval", done[0], len(arch)))

        valid = oneshot_accuracy(
            trace.model,
            arch,
            data,
            proto,
            bn_batches=settings.bn_batches,
            seed=int(seed),
            progress=on_cell,
        )
        eval_s = time.perf_counter() - t0
        extra: dict[str, Any] = {}
    else:
        arch = trace.derived
        valid = trace.derived_oneshot_acc
        extra = {
            "alpha": trace.alpha,
            "standalone_valid_acc": standalone_accuracy(bench, arch, "valid_acc"),
            "standalone_test_acc": standalone_accuracy(bench, arch, "test_acc"),
        }
    software = software_versions()
    software["torch"] = str(torch.__version__)
    proto_dict = proto.to_dict()
    proto_dict.update({"input_shape": list(data.input_shape), "n_classes": data.n_classes})
    record = OneShotRecord(
        method=method,
        seed=int(seed),
        arch_index=np.asarray(arch, dtype=np.int64),
        valid_acc=np.asarray(valid, dtype=np.float64),
        supernet_valid_acc=trace.supernet_valid_acc,
        protocol=proto_dict,
        cost={
            "wall_s": trace.wall_s + eval_s,
            "train_wall_s": trace.wall_s,
            "eval_wall_s": eval_s,
            "diagnostic_wall_s": trace.diagnostic_s,
            "epochs": proto.epochs,
            "steps": trace.steps,
            "device": str(torch.device(device)),
            "cells_evaluated": len(arch) if method == "spos" else 0,
        },
        settings={**settings.to_dict(), "tau": trace.tau.tolist()},
        software=software,
        **extra,
    )
    record.validate()
    if write:
        write_oneshot(Path(table_path), record)
    return record
