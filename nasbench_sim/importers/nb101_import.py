"""NAS-Bench-101 into a table: ``nasbench_only108.tfrecord``, ``nasbench_full.tfrecord`` or
NASLib's ``nasbench_only108.pkl``, told apart by their first bytes.

The table (space ``nb101``, see ``docs/table_schema.md``) has one row per graph, keyed by the
file's ``module_hash``; its epoch axis holds the file's budgets (``budgets``: ``4, 12, 36,
108`` in the full file, ``108`` in the others), its repeat axis the three repeats (labels
``0, 1, 2``: NAS-Bench-101 records no seeds). Every budget and repeat is kept, missing ones
are NaN:

* ``metrics/{train,valid,test}_acc``: the final evaluation of each run;
* ``metrics/train_time_s``: the training time of each run, seconds (NAS-Bench-101's budgets
  are separate runs, so a 36-epoch result costs a 36-epoch run: see ``docs/search.md``);
* ``metrics/halfway_{train,valid,test}_acc``, ``metrics/halfway_train_time_s``: the same run
  evaluated at half its epochs;
* the losses are NaN (not recorded), ``cost/params`` the trainable parameters,
  ``cost/train_time_s`` the seconds per epoch of the longest budget (repeat mean), FLOPs and
  latency NaN.

Checks: the TFRecord CRCs and the recomputation of every graph's hash from its spec (which
also validates the spec) run by default on files up to :data:`CHECK_LIMIT` (64 MiB, which the
fixtures and cut-down files are and the published files are not). On larger files every row
is still checked structurally (square, upper-triangular, 0/1, at most 9 edges, known ops) and
the hashes of :data:`HASH_SAMPLE` rows spread over the file are recomputed (``check_hashes``:
``"all"``, ``"sample"`` or ``"none"``, which trusts the file's hashes as NAS-Bench-101's own
API does).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.importers.errors import ImportFormatError
from nasbench_sim.importers.nb101 import (
    CRC_DEFAULT_LIMIT,
    NB101Data,
    read_naslib_pickle,
    read_nb101_tfrecord,
)
from nasbench_sim.importers.report import ImportReport, describe_source, synthetic_mark
from nasbench_sim.space.nb101 import MAX_EDGES, MAX_VERTICES, NB101Cell
from nasbench_sim.space.nb101_space import ABSENT
from nasbench_sim.table import TableData, write_table

__all__ = ["CHECK_LIMIT", "HASH_SAMPLE", "import_nb101", "nb101_table"]

CHECK_LIMIT = CRC_DEFAULT_LIMIT
"""Files up to this size (64 MiB) get every CRC and every hash checked by default."""
HASH_SAMPLE = 1000
"""Graphs whose hash is recomputed in a file above :data:`CHECK_LIMIT` (unless asked for all)."""
BENCHMARK = "NAS-Bench-101"
_LABEL = {"input": -1, "output": -2, "conv3x3-bn-relu": 0, "conv1x1-bn-relu": 1, "maxpool3x3": 2}
_PROTOCOL = {
    "source_benchmark": BENCHMARK,
    "dataset": "cifar10",
    "splits": {
        "train": "40,000 images of the CIFAR-10 training set",
        "valid": "the other 10,000 images of the CIFAR-10 training set",
        "test": "the 10,000 images of the CIFAR-10 test set",
    },
    "budgets_are": "separate training runs: the result at 12 epochs is a 12-epoch run, not "
    "the first 12 epochs of the 108-epoch run",
    "network": "stem 3x3 convolution with 128 channels, 3 stacks of 3 cells, downsampling "
    "between stacks (NAS-Bench-101)",
}


def _is_pickle(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(1) == b"\x80"  # the PROTO opcode that starts every pickle of protocol >= 2


def _read(
    path: Path, check_crc: bool | None, progress: Callable[[int], None] | None
) -> tuple[NB101Data, str]:
    if not path.is_file():
        raise ImportFormatError(path, "no such file" if not path.exists() else "not a file")
    if _is_pickle(path):
        if check_crc:
            raise ImportFormatError(
                path,
                "CRC checks asked for (check_crc / --crc on), but this is NASLib's pickle: CRCs "
                "exist only in TFRecord files (nasbench_*.tfrecord)",
            )
        return read_naslib_pickle(path), "naslib-pickle"
    crc = path.stat().st_size <= CHECK_LIMIT if check_crc is None else bool(check_crc)
    return read_nb101_tfrecord(path, check_crc=crc, progress=progress), "tfrecord"


def _spec_arrays(specs: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """``arch/matrix`` and ``arch/ops`` from the ``"<bits>|<ops>"`` specs, checked structurally
    (square, 2..7 vertices, 0/1 upper triangular, at most 9 edges, known ops)."""
    n = specs.shape[0]
    matrix = np.zeros((n, MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    labels = np.full((n, MAX_VERTICES), ABSENT, dtype=np.int8)
    for r, spec in enumerate(specs.tolist()):
        bits, _, ops = spec.partition("|")
        names = ops.split(",")
        k = math.isqrt(len(bits))
        try:
            if k * k != len(bits) or not 2 <= k <= MAX_VERTICES or len(names) != k:
                raise ValueError(f"{len(bits)} adjacency bits and {len(names)} ops")
            matrix[r, :k, :k] = np.frombuffer(bits.encode("ascii"), np.uint8).reshape(k, k) - 48
            labels[r, :k] = [_LABEL[o] for o in names]
        except (ValueError, KeyError, UnicodeEncodeError) as exc:
            raise ImportFormatError(source, f"graph {r} has a bad spec {spec!r} ({exc})") from None
    width = (labels != ABSENT).sum(axis=1)
    pos = np.arange(MAX_VERTICES)[None, :]
    interior = (pos >= 1) & (pos < width[:, None] - 1)
    bad = (
        ((matrix != 0) & (matrix != 1)).any(axis=(1, 2))
        | np.tril(matrix).any(axis=(1, 2))
        | (matrix.sum(axis=(1, 2), dtype=np.int64) > MAX_EDGES)
        | (labels[:, 0] != -1)
        | (labels[np.arange(n), width - 1] != -2)
        | (interior & (labels < 0)).any(axis=1)
    )
    if bad.any():
        r = int(np.argmax(bad))
        raise ImportFormatError(source, f"graph {r} is not a NAS-Bench-101 cell: {specs[r]!r}")
    return matrix, labels


def _check_hashes(data: NB101Data, rows: np.ndarray, source: str) -> None:
    """Recompute the hash of the graphs ``rows`` from their specs (validating them) and
    compare with the file's."""
    for r in rows.tolist():
        try:
            cell = NB101Cell.from_str(str(data.specs[r]))
        except ValueError as exc:
            raise ImportFormatError(source, f"graph {r} ({data.hashes[r]}): {exc}") from None
        if str(cell) != data.specs[r]:
            raise ImportFormatError(
                source, f"graph {r} ({data.hashes[r]}) is stored unpruned: {data.specs[r]!r}"
            )
        if cell.hash != data.hashes[r]:
            raise ImportFormatError(
                source,
                f"graph {r}: the file's hash {data.hashes[r]} is not NAS-Bench-101's hash of "
                f"its spec {data.specs[r]!r} ({cell.hash}); the file is damaged",
            )


