"""Where the default table lives, and what to say when it is not there."""

from __future__ import annotations

import os
import site
import sysconfig
from pathlib import Path

__all__ = ["DEFAULT_TABLE", "default_table_locations", "default_table_path", "no_default_table"]

DEFAULT_TABLE = "nb201_mnist1d.h5"
"""File name of the default table in ``data/``."""

SHARE = Path("share") / "nasbench-sim"
"""Where a wheel installs ``data/``'s shipped files, under its installation prefix."""


def default_table_locations(
    source_root: Path | None = None, prefixes: tuple[Path, ...] | None = None
) -> tuple[Path, ...]:
    """Where the default table may be: the source tree's ``data/`` (a clone, or ``pip install
    -e .``), then ``share/nasbench-sim/`` under the installation prefix and the user base (a
    wheel: ``pip install .`` or ``pip install --user`` copy ``data/``'s table there, see
    ``[tool.setuptools.data-files]`` in ``pyproject.toml``); :func:`default_table_path` says
    which of them is used.

    Args:
        source_root: the folder above the package (default: where this module is installed).
        prefixes: installation prefixes (default: this interpreter's data prefix and the user
            base).
    """
    root = Path(__file__).resolve().parents[2] if source_root is None else source_root
    if prefixes is None:
        prefixes = (Path(sysconfig.get_path("data")), Path(site.getuserbase()))
    return (root / "data" / DEFAULT_TABLE, *(p / SHARE / DEFAULT_TABLE for p in prefixes))


def default_table_path(locations: tuple[Path, ...] | None = None) -> Path:
    """Where :meth:`Benchmark.load` looks with no argument: ``$NASBENCH_SIM_TABLE`` if set;
    in a source tree (a clone, an editable install), its own ``data/`` only (an editable
    install also copies ``data/``'s table under its prefix, a copy that goes stale when the
    tree's table is rebuilt); else the first of the installation prefixes that holds the
    table, or the first of them when none does."""
    env = os.environ.get("NASBENCH_SIM_TABLE")
    if env:
        return Path(env)
    source, *installed = default_table_locations() if locations is None else locations
    if (source.parents[1] / "pyproject.toml").is_file() or not installed:
        return source
    return next((place for place in installed if place.is_file()), installed[0])


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
