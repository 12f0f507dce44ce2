"""Saving and loading run logs as HDF5: one compressed dataset per column.

Readable without nasbench-sim::

    import h5py, pandas as pd
    with h5py.File("runs.h5") as f:
        g = f["runs"]
        runs = pd.DataFrame({k: g[k].asstr()[...] if g[k].dtype.kind == "O" else g[k][...]
                             for k in g})
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from nasbench_sim.atomic import atomic_path
from nasbench_sim.errors import NasBenchSimError

__all__ = ["RUNS_FORMAT", "RunsFileError", "read_runs", "write_runs"]

RUNS_FORMAT = "nasbench-sim-runs"
RUNS_VERSION = 1


class RunsFileError(NasBenchSimError, ValueError):
    """A file is not a runs file written by :func:`write_runs`."""


def write_runs(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    attrs: Mapping[str, str | bool | float | int] | None = None,
) -> Path:
    """Write ``frame`` (query logs with any columns) to ``path`` atomically, with ``attrs``
    (e.g. the source the runs were replayed on) as file attributes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = RUNS_FORMAT
        f.attrs["version"] = RUNS_VERSION
        for key, value in (attrs or {}).items():
            f.attrs[key] = value
        g = f.create_group("runs")
        for name in frame.columns:
            col = frame[name]
            if col.dtype.kind in "biuf":
                data = col.to_numpy()
                g.create_dataset(name, data=data, compression="gzip", shuffle=True)
            else:
                data = col.astype(str).to_numpy(dtype=object)
                g.create_dataset(name, data=data, dtype=h5py.string_dtype(), compression="gzip")
        g.attrs["columns"] = list(frame.columns)
    return path


def read_runs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a file written by :func:`write_runs` (columns in their original order)."""
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise RunsFileError(f"{path}: not a readable HDF5 runs file ({exc})") from None
    with f:
        if f.attrs.get("format") != RUNS_FORMAT or "runs" not in f:
            raise RunsFileError(f"{path}: not a {RUNS_FORMAT} file")
        g = f["runs"]
        cols = [str(c) for c in g.attrs["columns"]]
        data = {}
        for c in cols:
            ds = g[c]
            data[c] = ds.asstr()[...] if ds.dtype.kind == "O" else np.asarray(ds[...])
    return pd.DataFrame(data, columns=cols)
