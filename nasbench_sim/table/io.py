"""Reading, writing and validating table files (HDF5).

The layout is documented in ``docs/table_schema.md``; it can be read with plain h5py::

    import h5py
    with h5py.File("table.h5") as f:
        valid = f["metrics/valid_acc"][...]        # (n_cells, n_seeds, n_epochs)
        archs = f["arch/string"].asstr()[...]      # NAS-Bench-201 strings

Every dataset is written with HDF5's Fletcher-32 checksum, which HDF5 verifies on reading, and
every value read is range-checked (:mod:`nasbench_sim.table.ranges`): a damaged table raises
:class:`~nasbench_sim.errors.TableError` naming the dataset instead of being served.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import platform
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from nasbench_sim.atomic import atomic_path
from nasbench_sim.errors import TableError
from nasbench_sim.space import SearchSpace
from nasbench_sim.table.data import TableData
from nasbench_sim.table.schema import (
    COST_METRICS,
    FORMAT_NAME,
    METRICS,
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
)

__all__ = ["TableData", "read_table", "software_versions", "table_to_frame", "write_table"]


def software_versions() -> dict[str, str]:
    """Versions of the libraries that shape a table, for its provenance."""
    from nasbench_sim._version import __version__

    out = {
        "nasbench_sim": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "h5py": h5py.__version__,
    }
    try:  # torch is optional; record it only when the caller already imported it
        import sys

        torch = sys.modules.get("torch")
        if torch is not None:
            out["torch"] = str(torch.__version__)
    except Exception:  # pragma: no cover - defensive
        pass
    return out


def write_table(path: str | os.PathLike[str], table: TableData, *, checksums: bool = True) -> Path:
    """Validate and write ``table`` to ``path`` atomically (temp file, then rename).

    A crash during the write leaves any previous file at ``path`` untouched.

    Args:
        path: the table file to write.
        table: the table; :meth:`TableData.validate` runs first (names, shapes, ranges).
        checksums: store every dataset with HDF5's Fletcher-32 checksum filter (chunked
            storage, fixed-length cell strings), so that any HDF5 reader, this package's
            included, refuses damaged data instead of serving it. ``False`` writes the
            layout of tables made before checksums (contiguous, variable-length strings).

    Raises:
        TableError: the table does not follow the schema.
    """
    table.validate()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    space = table.arch_space
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT_NAME
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["space"] = table.space
        f.attrs["dataset"] = table.dataset
        f.attrs["n_cells"] = table.n_cells
        f.attrs["n_seeds"] = table.n_seeds
        f.attrs["n_epochs"] = table.n_epochs
        f.attrs["protocol"] = json.dumps(dict(table.protocol), sort_keys=True)
        prov = {"software": software_versions(), "machine": platform.platform()}
        prov.update(dict(table.provenance))
        f.attrs["provenance"] = json.dumps(prov, sort_keys=True, default=str)
        f.attrs["created"] = table.created or _dt.datetime.now(_dt.UTC).isoformat()
        put = functools.partial(_put, checksums=checksums)
        put(f, "arch/index", table.arch_index.astype(np.int64))
        put(f, "arch/string", _cell_strings(space, table.arch_index, fixed=checksums))
        put(f, "arch/class_id", space.class_ids()[table.arch_index].astype(np.int64))
        for name, arr in space.table_arrays(table.arch_index).items():
            put(f, f"arch/{name}", np.asarray(arr))
        put(f, "seeds", table.seeds.astype(np.int64))
        if table.budgets is not None:
            put(f, "budgets", np.asarray(table.budgets, dtype=np.int64))
        for name, arr in table.metrics.items():
            put(f, f"metrics/{name}", np.asarray(arr, dtype=np.float32))
        for name, arr in table.cost.items():
            put(f, f"cost/{name}", np.asarray(arr, dtype=np.float64))
    return path


_CHUNK_BYTES = 1 << 20
"""Target chunk size: whole rows, about 1 MiB (a table reads whole datasets; few large chunks
read several times faster than h5py's default of many small ones)."""


def _chunks(data: np.ndarray) -> tuple[int, ...]:
    """Chunks of whole rows (every axis but the first complete), about 1 MiB each."""
    row = max(1, int(data.itemsize * np.prod(data.shape[1:], dtype=np.int64)))
    rows = int(min(data.shape[0], max(1, _CHUNK_BYTES // row)))
    return (rows, *data.shape[1:])


def _put(f: h5py.File, name: str, data: np.ndarray, *, checksums: bool) -> None:
    """Write one dataset, with the Fletcher-32 filter when asked (and the data is not empty)."""
    if data.dtype == object:  # variable-length strings: HDF5 filters cannot apply
        f.create_dataset(name, data=data, dtype=h5py.string_dtype())
    elif checksums and data.size:
        f.create_dataset(name, data=data, fletcher32=True, chunks=_chunks(data))
    else:
        f.create_dataset(name, data=data)


def _cell_strings(space: SearchSpace, index: np.ndarray, *, fixed: bool) -> np.ndarray:
    """The cells' string forms: fixed-length UTF-8 bytes (filterable) or Python strings."""
    strings = space.strings(index)
    if not fixed:
        return np.array(strings, dtype=object)
    encoded = [s.encode() for s in strings]
    width = max((len(b) for b in encoded), default=1) or 1
    return np.array(encoded, dtype=h5py.string_dtype("utf-8", length=width))


def _attr_str(f: h5py.File, name: str, source: str) -> str:
    if name not in f.attrs:
        raise TableError(f"{source}: missing file attribute {name!r}")
    value = f.attrs[name]
    return value.decode() if isinstance(value, bytes) else str(value)


def _dataset(f: h5py.File, name: str, source: str) -> np.ndarray:
    if name not in f or not isinstance(f[name], h5py.Dataset):
        raise TableError(f"{source}: missing dataset {name}")
    dset = f[name]
    try:
        return np.asarray(dset[...])
    except (OSError, ValueError) as exc:  # a failed checksum, truncated or corrupt storage
        if dset.fletcher32:
            raise TableError(
                f"{source}: dataset {name} is damaged: its stored checksum (Fletcher-32) does "
                "not match its data; rebuild or re-copy the table"
            ) from None
        raise TableError(f"{source}: dataset {name} cannot be read ({exc})") from None


def _open(path: Path, source: str) -> h5py.File:
    """The file opened for reading, or :class:`TableError` saying why it is not a table."""
    if not path.exists():
        raise TableError(f"{source}: no such table file")
    if path.is_dir():
        raise TableError(f"{source}: is a directory, not a table file")
    try:
        is_h5 = h5py.is_hdf5(path)
    except OSError:
        is_h5 = False
    if not is_h5:
        raise TableError(f"{source}: not an HDF5 file (a nasbench-sim table is HDF5)")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise TableError(f"{source}: cannot open as HDF5, truncated or corrupt? ({exc})") from None


def _check_format(f: h5py.File, source: str) -> None:
    fmt = _attr_str(f, "format", source)
    if fmt != FORMAT_NAME:
        raise TableError(f"{source}: format attribute is {fmt!r}, expected {FORMAT_NAME!r}")
    version = int(f.attrs.get("schema_version", -1))
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise TableError(
            f"{source}: unknown schema version {version}; this nasbench-sim reads "
            f"{', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}"
        )


_ARCH_CORE = {"index", "string", "class_id"}


def _contents(f: h5py.File, source: str) -> TableData:
    """Every part of the table the schema names (unvalidated)."""
    _check_format(f, source)
    try:
        protocol = json.loads(_attr_str(f, "protocol", source))
        provenance = json.loads(_attr_str(f, "provenance", source))
    except json.JSONDecodeError as exc:
        raise TableError(f"{source}: protocol/provenance attribute is not JSON ({exc})") from None
    metric_names = list(f["metrics"].keys()) if "metrics" in f else []
    cost_names = list(f["cost"].keys()) if "cost" in f else []
    extra_arch = sorted(set(f["arch"].keys()) - _ARCH_CORE) if "arch" in f else []
    return TableData(
        space=_attr_str(f, "space", source),
        dataset=_attr_str(f, "dataset", source),
        arch_index=_dataset(f, "arch/index", source).astype(np.int64, copy=False),
        seeds=_dataset(f, "seeds", source).astype(np.int64),
        metrics={
            n: _dataset(f, f"metrics/{n}", source) for n in sorted(set(metric_names) | set(METRICS))
        },
        cost={
            n: _dataset(f, f"cost/{n}", source) for n in sorted(set(cost_names) | set(COST_METRICS))
        },
        protocol=protocol,
        provenance=provenance,
        created=_attr_str(f, "created", source),
        arch={n: _dataset(f, f"arch/{n}", source) for n in extra_arch},
        budgets=_dataset(f, "budgets", source).astype(np.int64) if "budgets" in f else None,
    )


def read_table(path: str | os.PathLike[str]) -> TableData:
    """Read and validate a table file.

    Datasets written with checksums (every table :func:`write_table` writes) are verified by
    HDF5 as they are read; tables from before checksums load without that check. Every value
    is then range-checked (:mod:`nasbench_sim.table.ranges`). The table returned remembers that
    it was validated (:meth:`TableData.ensure_valid` does not check it again), and its arrays
    are read-only: change a table with :func:`dataclasses.replace` (copying the arrays you
    edit), which makes a new table that is validated again.

    Raises:
        TableError: the file is missing, not HDF5, truncated, of an unknown schema version,
            or lacks a dataset or attribute, or a dataset has the wrong shape, fails its
            checksum, or holds a value out of range. The message names the dataset.
    """
    path = Path(path)
    source = str(path)
    with _open(path, source) as f:
        try:
            table = _contents(f, source)
        except TableError:
            raise
        except (OSError, KeyError, RuntimeError, ValueError, TypeError) as exc:
            # damaged metadata (group or attribute headers) surfaces from h5py in many forms
            raise TableError(f"{source}: the file's structure is damaged ({exc})") from None
    table._validated_on_read(source)  # TabularBenchmark does not check it a second time
    return table


def table_to_frame(table: TableData, metrics: tuple[str, ...] = METRICS) -> pd.DataFrame:
    """Long-format DataFrame: one row per (cell, seed, epoch) with the chosen metrics."""
    n, s, e = table.metrics["valid_acc"].shape
    arch = np.array(table.arch_space.strings(table.arch_index), dtype=object)
    frame = pd.DataFrame(
        {
            "arch_index": np.repeat(table.arch_index, s * e),
            "arch": np.repeat(arch, s * e),
            "seed": np.tile(np.repeat(table.seeds, e), n),
            "epoch": np.tile(table.epoch_axis, n * s),
        }
    )
    for name in metrics:
        frame[name] = np.asarray(table.metrics[name]).reshape(-1)
    return frame
