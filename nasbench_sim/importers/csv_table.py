"""Per-architecture CSV / Parquet exports: one row per architecture (or per architecture and
seed), a NAS-Bench-201 string column and metric columns.

Such exports hold final values only, so the table has **one epoch** standing for the whole
training (its real length goes to the protocol when given). Accuracies in percent are detected
(any value above 1) or declared, converted to fractions, and the provenance says which. A
file without a training-time column gives a table without times: it is budgeted in queries
(see ``docs/import.md``).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.errors import CellParseError
from nasbench_sim.importers.errors import ImportFormatError
from nasbench_sim.importers.report import ImportReport, describe_source
from nasbench_sim.space import Cell
from nasbench_sim.table import COST_METRICS, METRICS, TableData, write_table

__all__ = ["ARCH_COLUMNS", "import_csv", "read_frame"]

ARCH_COLUMNS = ("arch", "arch_str", "architecture", "arch_string", "cell")
"""Column names taken as the architecture column when none is given."""

_ACC = ("train_acc", "valid_acc", "test_acc")


def read_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a ``.csv``/``.tsv`` or ``.parquet`` file.

    Raises:
        ImportFormatError: missing, empty, unparsable, or Parquet without pyarrow.
    """
    p = Path(path)
    if not p.is_file():
        raise ImportFormatError(p, "no such file")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            try:
                return pd.read_parquet(p)
            except ImportError as exc:
                raise ImportFormatError(
                    p, f"reading Parquet needs pyarrow: pip install 'nasbench-sim[parquet]' ({exc})"
                ) from None
        return pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",")
    except ImportFormatError:
        raise
    except pd.errors.EmptyDataError:
        raise ImportFormatError(p, "empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise ImportFormatError(
            p, f"not a readable {suffix.lstrip('.') or 'csv'} table ({exc})"
        ) from None


def _column(frame: pd.DataFrame, name: str | None, what: str, source: Path) -> str:
    if name is not None and name in frame.columns:
        return name
    if name is None and what == "architecture":
        for c in ARCH_COLUMNS:
            if c in frame.columns:
                return c
    raise ImportFormatError(
        source,
        f"no {what} column {name!r}; columns are {list(map(str, frame.columns))}"
        if name
        else f"no architecture column (looked for {', '.join(ARCH_COLUMNS)}; pass arch_col / "
        f"--arch-col); columns are {list(map(str, frame.columns))}",
    )


def _mapping(
    frame: pd.DataFrame, metrics: Mapping[str, str] | None, source: Path
) -> dict[str, str]:
    """Our metric name -> column; by default every column named like one of ours."""
    known = set(METRICS) | set(COST_METRICS)
    if metrics is None:
        out = {c: c for c in map(str, frame.columns) if c in known}
    else:
        out = dict(metrics)
        for ours, col in out.items():
            if ours not in known:
                raise ImportFormatError(
                    source,
                    f"unknown metric {ours!r}; metrics are {', '.join(sorted(known))} "
                    "(extra per-cell costs: --cost NAME=COL)",
                )
            _column(frame, col, f"{ours}", source)
    if not any(m in out for m in _ACC):
        raise ImportFormatError(
            source,
            "no accuracy column mapped (give --metric valid_acc=COL and/or test_acc=COL); "
            f"columns are {list(map(str, frame.columns))}",
        )
    return out


def _accuracy_scale(
    frame: pd.DataFrame, cols: Sequence[str], unit: str, source: Path
) -> tuple[float, str]:
    values = np.concatenate(
        [pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64) for c in cols]
    )
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    if unit == "auto":
        unit = "percent" if top > 1.0 else "fraction"
        how = f"detected: {unit} (largest accuracy {top:g})"
    elif unit in ("percent", "fraction"):
        how = f"declared: {unit}"
    else:
        raise ImportFormatError(source, f"accuracy unit {unit!r}; use auto, percent or fraction")
    if unit == "fraction" and top > 1.0:
        raise ImportFormatError(source, f"accuracies declared fractions but one is {top:g}")
    if unit == "percent" and top > 100.0:
        raise ImportFormatError(source, f"accuracies declared percent but one is {top:g}")
    return (0.01 if unit == "percent" else 1.0), how


