"""Where the default table lives, and what to say when it is not there."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_TABLE", "default_table_path", "no_default_table"]

DEFAULT_TABLE = "nb201_mnist1d.h5"
"""File name of the default table in ``data/``."""


def default_table_path() -> Path:
    """Where :meth:`Benchmark.load` looks with no argument: ``$NASBENCH_SIM_TABLE`` if set,
    else ``data/nb201_mnist1d.h5`` in the source tree."""
    env = os.environ.get("NASBENCH_SIM_TABLE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data" / DEFAULT_TABLE


def no_default_table(path: Path) -> str:
    """Why the default table cannot be opened, and what to use instead."""
    text = f"the default table {path} is not there: no default table has been built and shipped yet"
    parts = path.with_name(path.name + ".parts")
    if parts.is_dir():
        n = len(list(parts.glob("chunk-*.npz")))
        text += (
            f"; its build is in progress in {parts} ({n} chunks committed): search the cells "
            f"trained so far with --table {path} (Python: nasbench_sim.open({str(path)!r}))"
        )
    return (
        text + ". Pass a table path (CLI: --table T.h5), or use the clearly labelled synthetic "
        "stand-in (CLI: --table synthetic; Python: nasbench_sim.open('synthetic'))."
    )