def nb101_table(data: NB101Data, source: str = "NAS-Bench-101") -> TableData:
    """The table of :class:`NB101Data` (protocol and provenance are the caller's)."""
    matrix, labels = _spec_arrays(data.specs, source)
    v = data.values  # (n, budgets, repeats, halfway/final, time/train/valid/test)
    n, n_budgets, n_reps = v.shape[:3]

    def axis(point: int, k: int) -> np.ndarray:  # (n, repeats, budgets)
        return np.ascontiguousarray(v[:, :, :, point, k].transpose(0, 2, 1), dtype=np.float32)

    nan = np.full((n, n_reps, n_budgets), np.nan, dtype=np.float32)
    metrics = {
        "train_loss": nan,
        "valid_loss": nan,
        "test_loss": nan,
        "train_acc": axis(1, 1),
        "valid_acc": axis(1, 2),
        "test_acc": axis(1, 3),
        "train_time_s": axis(1, 0),
        "halfway_train_acc": axis(0, 1),
        "halfway_valid_acc": axis(0, 2),
        "halfway_test_acc": axis(0, 3),
        "halfway_train_time_s": axis(0, 0),
    }
    per_epoch = metrics["train_time_s"] / np.asarray(data.budgets, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        known = np.asarray(np.isfinite(per_epoch).any(axis=1))  # (n, budgets): a run there
        last = np.where(known.any(axis=1), n_budgets - 1 - np.argmax(known[:, ::-1], axis=1), 0)
        pick = per_epoch[np.arange(n), :, last]
        epoch_time = np.full(n, np.nan)
        some = np.isfinite(pick).any(axis=1)
        epoch_time[some] = np.nanmean(pick[some], axis=1)
    return TableData(
        space="nb101",
        dataset="cifar10",
        arch_index=np.arange(n, dtype=np.int64),
        seeds=np.arange(n_reps, dtype=np.int64),
        metrics=metrics,
        cost={
            "params": data.params,
            "flops": np.full(n, np.nan),
            "latency_s": np.full(n, np.nan),
            "train_time_s": epoch_time,
        },
        arch={"hash": data.hashes.astype("S32"), "matrix": matrix, "ops": labels},
        budgets=np.asarray(data.budgets, dtype=np.int64),
    )


def _missing(table: TableData) -> dict[str, int]:
    """``"repeat r at e epochs"`` -> graphs without that run."""
    absent = ~np.isfinite(np.asarray(table.metrics["valid_acc"]))
    out = {}
    for j, e in enumerate(table.epoch_axis.tolist()):
        for r in range(table.n_seeds):
            k = int(absent[:, r, j].sum())
            if k:
                out[f"repeat {r} at {e} epochs"] = k
    return out


def import_nb101(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    check_crc: bool | None = None,
    check_hashes: str | None = None,
    sha256: bool = True,
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> list[ImportReport]:
    """Import a NAS-Bench-101 file into one table.

    Args:
        src: ``nasbench_only108.tfrecord``, ``nasbench_full.tfrecord`` or NASLib's
            ``nasbench_only108.pkl`` (read with the allow-list unpickler).
        out: the table file to write.
        check_crc: verify every TFRecord CRC (default: for files up to 64 MiB); ``True`` on
            NASLib's pickle is refused (it has no CRCs).
        check_hashes: recompute every graph's hash from its spec (``"all"``), those of
            :data:`HASH_SAMPLE` graphs spread over the file (``"sample"``; all of a smaller
            file), or none (``"none"``); default (``None``): all for files up to 64 MiB,
            else a sample.
        sha256: record the file's SHA-256 in the provenance.
        progress: called with the bytes just read (TFRecord files).
        total: called once with the file size in bytes.

    Raises:
        ImportFormatError: an unknown ``check_hashes`` (before the file is read), CRC checks
            asked of a pickle, a missing, truncated or corrupt file (CRC mismatch, a record
            that is not a NAS-Bench-101 row, a hash that does not match its graph).
    """
    started = time.perf_counter()
    path = Path(src)
    if check_hashes not in (None, "all", "sample", "none"):
        raise ImportFormatError(path, f"check_hashes={check_hashes!r}; allowed: all, sample, none")
    size = path.stat().st_size if path.is_file() else 0
    small = size <= CHECK_LIMIT
    crc = small if check_crc is None else bool(check_crc)
    if total:
        total(size)
    data, kind = _read(path, check_crc, progress)
    mode = ("all" if small else "sample") if check_hashes is None else check_hashes
    rows = (
        np.arange(data.n_graphs)
        if mode == "all" or (mode == "sample" and data.n_graphs <= HASH_SAMPLE)
        else np.unique(np.linspace(0, data.n_graphs - 1, HASH_SAMPLE).astype(np.int64))
        if mode == "sample"
        else np.zeros(0, dtype=np.int64)
    )
    table = nb101_table(data, str(path))  # every row checked structurally first
    _check_hashes(data, rows, str(path))
    source = {
        **describe_source(path, BENCHMARK, sha256=sha256),
        "format": kind,
        "records": data.records,
        "crc_checked": crc if kind == "tfrecord" else None,
        "hashes_checked": "all"
        if rows.size == data.n_graphs
        else f"{rows.size} spread"
        if rows.size
        else "none (the file's hashes trusted)",
        "synthetic": data.synthetic,
    }
    return [_write(table, data, out, source, started)]


def _write(
    table: TableData, data: NB101Data, out: Any, source: dict[str, Any], started: float
) -> ImportReport:
    import dataclasses

    budgets = ", ".join(map(str, data.budgets))
    missing = _missing(table)
    coverage = {
        "every metric": f"at {budgets} epochs, each budget a separate run (its halfway "
        "evaluation in metrics/halfway_*)"
    }
    warnings = [] if len(data.budgets) > 1 else [
        f"only the {budgets}-epoch budget is in this file: multi-fidelity strategies need "
        "nasbench_full.tfrecord"
    ]  # fmt: skip
    protocol = {**_PROTOCOL, "epochs": int(data.budgets[-1]), "budgets": list(data.budgets)}
    provenance = {
        **synthetic_mark(source),
        "imported": True,
        "importer": "nb101",
        "source": source,
        "units": {
            "accuracy": "fraction (as the source)",
            "train_time_s": "seconds of each training run (metrics/); seconds per epoch of "
            "the longest budget, repeat mean (cost/)",
            "params": "count",
        },
        "times": {"kind": "per-run", "note": "each budget's own training time"},
        "seeds": "NAS-Bench-101 records no seeds: labels 0, 1, 2 are repeat positions",
        "missing_runs": missing,
        "epoch_coverage": coverage,
        "warnings": warnings,
    }
    table = dataclasses.replace(table, protocol=protocol, provenance=provenance)
    written = write_table(out, table)
    return ImportReport(
        out=written,
        format="nb101",
        source=str(source.get("path")),
        dataset=table.dataset,
        epochs=int(data.budgets[-1]),
        rows=table.n_cells,
        seeds=tuple(int(s) for s in table.seeds),
        missing_runs=missing,
        epoch_coverage=coverage,
        times="per run (each budget a separate training run)",
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
    )