def _cells(frame: pd.DataFrame, col: str, source: Path) -> np.ndarray:
    out = np.empty(len(frame), dtype=np.int64)
    for k, text in enumerate(frame[col].tolist()):
        if not isinstance(text, str):
            raise ImportFormatError(
                source, f"row {k + 1}: architecture {text!r} is not a NAS-Bench-201 string"
            )
        try:
            out[k] = Cell.from_str(text).index
        except CellParseError as exc:
            raise ImportFormatError(source, f"row {k + 1}: {exc}") from None
    return out


def _layout(
    cells: np.ndarray, seeds: np.ndarray | None, source: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(unique cells, seed labels, row of each line, repeat of each line)."""
    uniq, row = np.unique(cells, return_inverse=True)
    if seeds is None:
        if uniq.shape[0] != cells.shape[0]:
            dup = np.nonzero(np.bincount(row) > 1)[0][0]
            lines = (np.nonzero(row == dup)[0] + 1).tolist()
            raise ImportFormatError(
                source,
                f"architecture {Cell.from_index(int(uniq[dup]))} appears on rows {lines[:5]}; "
                "give seed_col (--seed-col) when rows are repeats",
            )
        return uniq, np.zeros(1, dtype=np.int64), row, np.zeros_like(row)
    labels, rep = np.unique(seeds, return_inverse=True)
    key = row * labels.shape[0] + rep
    if np.unique(key).shape[0] != key.shape[0]:
        raise ImportFormatError(source, "an (architecture, seed) pair appears twice")
    return uniq, labels.astype(np.int64), row, rep


def _numeric(frame: pd.DataFrame, col: str, source: Path) -> np.ndarray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(np.float64)
    bad = frame[col].notna().to_numpy() & ~np.isfinite(values)
    if bad.any():
        k = int(np.nonzero(bad)[0][0])
        raise ImportFormatError(
            source, f"row {k + 1}: column {col!r} holds {frame[col].iloc[k]!r}, not a number"
        )
    return values


def import_csv(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    arch_col: str | None = None,
    metrics: Mapping[str, str] | None = None,
    costs: Mapping[str, str] | None = None,
    seed_col: str | None = None,
    dataset: str | None = None,
    acc_unit: str = "auto",
    epochs_trained: int | None = None,
    sha256: bool = True,
) -> ImportReport:
    """Import a per-architecture CSV or Parquet file into a one-epoch table.

    Args:
        src: the ``.csv``/``.tsv``/``.parquet`` file.
        out: the table to write.
        arch_col: the NAS-Bench-201 string column (default: one of :data:`ARCH_COLUMNS`).
        metrics: our metric name (``valid_acc``, ``test_acc``, ``train_time_s``, ``params``...)
            -> column; default: every column named like one of ours.
        costs: extra per-cell cost vectors: name -> column (e.g. ``energy_mj``).
        seed_col: a column of seed labels when rows are repeats of an architecture.
        dataset: the table's dataset name (default: the file's stem).
        acc_unit: ``auto`` (percent if any accuracy exceeds 1), ``percent`` or ``fraction``.
        epochs_trained: the real training length behind the final values (protocol only).
        sha256: record the file's SHA-256 in the provenance.
    """
    started = time.perf_counter()
    src = Path(src)
    frame = read_frame(src)
    acol = _column(frame, arch_col, "architecture", src)
    mapping = _mapping(frame, metrics, src)
    extra = {k: _column(frame, v, f"cost {k}", src) for k, v in (costs or {}).items()}
    scale, how = _accuracy_scale(frame, [mapping[m] for m in _ACC if m in mapping], acc_unit, src)
    seeds = _numeric(frame, _column(frame, seed_col, "seed", src), src) if seed_col else None
    if seeds is not None and not np.isfinite(seeds).all():
        raise ImportFormatError(src, f"column {seed_col!r} has empty seed labels")
    cells, labels, row, rep = _layout(_cells(frame, acol, src), seeds, src)
    n, s = cells.shape[0], labels.shape[0]
    metric_arrays = {}
    for m in METRICS:
        arr = np.full((n, s, 1), np.nan, dtype=np.float32)
        if m in mapping:
            factor = scale if m.endswith("_acc") else 1.0
            arr[row, rep, 0] = _numeric(frame, mapping[m], src) * factor
        metric_arrays[m] = arr
    columns = [*((c, mapping.get(c)) for c in COST_METRICS), *extra.items()]
    cost = {name: _per_cell(frame, col, row, n, src) for name, col in columns}
    return _write(
        src,
        out,
        frame_facts={"arch": acol, "metrics": mapping, "costs": extra, "seed": seed_col},
        how=how,
        table=TableData(
            space="nb201",
            dataset=dataset or src.stem,
            arch_index=cells,
            seeds=labels,
            metrics=metric_arrays,
            cost=cost,
        ),
        epochs_trained=epochs_trained,
        sha256=sha256,
        started=started,
    )


def _per_cell(
    frame: pd.DataFrame, col: str | None, row: np.ndarray, n: int, source: Path
) -> np.ndarray:
    """A cost column as one value per cell: the mean over the cell's lines (NaN: none)."""
    if col is None:
        return np.full(n, np.nan)
    v = _numeric(frame, col, source)
    sums = np.bincount(row, weights=np.nan_to_num(v), minlength=n)
    counts = np.bincount(row, weights=np.isfinite(v).astype(float), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def _write(
    src: Path,
    out: str | os.PathLike[str],
    *,
    frame_facts: dict[str, Any],
    how: str,
    table: TableData,
    epochs_trained: int | None,
    sha256: bool,
    started: float,
) -> ImportReport:
    """Attach protocol and provenance, write atomically, report."""
    has_times = bool(np.isfinite(table.cost["train_time_s"]).any())
    missing = ~np.isfinite(np.stack([table.metrics[m][:, :, 0] for m in _ACC])).any(axis=0)
    missing_runs = {
        str(int(lab)): int(missing[:, j].sum())
        for j, lab in enumerate(table.seeds)
        if missing[:, j].any()
    }
    warnings = []
    if not has_times:
        warnings.append(
            "no training-time column: the table has no times and is budgeted in queries"
        )
    if not np.isfinite(table.metrics["valid_acc"]).any():
        warnings.append(
            "no validation accuracy: a search sees nothing (map --metric valid_acc=COL)"
        )
    kind = "csv" if src.suffix.lower() not in (".parquet", ".pq") else "parquet"
    protocol = {
        "source_benchmark": f"per-architecture {kind}",
        "dataset": table.dataset,
        "epochs": 1,
        "epochs_trained": epochs_trained,
        "columns": frame_facts,
    }
    provenance = {
        "imported": True,
        "importer": kind,
        "source": describe_source(src, f"per-architecture {kind}", sha256=sha256),
        "units": {
            "accuracy": f"fraction ({how})",
            "epoch axis": "one step: the final values of the whole training",
        },
        "times": {
            "kind": "per-training" if has_times else "absent",
            "note": "train_time_s is the time of the whole training"
            if has_times
            else "no training times: budget in queries",
        },
        "missing_runs": missing_runs,
        "warnings": warnings,
    }
    path = write_table(out, dataclasses.replace(table, protocol=protocol, provenance=provenance))
    return ImportReport(
        out=path,
        format=kind,
        source=str(src),
        dataset=table.dataset,
        epochs=1,
        rows=table.n_cells,
        seeds=tuple(int(x) for x in table.seeds),
        missing_runs=missing_runs,
        epoch_coverage={
            m: "final value" if np.isfinite(table.metrics[m]).any() else "absent" for m in METRICS
        },
        times="per-training" if has_times else "absent",
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
    )
